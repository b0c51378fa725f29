'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertInvalid, uniqueEmail } = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const ikey = () => `idem-${crypto.randomBytes(8).toString('hex')}`;
const withKey = (k) => ({ headers: { 'Idempotency-Key': k } });

test('same key + same body replays the first response and creates one row', async () => {
  const k = ikey();
  const email = uniqueEmail('idem');
  const first = await s.post('/v1/patrons', { email, name: 'Once' }, withKey(k));
  assert.equal(first.status, 201, first.text);
  const second = await s.post('/v1/patrons', { email, name: 'Once' }, withKey(k));
  assert.equal(second.status, 201, `replay → ${second.status} ${second.text}`);
  assert.deepEqual(second.json, first.json);
  assert.match(String(second.headers['content-type']), /^application\/json/);
  // the created patron is named by Location, on the replay too
  assert.equal(first.headers.location, `/v1/patrons/${first.json.id}`);
  assert.equal(second.headers.location, first.headers.location);
  assert.equal((await s.get(first.headers.location)).json.email, email);
  const third = await s.post('/v1/patrons', { email, name: 'Once' }, withKey(k));
  assert.deepEqual(third.json, first.json);
  assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email = '${email}'`), '1');
  assert.equal(await s.psql(`SELECT count(*) FROM audit_log WHERE entity_id = '${first.json.id}' AND action = 'create'`), '1');
});

test('the replay is the stored first response, not a fresh read', async () => {
  const k = ikey();
  const email = uniqueEmail('stale');
  const first = await s.post('/v1/patrons', { email, name: 'Original' }, withKey(k));
  assert.equal(first.status, 201);
  assert.equal((await s.patch(`/v1/patrons/${first.json.id}`, { name: 'Changed' })).status, 200);
  const replay = await s.post('/v1/patrons', { email, name: 'Original' }, withKey(k));
  assert.equal(replay.status, 201, replay.text);
  assert.deepEqual(replay.json, first.json);
});

test('same key + different body → 422, nothing created', async () => {
  const k = ikey();
  const first = await s.post('/v1/patrons', { email: uniqueEmail('a') }, withKey(k));
  assert.equal(first.status, 201);
  const otherEmail = uniqueEmail('b');
  const r = await s.post('/v1/patrons', { email: otherEmail }, withKey(k));
  assertInvalid(assert, r, 'Idempotency-Key', 'same key, other body', 'idempotency_key_reused');
  assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email = '${otherEmail}'`), '0');
});

test('without a key, the same body twice is two requests (second is a 409 duplicate)', async () => {
  const email = uniqueEmail('nokey');
  assert.equal((await s.post('/v1/patrons', { email })).status, 201);
  assert.equal((await s.post('/v1/patrons', { email })).status, 409);
});

test('different keys are independent', async () => {
  const t = { name: 'Idem tier', amount_minor: 777, currency: 'USD' };
  const a = await s.post('/v1/tiers', t, withKey(ikey()));
  const b = await s.post('/v1/tiers', t, withKey(ikey()));
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.notEqual(a.json.id, b.json.id);
});

test('idempotent pledge creation replays and creates one pledge', async () => {
  const p = await s.post('/v1/patrons', { email: uniqueEmail('idpl') });
  assert.equal(p.status, 201);
  const k = ikey();
  const body = { patron_id: p.json.id, amount_minor: 2500, currency: 'EUR', interval: 'month', provider: 'manual' };
  const first = await s.post('/v1/pledges', body, withKey(k));
  assert.equal(first.status, 201, first.text);
  const second = await s.post('/v1/pledges', body, withKey(k));
  assert.equal(second.status, 201);
  assert.deepEqual(second.json, first.json);
  assert.equal(await s.psql(`SELECT count(*) FROM pledges WHERE patron_id = '${p.json.id}'`), '1');
});

