'use strict';
// Faults (issue 6): patrond killed with SIGKILL under load and restarted on
// the same database; PostgreSQL restarted under load; idle and slowloris
// connections. What a client was told (a 2xx) must be what the database
// holds, nothing may be doubled, and the server must neither crash nor
// answer anything but 503 problem+json while its database is away.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const {
  startServer, createDatabase, dropDatabase, conninfo, run, ROOT, PSQL, lastLine, sleep, uniqueEmail,
  assertProblem, UUID_RE,
} = require('./lib/harness');
const { sendStripe, stripeEvent } = require('./lib/webhooks');

const STRIPE_SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const HOUR = 3600 * 1000;
const iso = (msFromNow) => new Date(Date.now() + msFromNow).toISOString();
// under valgrind (make valgrind) everything is slower; the 5 s bound grows with it
const SLOW = Number(process.env.PATROND_TEST_SLOWDOWN) || 1;
const rid = (prefix) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;

const servers = [];
const databases = [];
let pgDir = null;

after(async () => {
  const errors = [];
  for (const s of servers.reverse()) await s.stop().catch((e) => errors.push(e));
  for (const db of databases) await dropDatabase(db);
  if (pgDir) {
    await run('bash', [path.join(ROOT, 'scripts', 'pg.sh'), 'stop', pgDir], { timeout: 60000 });
    fs.rmSync(pgDir, { recursive: true, force: true });
  }
  if (errors.length) throw errors[0];
});

async function track(promise) {
  const s = await promise;
  servers.push(s);
  return s;
}

