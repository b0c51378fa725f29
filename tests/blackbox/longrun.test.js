'use strict';
// What a server that runs for months must not do: let the tally notifier's
// queue of its own notifications grow with every ballot, or stop answering
// because the reader of its stderr (journald) stalls.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, sleep, UUID_RE } = require('./lib/harness');

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
  const tokens = ids.map(() => crypto.randomBytes(32).toString('base64url'));
  const rows = ids.map((id, i) => {
    const hash = crypto.createHash('sha256').update(tokens[i]).digest('hex');
    return `('${id}', decode('${hash}', 'hex'), now() + interval '1 day')`;
  });
  await srv.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at) VALUES ${rows.join(',')}`);
  return tokens;
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
