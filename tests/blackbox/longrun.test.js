'use strict';
// What a server that runs for months must not do: let the tally notifier's
// queue of its own notifications grow with every ballot, or stop answering
// because the reader of its stderr (journald) stalls.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, sleep, sessionsFor, UUID_RE } = require('./lib/harness');

let srv;
before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.stop(); });

const HOUR = 3600 * 1000;

async function gauge(s, name) {
  const r = await s.request('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  const m = r.text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

// `count` members with sessions, made in the database directly.
async function members(count) {
  const tag = crypto.randomBytes(4).toString('hex');
  const ids = (await srv.psql(
    `WITH p AS (INSERT INTO patrons (email)
                SELECT 'lr-' || g || '-${tag}@example.org' FROM generate_series(1, ${count}) g
                RETURNING id)
     INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
     SELECT id, 500, 'USD', 'month', 'manual', 'active', now() FROM p RETURNING patron_id`,
  )).split('\n').filter((l) => UUID_RE.test(l));
  assert.equal(ids.length, count);
  return sessionsFor(srv, ids);
}

// Runs `total` calls of fn(i), `width` at a time.
async function pool(total, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < total) await fn(next++);
  }));
}

test('1 000 ballots leave no notifications queued on the notifier connection', async () => {
  const topicIds = [];
  for (let i = 0; i < 3; i++) {
    const t = await srv.post('/v1/topics', { title: `Long run ${i}` });
    assert.equal(t.status, 201, t.text);
    topicIds.push(t.json.id);
  }
  const round = await srv.post('/v1/rounds', {
    title: 'Long run', topic_ids: topicIds,
    opens_at: new Date(Date.now() - 60000).toISOString(),
    closes_at: new Date(Date.now() + HOUR).toISOString(),
  });
  assert.equal(round.status, 201, round.text);
  const tokens = await members(100);

  await pool(1000, 8, async (i) => {
    const r = await srv.request('PUT', `/v1/rounds/${round.json.id}/ballot`, {
      key: tokens[i % tokens.length], body: { topic_ids: [topicIds[i % topicIds.length]] },
      openapi: false,
    });
    assert.equal(r.status, 200, r.text);
  });

  // the last announcement may still be on its way back
  let undrained;
  for (let i = 0; i < 50; i++) {
    undrained = await gauge(srv, 'patrond_tally_notify_undrained');
    if (undrained === 0) break;
    await sleep(200);
  }
  assert.equal(undrained, 0, 'own notifications left in libpq\'s queue after 1 000 ballots');
});

test('a stalled stderr reader: requests are still answered, access lines are dropped and counted', async () => {
  const s = await startServer({ env: { PATROND_STRIPE_WEBHOOK_SECRET: 'whsec_longrun' } });
  try {
    s.pauseStderr();
    // ~1 KB access lines: far more than the pipe (64 KiB) and the buffer hold
    const long = '/stall-' + 'x'.repeat(900);
    const slowest = { ms: 0 };
    await pool(3000, 8, async (i) => {
      const t0 = Date.now();
      const r = i % 10 === 0
        ? await s.request('GET', '/healthz', { timeout: 20000, openapi: false })
        : await s.request('GET', `${long}-${i}`, { timeout: 20000, openapi: false });
      assert.equal(r.status, i % 10 === 0 ? 200 : 404, r.text);
      slowest.ms = Math.max(slowest.ms, Date.now() - t0);
    });
    // generous: the ASan build on two shared cores is slow, a frozen server is not
    assert.ok(slowest.ms < 10000, `slowest request took ${slowest.ms} ms while stderr stalled`);
    assert.ok(await gauge(s, 'patrond_log_dropped_total') > 0, 'dropped access lines are counted');

    // a warning still finds room while access lines are being dropped
    const hook = await s.request('POST', '/v1/webhooks/stripe', {
      body: '{}', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': 't=1,v1=00' },
      timeout: 20000, openapi: false,
    });
    assert.equal(hook.status, 401, hook.text);
    s.resumeStderr();
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      seen = /"level":"warn"[^\n]*webhook from stripe rejected/.test(s.stderr);
      if (!seen) await sleep(100);
    }
    assert.ok(seen, 'the warning reached stderr once the reader resumed');
    for (const line of s.stderr.split('\n').slice(0, -1)) {
      assert.doesNotThrow(() => JSON.parse(line), `a whole JSON line: ${line.slice(0, 200)}`);
    }
  } finally {
    s.resumeStderr();
    await s.stop();
  }
});