// Members with sessions, made directly (the server keeps the token's SHA-256).
async function bulkMembers(srv, count) {
  const tag = crypto.randomBytes(4).toString('hex');
  const ids = (await srv.psql(
    `WITH p AS (INSERT INTO patrons (email)
                SELECT 'fault-' || g || '-${tag}@example.org' FROM generate_series(1, ${count}) g
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
  return ids.map((id, i) => ({ id, token: tokens[i] }));
}

async function openRound(srv, topicCount) {
  const ids = [];
  for (let i = 0; i < topicCount; i++) {
    const t = await srv.post('/v1/topics', { title: `Fault topic ${i}` });
    assert.equal(t.status, 201, t.text);
    ids.push(t.json.id);
  }
  const r = await srv.post('/v1/rounds', {
    title: 'Under fire', topic_ids: ids, opens_at: iso(-60000), closes_at: iso(HOUR), max_choices: 3,
  });
  assert.equal(r.status, 201, r.text);
  return { round: r.json.id, topics: ids };
}

function invoice(email, sub, cus, id) {
  return {
    id, object: 'invoice', customer: cus, customer_email: email, amount_paid: 700, amount_due: 700,
    currency: 'usd', billing_reason: 'subscription_cycle', attempt_count: 1,
    parent: { subscription_details: { subscription: sub } },
    lines: { data: [{ period: { end: Math.floor(Date.now() / 1000) + 30 * 86400 },
      price: { recurring: { interval: 'month', interval_count: 1 } } }] },
  };
}

// The tally the server shows equals a recount from the ballots table.
async function assertTallyIsRecount(srv, roundId) {
  const t = await srv.request('GET', `/v1/rounds/${roundId}/tally`);
  assert.equal(t.status, 200, t.text);
  const recount = Object.fromEntries((await srv.psqlJson(
    `SELECT json_build_object('topic_id', t, 'votes', count(*), 'weight', sum(b.weight))
       FROM ballots b, unnest(b.topic_ids) t WHERE b.round_id = '${roundId}' GROUP BY t`))
    .map((x) => [x.topic_id, x]));
  const [voters, weight] = (await srv.psql(
    `SELECT count(*), coalesce(sum(weight), 0) FROM ballots WHERE round_id = '${roundId}'`)).split('|').map(Number);
  assert.equal(t.json.voters, voters, 'voters = ballots');
  assert.equal(t.json.total_weight, weight, 'total_weight = sum of ballot weights');
  for (const x of t.json.topics) {
    assert.equal(x.votes, recount[x.topic_id] ? recount[x.topic_id].votes : 0, `votes of ${x.topic_id}`);
    assert.equal(x.weight, recount[x.topic_id] ? recount[x.topic_id].weight : 0, `weight of ${x.topic_id}`);
  }
  return t.json;
}

test('SIGTERM under load: what was started is answered, the rest refused untouched, exit 0', async (t) => {
  const srv = await startServer({ keepDb: true });
  databases.push(srv.dbName);
  const tag = crypto.randomBytes(4).toString('hex');
  const outcomes = [];
  const inflight = [];
  for (let i = 0; i < 80; i++) {
    inflight.push(srv.post('/v1/patrons', { email: `drain-${i}-${tag}@example.org`, name: `Drain ${i}` })
      .then((r) => outcomes.push(r), (e) => outcomes.push({ error: e.code || e.message })));
  }
  // stop once the first answers are out, with the others still in flight
  while (outcomes.length < 5) await sleep(1);
  const stopping = srv.stop(); // rejects unless patrond exits 0 within 10 s of SIGTERM
  await Promise.all(inflight);
  await stopping;
  const created = outcomes.filter((o) => o.status === 201).length;
  const tally = {};
  for (const o of outcomes) tally[o.status || o.error] = (tally[o.status || o.error] || 0) + 1;
  t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
  for (const o of outcomes) {
    if (o.error) continue; // not accepted before the listening socket closed, or cut off unread
    assert.ok(o.status === 201 || o.status === 503, `a 201 or a 503 while stopping, not ${o.status} ${o.text}`);
    if (o.status === 503) assertProblem(assert, o, 503);
  }
  const stored = Number(await srv.psql(`SELECT count(*) FROM patrons WHERE email LIKE 'drain-%-${tag}@example.org'`));
  assert.ok(created > 0, `some requests were answered before the stop (${JSON.stringify(outcomes.map((o) => o.status || o.error))})`);
  assert.equal(stored, created, 'every stored patron was acknowledged with a 201, and every 201 is stored');
});

// Holds a row lock from a psql session until release() is called.
async function holdRowLock(dbUrl, table, id) {
  const ps = spawn(PSQL, ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  ps.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => ps.on('exit', resolve));
  ps.stdin.write(`BEGIN;\nSELECT 'locked' FROM ${table} WHERE id = '${id}' FOR UPDATE;\n`);
  const deadline = Date.now() + 10000 * SLOW;
  while (!out.includes('locked')) {
    if (Date.now() > deadline) throw new Error('psql never took the row lock');
    await sleep(20);
  }
  return { release: async () => { ps.stdin.end('ROLLBACK;\n'); await exited; } };
}

test('SIGTERM while a request waits on the database: it completes; a new request on an open connection gets 503', async () => {
  const srv = await startServer({ keepDb: true });
  databases.push(srv.dbName);
  const patron = (await srv.post('/v1/patrons', { email: uniqueEmail('drain'), name: 'Before' })).json;
  // a keep-alive connection, opened and used before the stop
  const conn = await rawConnection(srv.port);
  const get = `GET /v1/tiers HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  conn.sock.write(get);
  while (!/\r\n\r\n/.test(conn.data)) await sleep(10);
  assert.match(conn.data, /^HTTP\/1\.1 200 /);
  const lock = await holdRowLock(srv.dbUrl, 'patrons', patron.id);
  const waiting = srv.patch(`/v1/patrons/${patron.id}`, { name: 'After' }, { timeout: 30000 * SLOW });
  await sleep(300 * SLOW); // the PATCH is now blocked in a database thread
  conn.data = '';
  const stopping = srv.stop();
  await sleep(300 * SLOW); // patrond has stopped accepting and waits for the PATCH
  conn.sock.write(get);
  const deadline = Date.now() + 5000 * SLOW;
  while (!conn.closedAt && Date.now() < deadline) await sleep(10);
  const [head, body] = conn.data.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 503 /, `a new request while stopping: ${conn.data}`);
  assert.match(head, /\r\nRetry-After: \d+/i);
  assert.match(head, /\r\nConnection: close/i);
  assert.match(head, /\r\nContent-Type: application\/problem\+json/i);
  assert.equal(JSON.parse(body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n$/g, '')).status, 503);
  assert.ok(conn.closedAt, 'the connection is closed after the 503');
  assert.equal(srv.exit, null, 'patrond still waits for the request in progress');
  await lock.release();
  const done = await waiting;
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.name, 'After');
  await stopping; // exit 0
  assert.equal(await srv.psql(`SELECT name FROM patrons WHERE id = '${patron.id}'`), 'After');
});

