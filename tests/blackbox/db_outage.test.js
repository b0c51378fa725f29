'use strict';
// A private PostgreSQL cluster is stopped under a running patrond and started
// again: requests that need the database answer 503 + Retry-After meanwhile,
// and patrond recovers on its own.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, privateCluster, assertProblem, uniqueEmail, sleep } = require('./lib/harness');

let cluster, s, seeded;

before(async () => {
  cluster = privateCluster('patrond-outage-');
  const url = await cluster.start();
  assert.match(url, /host=.* dbname=patrond/);
  s = await startServer({ dbUrl: url, dbName: 'patrond' });
  const p = await s.post('/v1/patrons', { email: uniqueEmail('before-outage') });
  assert.equal(p.status, 201, p.text);
  seeded = p.json;
});

after(async () => {
  try {
    await s?.stop();
  } finally {
    await cluster?.remove();
  }
});

test('database outage: 503 + Retry-After, liveness stays up, recovery without restart', async () => {
  await cluster.stop();

  // liveness does not depend on the database
  const h = await s.request('GET', '/healthz', { timeout: 5000 });
  assert.equal(h.status, 200, `/healthz during outage → ${h.status}`);

  const ready = await s.request('GET', '/readyz', { timeout: 10000 });
  assertProblem(assert, ready, 503, '/readyz during outage');

  const t0 = Date.now();
  const needDb = [
    ['GET', '/v1/patrons', s.adminKey],
    ['GET', `/v1/patrons/${seeded.id}`, s.adminKey],
    ['GET', '/v1/pledges', s.readKey],
    ['GET', '/v1/tiers', undefined],
    ['POST', '/v1/patrons', s.adminKey, { email: uniqueEmail('during') }],
    ['POST', '/v1/tiers', s.adminKey, { name: 'x', amount_minor: 100, currency: 'USD' }],
  ];
  for (const [m, p, key, body] of needDb) {
    const r = await s.request(m, p, { key, body, timeout: 10000 });
    assertProblem(assert, r, 503, `${m} ${p} during outage`);
    const ra = r.headers['retry-after'];
    assert.ok(ra !== undefined, `${m} ${p}: Retry-After present`);
    assert.match(String(ra), /^\d+$/, `${m} ${p}: Retry-After is delta-seconds: ${ra}`);
    assert.ok(r.headers['x-request-id'], `${m} ${p}: X-Request-Id on 503`);
  }
  assert.ok(Date.now() - t0 < 30000, `503s came quickly (${Date.now() - t0} ms for ${needDb.length} requests)`);

  // an idempotent POST that failed with 503 must not stay locked after recovery
  const idemEmail = uniqueEmail('idem-outage');
  const idem = await s.post('/v1/patrons', { email: idemEmail }, { headers: { 'Idempotency-Key': 'outage-key-1' }, timeout: 10000 });
  assertProblem(assert, idem, 503, 'idempotent POST during outage');

  // the process survived all that
  assert.equal(s.exit, null, 'patrond is still running');

  await cluster.start();
  const deadline = Date.now() + 10000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await s.get('/v1/patrons', { timeout: 3000 });
      if (last.status === 200) break;
    } catch (e) { last = { status: e.message }; }
    await sleep(200);
  }
  assert.equal(last.status, 200, `GET /v1/patrons within 10 s of the database coming back → ${last.status}`);
  assert.ok(last.json.data.some((x) => x.id === seeded.id), 'data from before the outage is visible');

  // every pooled connection must have recovered, not just one: hit it in parallel
  const rs = await Promise.all(Array.from({ length: 12 }, () => s.get('/v1/pledges')));
  assert.deepEqual(rs.map((r) => r.status), Array(12).fill(200), 'all pooled connections recovered');

  const w = await s.post('/v1/patrons', { email: uniqueEmail('after-outage') });
  assert.equal(w.status, 201, `write after recovery → ${w.status} ${w.text}`);
  const rd = await s.request('GET', '/readyz');
  assert.equal(rd.status, 200, `/readyz after recovery → ${rd.status}`);

  const again = await s.post('/v1/patrons', { email: idemEmail }, { headers: { 'Idempotency-Key': 'outage-key-1' } });
  assert.equal(again.status, 201, `retrying the idempotent POST after recovery → ${again.status} ${again.text}`);
  assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email = '${idemEmail}'`), '1');
});

test('serve started while the database is down stays alive, answers 503, and becomes ready when it is back', async () => {
  await cluster.stop();
  let late;
  try {
    late = await startServer({
      dbUrl: s.dbUrl, dbName: 'patrond', skipMigrate: true, adminKey: s.adminKey, readKey: s.readKey,
    });
    assert.equal((await late.request('GET', '/healthz')).status, 200);
    assertProblem(assert, await late.request('GET', '/readyz', { timeout: 10000 }), 503, '/readyz, database down since start');
    const r = await late.get('/v1/patrons', { timeout: 10000 });
    assertProblem(assert, r, 503, 'GET /v1/patrons, database down since start');
    assert.ok(r.headers['retry-after'], 'Retry-After');
    await cluster.start();
    const deadline = Date.now() + 10000;
    let last;
    while (Date.now() < deadline) {
      last = await late.request('GET', '/readyz', { timeout: 3000 }).catch((e) => ({ status: e.message }));
      if (last.status === 200) break;
      await sleep(200);
    }
    assert.equal(last.status, 200, `/readyz within 10 s of the database coming up → ${last.status}`);
    assert.equal((await late.get('/v1/patrons')).status, 200);
  } finally {
    await cluster.start().catch(() => {});
    if (late) await late.stop();
  }
});