test('housekeeping removes finished inbox and outbox rows past their retention, and only those', async () => {
  const who = (await srv.post('/v1/patrons', { email: `keep-${crypto.randomBytes(4).toString('hex')}@example.org` })).json.id;
  const tag = crypto.randomBytes(4).toString('hex');
  const hash = (s) => `sha256('${tag}-${s}'::bytea)`;
  await srv.psql(`
    INSERT INTO sessions (patron_id, token_hash, created_at, expires_at, revoked_at) VALUES
      ('${who}', ${hash('s-expired')}, now() - interval '40 days', now() - interval '8 days', NULL),
      ('${who}', ${hash('s-revoked')}, now() - interval '20 days', now() + interval '10 days', now() - interval '8 days'),
      ('${who}', ${hash('s-recent')}, now() - interval '25 days', now() - interval '1 day', NULL),
      ('${who}', ${hash('s-live')}, now(), now() + interval '30 days', NULL);
    INSERT INTO magic_links (patron_id, token_hash, created_at, expires_at) VALUES
      ('${who}', ${hash('m-old')}, now() - interval '2 days', now() - interval '2 days' + interval '15 minutes'),
      ('${who}', ${hash('m-new')}, now() - interval '1 hour', now() - interval '45 minutes');
    INSERT INTO outbox (patron_id, kind, subject, body, created_at, sent_at, next_attempt_at) VALUES
      ('${who}', '${tag}-sent-old', 's', 'b', now() - interval '31 days', now() - interval '31 days', now()),
      ('${who}', '${tag}-given-up', 's', 'b', now() - interval '31 days', NULL, 'infinity'),
      ('${who}', '${tag}-retrying', 's', 'b', now() - interval '31 days', NULL, now() + interval '1 hour'),
      ('${who}', '${tag}-sent-new', 's', 'b', now() - interval '29 days', now() - interval '29 days', now());
    INSERT INTO webhook_events (provider, event_key, payload, status, received_at) VALUES
      ('stripe', '${tag}-applied-old', '{}', 'applied', now() - interval '91 days'),
      ('stripe', '${tag}-failed-old', '{}', 'failed', now() - interval '91 days'),
      ('stripe', '${tag}-received-old', '{}', 'received', now() - interval '91 days'),
      ('stripe', '${tag}-applied-new', '{}', 'applied', now() - interval '89 days');`);

  const left = async () => srv.psql(`
    SELECT (SELECT string_agg(encode(token_hash, 'hex'), ',' ORDER BY created_at) FROM sessions WHERE patron_id = '${who}')
      || '|' || (SELECT count(*) FROM magic_links WHERE patron_id = '${who}')
      || '|' || (SELECT string_agg(kind, ',' ORDER BY kind) FROM outbox WHERE kind LIKE '${tag}-%')
      || '|' || (SELECT string_agg(event_key, ',' ORDER BY event_key) FROM webhook_events WHERE event_key LIKE '${tag}-%')`);
  const hex = (s) => crypto.createHash('sha256').update(`${tag}-${s}`).digest('hex');
  const want = [`${hex('s-recent')},${hex('s-live')}`, '1',
    `${tag}-retrying,${tag}-sent-new`, `${tag}-applied-new,${tag}-received-old`].join('|');

  // a second instance runs its jobs, housekeeping included, as it starts
  const other = await startServer({ dbName: srv.dbName, dbUrl: srv.dbUrl, skipMigrate: true });
  try {
    let now;
    for (let i = 0; i < 100 && now !== want; i++) {
      now = await left();
      if (now !== want) await sleep(100);
    }
    assert.equal(now, want);
  } finally {
    await other.stop();
  }
});