test('kill -9 under a load of ballots and Stripe webhooks: every 2xx survives, nothing doubles', async (t) => {
  const dbName = await createDatabase();
  databases.push(dbName);
  const dbUrl = conninfo(dbName);
  const env = { PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_SECRET };
  const first = await track(startServer({ dbName, dbUrl, env }));
  const { round, topics } = await openRound(first, 6);
  const members = await bulkMembers(first, 40);

  // Each member votes in sequence, so at most one of its requests is in
  // flight when the process dies; attempts[] keeps their order.
  const attempts = new Map(members.map((m) => [m.id, []]));
  const events = []; // {id, invoice, body, acked}
  let stop = false;
  const transportErrors = [];
  const statuses = {};
  const count = (s) => { statuses[s] = (statuses[s] || 0) + 1; };

  const voter = async (m, n) => {
    for (let i = 0; !stop; i++) {
      const del = (n + i) % 7 === 6;
      const choice = del ? null : topics.filter((_, k) => (n * 5 + i * 3 + k) % 4 === 0).slice(0, 3);
      const a = { choice: del ? null : (choice.length ? choice : [topics[(n + i) % topics.length]]), acked: false };
      attempts.get(m.id).push(a);
      try {
        const res = del
          ? await first.request('DELETE', `/v1/rounds/${round}/ballot`, { key: m.token })
          : await first.request('PUT', `/v1/rounds/${round}/ballot`, { key: m.token, body: { topic_ids: a.choice } });
        count(res.status);
        // 404 on DELETE: there was no ballot, which is also the state now
        a.acked = (res.status >= 200 && res.status < 300) || (del && res.status === 404);
        if (!a.acked) assert.ok(res.status < 500, `ballot → ${res.status} ${res.text}`);
      } catch (e) {
        transportErrors.push(e.message);
        return; // the process is gone
      }
    }
  };
  const webhookSender = async (n) => {
    const email = uniqueEmail(`killwh${n}`), sub = rid('sub'), cus = rid('cus');
    while (!stop) {
      const inv = rid('in');
      const body = stripeEvent('invoice.paid', invoice(email, sub, cus, inv));
      const e = { id: JSON.parse(body).id, invoice: inv, body, acked: false };
      events.push(e);
      try {
        const res = await sendStripe(first, body, { secret: STRIPE_SECRET });
        count(res.status);
        e.acked = res.status === 200;
        if (!e.acked) assert.ok(res.status < 500, `webhook → ${res.status} ${res.text}`);
      } catch (err) {
        transportErrors.push(err.message);
        return;
      }
    }
  };

  const load = Promise.all([...members.map(voter), ...Array.from({ length: 8 }, (_, n) => webhookSender(n))]);
  // kill only once a fair amount has been acknowledged
  const deadline = Date.now() + 60000;
  const acked = () => [...attempts.values()].flat().filter((a) => a.acked).length + events.filter((e) => e.acked).length;
  while (acked() < 400 && Date.now() < deadline) await sleep(20);
  assert.ok(acked() >= 400, `load was acknowledged before the kill (${acked()} 2xx, statuses ${JSON.stringify(statuses)})`);
  await first.kill('SIGKILL');
  stop = true;
  await load;
  assert.equal(first.exit.signal, 'SIGKILL');
  assert.ok(transportErrors.length > 0, 'some requests were cut off by the kill');
  t.diagnostic(`before the kill: ${JSON.stringify(statuses)}, ${transportErrors.length} cut off`);

  const second = await track(startServer({
    dbName, dbUrl, env, skipMigrate: true, adminKey: first.adminKey, readKey: first.readKey,
  }));

  // ballots: the last acknowledged request, or a later one that landed unanswered
  const stored = Object.fromEntries((await second.psqlJson(
    `SELECT json_build_object('id', patron_id, 'ids', topic_ids) FROM ballots WHERE round_id = '${round}'`))
    .map((b) => [b.id, b.ids]));
  let checkedMembers = 0;
  for (const m of members) {
    const list = attempts.get(m.id);
    let lastAcked = -1;
    list.forEach((a, i) => { if (a.acked) lastAcked = i; });
    const allowed = (lastAcked < 0 ? [{ choice: null }, ...list] : list.slice(lastAcked)).map((a) => a.choice);
    const got = stored[m.id] || null;
    assert.ok(allowed.some((c) => JSON.stringify(c) === JSON.stringify(got)),
      `member ${m.id}: stored ${JSON.stringify(got)}, last acknowledged ${JSON.stringify(list[lastAcked]?.choice)}` +
      ` (${list.length - lastAcked - 1} unanswered after it)`);
    if (lastAcked >= 0) checkedMembers++;
  }
  assert.ok(checkedMembers > 0, 'some members had an acknowledged ballot');
  await assertTallyIsRecount(second, round);

  // webhooks: each acknowledged event recorded and applied once, unanswered ones at most once
  const rows = Object.fromEntries((await second.psqlJson(
    `SELECT json_build_object('key', e.event_key, 'n', count(*), 'status', min(e.status))
       FROM webhook_events e WHERE provider = 'stripe' GROUP BY e.event_key`)).map((r) => [r.key, r]));
  const payments = Object.fromEntries((await second.psqlJson(
    `SELECT json_build_object('id', provider_payment_id, 'n', count(*)) FROM payments
      WHERE provider = 'stripe' GROUP BY provider_payment_id`)).map((r) => [r.id, r.n]));
  const ackedEvents = events.filter((e) => e.acked);
  assert.ok(ackedEvents.length > 0, 'some webhooks were acknowledged');
  for (const e of events) {
    if (e.acked) {
      assert.equal(rows[e.id]?.n, 1, `acknowledged event ${e.id} recorded once`);
      assert.equal(rows[e.id].status, 'applied', `acknowledged event ${e.id} applied`);
      assert.equal(payments[e.invoice], 1, `acknowledged invoice ${e.invoice}: one payment`);
    } else {
      assert.ok((rows[e.id]?.n || 0) <= 1, `unanswered event ${e.id} at most once`);
      assert.ok((payments[e.invoice] || 0) <= 1, `unanswered invoice ${e.invoice} at most one payment`);
    }
  }

  // Stripe redelivers everything it was not sure of, and may redeliver the rest:
  // afterwards every event is there exactly once and no payment is doubled.
  for (const e of events) {
    const res = await sendStripe(second, e.body, { secret: STRIPE_SECRET });
    assert.equal(res.status, 200, `redelivery of ${e.id} → ${res.status} ${res.text}`);
  }
  for (const e of events) {
    assert.equal(await second.psql(
      `SELECT count(*) FROM webhook_events WHERE provider = 'stripe' AND event_key = '${e.id}'`), '1', e.id);
    assert.equal(await second.psql(
      `SELECT count(*) FROM payments WHERE provider = 'stripe' AND provider_payment_id = '${e.invoice}'`), '1',
    e.invoice);
  }
  assert.equal(await second.psql(
    "SELECT count(*) FROM webhook_events WHERE provider = 'stripe' AND status <> 'applied'"), '0',
  'every event applied after redelivery');
  // eight subscriptions, one pledge each, however the events raced
  assert.equal(await second.psql("SELECT count(*) FROM pledges WHERE provider = 'stripe'"), '8');

  // the restarted server takes ballots again, and the tally follows
  const m = members[0];
  const res = await second.request('PUT', `/v1/rounds/${round}/ballot`, { key: m.token, body: { topic_ids: [topics[0]] } });
  assert.equal(res.status, 200, res.text);
  await assertTallyIsRecount(second, round);
});