test('10 concurrent requests with one key: one row, no 5xx, identical successes', async () => {
  const k = ikey();
  const email = uniqueEmail('conc');
  const rs = await Promise.all(Array.from({ length: 10 }, () => s.post('/v1/patrons', { email }, withKey(k))));
  const statuses = rs.map((r) => r.status);
  assert.ok(statuses.every((x) => x === 201 || x === 409), `statuses ${statuses}`);
  const oks = rs.filter((r) => r.status === 201);
  assert.ok(oks.length >= 1);
  assert.equal(new Set(oks.map((r) => r.json.id)).size, 1, 'all 201s describe the same patron');
  assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email = '${email}'`), '1');
  // after the dust settles, a retry replays the success
  const again = await s.post('/v1/patrons', { email }, withKey(k));
  assert.equal(again.status, 201);
  assert.equal(again.json.id, oks[0].json.id);
});

test('the key is scoped to the endpoint: reusing it on another path does not replay the other resource', async () => {
  const k = ikey();
  const p = await s.post('/v1/patrons', { email: uniqueEmail('scope') }, withKey(k));
  assert.equal(p.status, 201);
  const t = await s.post('/v1/tiers', { name: 'Scoped', amount_minor: 100, currency: 'USD' }, withKey(k));
  assert.ok(t.status === 201 || t.status === 422, `→ ${t.status}`);
  if (t.status === 201) assert.equal(t.json.name, 'Scoped');
  assert.notEqual(t.json?.email, p.json.email, 'a tier request must never receive a patron body');
});

test('a failed request can be retried with the same key after fixing nothing server-side', async () => {
  const k = ikey();
  const bad = await s.post('/v1/patrons', { email: 'not-an-email' }, withKey(k));
  assert.equal(bad.status, 422);
  const again = await s.post('/v1/patrons', { email: 'not-an-email' }, withKey(k));
  assert.equal(again.status, 422, 'a validation failure stays a validation failure');
});

test('an absurd Idempotency-Key is refused or handled, never a 5xx', async () => {
  const r = await s.post('/v1/patrons', { email: uniqueEmail() }, withKey('k'.repeat(2000)));
  assert.ok(r.status < 500, `→ ${r.status} ${r.text}`);
  const r2 = await s.post('/v1/patrons', { email: uniqueEmail() }, withKey(''));
  assert.ok(r2.status < 500, `empty key → ${r2.status} ${r2.text}`);
});

test('10 concurrent tier creates with one key create exactly one tier', async () => {
  const k = ikey();
  const name = `Conc ${crypto.randomBytes(3).toString('hex')}`;
  const rs = await Promise.all(Array.from({ length: 10 }, () =>
    s.post('/v1/tiers', { name, amount_minor: 300, currency: 'EUR' }, withKey(k))));
  const statuses = rs.map((r) => r.status);
  assert.ok(statuses.every((x) => x === 201 || x === 409), `statuses ${statuses}`);
  const oks = rs.filter((r) => r.status === 201);
  assert.ok(oks.length >= 1);
  assert.equal(new Set(oks.map((r) => r.json.id)).size, 1, 'all 201s describe the same tier');
  assert.equal(await s.psql(`SELECT count(*) FROM tiers WHERE name = '${name}'`), '1');
});

test('erasure also scrubs the patron\'s email from stored idempotent responses', async () => {
  const k = ikey();
  const email = uniqueEmail('idem-gdpr');
  const first = await s.post('/v1/patrons', { email, name: 'Idem Gdpr' }, withKey(k));
  assert.equal(first.status, 201);
  assert.equal((await s.del(`/v1/patrons/${first.json.id}`)).status, 204);
  const stored = await s.psql(`SELECT count(*) FROM idempotency_keys WHERE body ILIKE '%${email.split('@')[0]}%' OR body LIKE '%Idem Gdpr%'`);
  assert.equal(stored, '0', 'idempotency_keys still holds the erased patron\'s email/name');
  const replay = await s.post('/v1/patrons', { email, name: 'Idem Gdpr' }, withKey(k));
  assert.ok(!replay.text.includes(email), `a replay after erasure returns the erased email: ${replay.status} ${replay.text}`);
});
