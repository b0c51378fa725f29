'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertProblem, assertInvalid, uniqueEmail, pageAll, UUID_RE, RFC3339_Z_RE } = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const TIER_KEYS = ['amount_minor', 'created_at', 'currency', 'description', 'id', 'name', 'updated_at', 'vote_weight'];

async function createTier(body) {
  const r = await s.post('/v1/tiers', body);
  assert.equal(r.status, 201, `create tier ${JSON.stringify(body)} → ${r.status} ${r.text}`);
  return r.json;
}

test('POST /v1/tiers → 201; defaults: vote_weight 1, description null', async () => {
  const r = await s.post('/v1/tiers', { name: 'Cup of coffee', amount_minor: 5000, currency: 'UAH' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), TIER_KEYS);
  assert.match(r.json.id, UUID_RE);
  assert.equal(r.json.name, 'Cup of coffee');
  assert.equal(r.json.amount_minor, 5000);
  assert.equal(r.json.currency, 'UAH');
  assert.equal(r.json.vote_weight, 1);
  assert.equal(r.json.description, null);
  assert.match(r.json.created_at, RFC3339_Z_RE);
  assert.match(r.json.updated_at, RFC3339_Z_RE);
});

test('all fields round-trip, and tiers are public to read', async () => {
  const t = await createTier({ name: 'Patron', amount_minor: 2500, currency: 'EUR', description: 'Vote ×5', vote_weight: 5 });
  assert.equal(t.vote_weight, 5);
  assert.equal(t.description, 'Vote ×5');
  const one = await s.request('GET', `/v1/tiers/${t.id}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json, t);
  const list = await s.request('GET', '/v1/tiers?limit=500');
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.data.some((x) => x.id === t.id));
  assert.ok('next_cursor' in list.json);
});

test('vote_weight must be an integer 1..1000', async () => {
  assert.equal((await createTier({ name: 'Max', amount_minor: 1, currency: 'USD', vote_weight: 1000 })).vote_weight, 1000);
  assert.equal((await createTier({ name: 'Min', amount_minor: 1, currency: 'USD', vote_weight: 1 })).vote_weight, 1);
  for (const w of [0, -1, 1001, 1.5, '2', null, true, 1e12]) {
    const r = await s.post('/v1/tiers', { name: 'W', amount_minor: 100, currency: 'USD', vote_weight: w });
    assertInvalid(assert, r, 'vote_weight', `vote_weight ${JSON.stringify(w)}`);
  }
});

test('amount_minor must be an integer 1..PATROND_MAX_AMOUNT_MINOR', async () => {
  assert.equal((await createTier({ name: 'Top', amount_minor: 100000000, currency: 'USD' })).amount_minor, 100000000);
  for (const a of [0, -5, 100000001, 1.5, '100', null, 9007199254740993, 1e300]) {
    const r = await s.post('/v1/tiers', { name: 'A', amount_minor: a, currency: 'USD' });
    assertInvalid(assert, r, 'amount_minor', `amount_minor ${JSON.stringify(a)}`);
  }
  const raw = await s.request('POST', '/v1/tiers', {
    key: s.adminKey, body: '{"name":"A","amount_minor":99999999999999999999999,"currency":"USD"}',
    headers: { 'Content-Type': 'application/json' },
  });
  assert.ok(raw.status === 422 || raw.status === 400, `huge integer literal → ${raw.status} ${raw.text}`);
});

test('currency must be a configured ISO 4217 code in upper case', async () => {
  for (const c of ['XYZ', 'usd', 'Usd', 'US', 'USDD', '', 'JPY', 123, null]) {
    const r = await s.post('/v1/tiers', { name: 'C', amount_minor: 100, currency: c });
    assertInvalid(assert, r, 'currency', `currency ${JSON.stringify(c)}`);
  }
  for (const c of ['UAH', 'USD', 'EUR', 'GBP', 'PLN']) await createTier({ name: `In ${c}`, amount_minor: 100, currency: c });
});

test('name is required and a string; unknown fields are 422', async () => {
  assertInvalid(assert, await s.post('/v1/tiers', { amount_minor: 100, currency: 'USD' }), 'name', 'missing name');
  assertInvalid(assert, await s.post('/v1/tiers', { name: '', amount_minor: 100, currency: 'USD' }), 'name', 'empty name');
  assertInvalid(assert, await s.post('/v1/tiers', { name: 7, amount_minor: 100, currency: 'USD' }), 'name', 'numeric name');
  assertInvalid(assert, await s.post('/v1/tiers', { name: 'x'.repeat(20000), amount_minor: 100, currency: 'USD' }), 'name', 'huge name');
  assertInvalid(assert, await s.post('/v1/tiers', { name: 'U', amount_minor: 100, currency: 'USD', perks: [] }), 'perks', 'unknown field');
  assertInvalid(assert, await s.post('/v1/tiers', {}), null, 'empty object');
});

test('several errors are reported together', async () => {
  const r = await s.post('/v1/tiers', { name: 'Multi', amount_minor: 0, currency: 'usd' });
  assertInvalid(assert, r, 'amount_minor');
  assert.ok(r.json.errors.some((e) => e.field === 'currency'), `currency also reported: ${r.text}`);
  for (const e of r.json.errors) assert.equal(typeof e.message, 'string');
});

test('PATCH updates fields → 200; invalid values → 422 and no change', async () => {
  const t = await createTier({ name: 'Old', amount_minor: 300, currency: 'PLN' });
  await new Promise((r) => setTimeout(r, 1100));
  const r = await s.patch(`/v1/tiers/${t.id}`, { name: 'New', amount_minor: 400, description: 'd', vote_weight: 3 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.name, 'New');
  assert.equal(r.json.amount_minor, 400);
  assert.equal(r.json.description, 'd');
  assert.equal(r.json.vote_weight, 3);
  assert.equal(r.json.currency, 'PLN');
  assert.equal(r.json.created_at, t.created_at);
  assert.ok(r.json.updated_at > t.updated_at, 'updated_at advanced');
  for (const [body, field] of [[{ amount_minor: 0 }, 'amount_minor'], [{ vote_weight: 1001 }, 'vote_weight'],
    [{ currency: 'xyz' }, 'currency'], [{ bogus: 1 }, 'bogus'], [{ name: '' }, 'name']]) {
    assertInvalid(assert, await s.patch(`/v1/tiers/${t.id}`, body), field, `PATCH ${JSON.stringify(body)}`);
  }
  const g = await s.request('GET', `/v1/tiers/${t.id}`);
  assert.deepEqual(g.json, r.json);
});

test('DELETE → 204, then 404', async () => {
  const t = await createTier({ name: 'Doomed', amount_minor: 100, currency: 'GBP' });
  const d = await s.del(`/v1/tiers/${t.id}`);
  assert.equal(d.status, 204, d.text);
  assertProblem(assert, await s.request('GET', `/v1/tiers/${t.id}`), 404, 'GET deleted tier');
  assertProblem(assert, await s.del(`/v1/tiers/${t.id}`), 404, 'DELETE deleted tier');
  assertProblem(assert, await s.patch(`/v1/tiers/${t.id}`, { name: 'x' }), 404, 'PATCH deleted tier');
  const list = await pageAll(s, '/v1/tiers', { limit: 500 });
  assert.ok(!list.some((x) => x.id === t.id));
});

test('deleting a tier a pledge uses keeps the pledge intact', async () => {
  const t = await createTier({ name: 'Used', amount_minor: 100, currency: 'GBP' });
  const p = await s.post('/v1/patrons', { email: uniqueEmail() });
  const pl = await s.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 150, currency: 'GBP', interval: 'month', provider: 'manual', tier_id: t.id,
  });
  assert.equal(pl.status, 201, pl.text);
  const d = await s.del(`/v1/tiers/${t.id}`);
  assert.ok(d.status === 204 || d.status === 409, `DELETE tier in use → ${d.status} ${d.text}`);
  const g = await s.get(`/v1/pledges/${pl.json.id}`);
  assert.equal(g.status, 200);
  assert.equal(g.json.amount_minor, 150);
});

test('list: newest first, pages without duplicates', async () => {
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await createTier({ name: `Page ${i}`, amount_minor: 10 + i, currency: 'USD' }));
  const all = await pageAll(s, '/v1/tiers', { limit: 2 });
  const ids = all.map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, Number(await s.psql('SELECT count(*) FROM tiers')));
  const pos = made.map((t) => ids.indexOf(t.id));
  assert.ok(pos.every((x) => x >= 0));
  assert.deepEqual([...pos].sort((a, b) => b - a), pos, `newest first: positions ${pos}`);
});

test('unknown tier id → 404, malformed → 404', async () => {
  assertProblem(assert, await s.request('GET', `/v1/tiers/${crypto.randomUUID()}`), 404);
  assertProblem(assert, await s.request('GET', '/v1/tiers/zzz'), 404);
});