test('PostgreSQL restarted under load: no crash, 503 + Retry-After while down, full service within 5 s', async (t) => {
  const PG = path.join(ROOT, 'scripts', 'pg.sh');
  pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-faults-pg-'));
  const pg = async (cmd) => {
    const r = await run('bash', [PG, cmd, pgDir], { timeout: 60000 });
    if (r.code !== 0) throw new Error(`pg.sh ${cmd} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const url = lastLine(await pg('start'));
  assert.match(url, /dbname=patrond/);
  const srv = await track(startServer({ dbUrl: url, dbName: 'patrond', env: { PATROND_THREADS: '4' } }));
  const { round, topics } = await openRound(srv, 3);
  const members = await bulkMembers(srv, 8);

  const kinds = [
    (i) => srv.get('/v1/patrons?limit=5'),
    (i) => srv.request('GET', '/v1/tiers'),
    (i) => srv.post('/v1/patrons', { email: uniqueEmail(`pgload${i}`) }),
    (i) => srv.request('PUT', `/v1/rounds/${round}/ballot`,
      { key: members[i % members.length].token, body: { topic_ids: [topics[i % topics.length]] } }),
    (i) => srv.request('GET', `/v1/rounds/${round}/tally`),
  ];
  let phase = 'up';
  let stop = false;
  const bad = [];
  const seen = { up: {}, down: {}, back: {} };
  const worker = async (w) => {
    for (let i = w; !stop; i += 8) {
      const p = phase;
      let res;
      try {
        res = await kinds[i % kinds.length](i);
      } catch (e) {
        bad.push(`${p}: transport error ${e.message}`);
        continue;
      }
      seen[p][res.status] = (seen[p][res.status] || 0) + 1;
      if (res.status >= 200 && res.status < 300) continue;
      if (res.status === 503) {
        if (!/^application\/problem\+json/.test(res.headers['content-type'] || '') || !res.json ||
            res.json.status !== 503 || !/^\d+$/.test(String(res.headers['retry-after']))) {
          bad.push(`${p}: 503 without problem+json or Retry-After: ${JSON.stringify(res.headers)} ${res.text}`);
        }
        continue;
      }
      bad.push(`${p}: ${res.status} ${res.text.slice(0, 200)}`);
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  await sleep(500);
  phase = 'down';
  await pg('stop');
  await sleep(1500);
  // while it is down, every request that needs it is refused the same way
  assert.ok((seen.down[503] || 0) > 0, `503s while the database is down: ${JSON.stringify(seen)}`);
  const live = await srv.request('GET', '/healthz');
  assert.equal(live.status, 200, 'liveness does not need the database');
  assertProblem(assert, await srv.get('/v1/patrons', { timeout: 10000 }), 503, 'GET /v1/patrons while down');
  phase = 'back';
  await pg('start');
  const back = Date.now();
  let recoveredAt = null;
  while (Date.now() - back < 15000 * SLOW) {
    const batch = await Promise.all(Array.from({ length: 12 }, (_, i) => kinds[i % kinds.length](1000 + i)
      .then((r) => r.status, (e) => e.message)));
    if (batch.every((s) => s >= 200 && s < 300)) { recoveredAt = Date.now(); break; }
    await sleep(100);
  }
  stop = true;
  await load;
  assert.ok(recoveredAt !== null, 'service came back at all');
  t.diagnostic(`answers ${JSON.stringify(seen)}; full service ${recoveredAt - back} ms after PostgreSQL was back`);
  assert.ok(recoveredAt - back <= 5000 * SLOW,
    `full service ${recoveredAt - back} ms after PostgreSQL was back (limit ${5000 * SLOW})`);
  assert.deepEqual(bad, [], `only 2xx and 503 problem+json answers (${JSON.stringify(seen)})`);
  assert.equal(srv.exit, null, 'patrond is still running');
  assert.ok((seen.up[200] || 0) + (seen.up[201] || 0) > 0, 'load was served before the outage');
  // every pooled connection is back: a burst on the database is all 2xx
  const burst = await Promise.all(Array.from({ length: 16 }, () => srv.get('/v1/patrons?limit=1')));
  assert.deepEqual(burst.map((r) => r.status), Array(16).fill(200));
  await assertTallyIsRecount(srv, round);
});

// A raw connection that remembers whether and when the server closed it.
function rawConnection(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const c = { sock, closedAt: null, data: '' };
    sock.setNoDelay(true);
    sock.on('data', (d) => { c.data += d.toString('latin1'); });
    sock.on('close', () => { c.closedAt = Date.now(); });
    sock.on('error', () => {});
    sock.once('connect', () => resolve(c));
    sock.once('error', reject);
  });
}

test('slowloris: idle and dribbling connections do not starve others; idle ones are closed by timeout', async () => {
  const TIMEOUT_S = 2;
  const srv = await track(startServer({ env: { PATROND_CONNECTION_TIMEOUT: String(TIMEOUT_S) } }));
  const idle = [];
  const idleOpened = Date.now();
  for (let i = 0; i < 300; i++) idle.push(await rawConnection(srv.port));
  // half a request, then silence: also idle as far as a timeout is concerned
  const stalled = [];
  for (let i = 0; i < 50; i++) {
    const c = await rawConnection(srv.port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    stalled.push(c);
  }
  // dribblers send a whole request one byte every 150 ms: alive, but slow
  const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: aaaaaaaa\r\nConnection: close\r\n\r\n';
  const dribblers = [];
  for (let i = 0; i < 100; i++) dribblers.push(await rawConnection(srv.port));
  let dribbling = true;
  const dribble = (async () => {
    for (let k = 0; k < request.length && dribbling; k++) {
      for (const c of dribblers) if (!c.closedAt) c.sock.write(request[k]);
      await sleep(150);
    }
  })();

  // other clients are served all the while
  for (let i = 0; i < 20; i++) {
    const h = await srv.request('GET', '/healthz', { timeout: 5000 });
    assert.equal(h.status, 200);
    const p = await srv.get('/v1/patrons?limit=1', { timeout: 5000 });
    assert.equal(p.status, 200, p.text);
    await sleep(100);
  }

  // idle and stalled connections are closed by the server, after about the timeout
  const waitUntil = Date.now() + (TIMEOUT_S + 10) * 1000;
  while (Date.now() < waitUntil && [...idle, ...stalled].some((c) => !c.closedAt)) await sleep(100);
  const open = [...idle, ...stalled].filter((c) => !c.closedAt).length;
  assert.equal(open, 0, `${open} idle connections still open ${TIMEOUT_S + 10} s later`);
  const earliest = Math.min(...idle.map((c) => c.closedAt));
  assert.ok(earliest - idleOpened >= (TIMEOUT_S - 1) * 1000, 'not closed before the timeout could have elapsed');
  for (const c of [...idle, ...stalled]) assert.equal(c.data, '', 'closed without an answer');

  // the dribblers kept their connections and got their answers in the end
  await dribble;
  dribbling = false;
  const until = Date.now() + 10000;
  while (Date.now() < until && dribblers.some((c) => !c.closedAt)) await sleep(100);
  const answered = dribblers.filter((c) => /^HTTP\/1\.1 200 /.test(c.data)).length;
  assert.equal(answered, dribblers.length, `${answered}/${dribblers.length} dribbled requests answered 200`);

  const h = await srv.request('GET', '/healthz');
  assert.equal(h.status, 200, 'still healthy afterwards');
  assert.equal(srv.exit, null);
});
