'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, assertProblem, uniqueEmail } = require('./lib/harness');

let s;
let patronId, tierId;
before(async () => {
  s = await startServer();
  const p = await s.post('/v1/patrons', { email: uniqueEmail('auth') });
  assert.equal(p.status, 201, p.text);
  patronId = p.json.id;
  const t = await s.post('/v1/tiers', { name: 'Coffee', amount_minor: 500, currency: 'USD' });
  assert.equal(t.status, 201, t.text);
  tierId = t.json.id;
});
after(async () => { await s?.stop(); });

const ADMIN_GETS = ['/v1/patrons', '/v1/pledges', '/v1/payments', '/v1/audit'];

test('admin endpoints without credentials are 401 problem+json', async () => {
  for (const p of ADMIN_GETS) {
    const r = await s.request('GET', p);
    assertProblem(assert, r, 401, `GET ${p}`, 'unauthorized');
  }
  const r = await s.request('POST', '/v1/patrons', { body: { email: uniqueEmail() } });
  assertProblem(assert, r, 401, 'POST /v1/patrons without key', 'unauthorized');
  const g = await s.request('GET', `/v1/patrons/${patronId}`);
  assertProblem(assert, g, 401, 'GET one patron without key', 'unauthorized');
  const e = await s.request('GET', `/v1/patrons/${patronId}/export`);
  assertProblem(assert, e, 401, 'export without key', 'unauthorized');
});

test('an invalid or malformed bearer token is 401', async () => {
  const bad = [
    { Authorization: 'Bearer not-a-real-key' },
    { Authorization: `Bearer ${s.adminKey}x` },
    { Authorization: `Bearer ${s.adminKey.slice(0, -1)}` },
    { Authorization: 'Bearer ' },
    { Authorization: 'Bearer' },
    { Authorization: `Basic ${Buffer.from('admin:' + s.adminKey).toString('base64')}` },
    { Authorization: s.adminKey },
    { Authorization: 'Bearer ' + 'A'.repeat(5000) },
  ];
  for (const h of bad) {
    const r = await s.request('GET', '/v1/patrons', { headers: h });
    assertProblem(assert, r, 401, `Authorization: ${h.Authorization.slice(0, 40)}`, 'unauthorized');
  }
});

test('the bearer scheme is case-insensitive (RFC 9110 auth-scheme)', async () => {
  const r = await s.request('GET', '/v1/patrons', { headers: { Authorization: `bearer ${s.adminKey}` } });
  assert.equal(r.status, 200, r.text);
});

test('a 401 names the scheme in WWW-Authenticate', async () => {
  const r = await s.request('GET', '/v1/patrons');
  assert.equal(r.status, 401);
  assert.match(String(r.headers['www-authenticate'] || ''), /^Bearer/i, 'WWW-Authenticate: Bearer');
});

test('the read key may GET admin resources', async () => {
  for (const p of [...ADMIN_GETS, `/v1/patrons/${patronId}`, `/v1/patrons/${patronId}/export`]) {
    const r = await s.request('GET', p, { key: s.readKey });
    assert.equal(r.status, 200, `GET ${p} with read key → ${r.status} ${r.text}`);
  }
});

test('the read key may not write: POST/PATCH/DELETE → 403 and nothing changes', async () => {
  const before = await s.psql('SELECT count(*) FROM patrons');
  const cases = [
    ['POST', '/v1/patrons', { email: uniqueEmail() }],
    ['PATCH', `/v1/patrons/${patronId}`, { name: 'Hacked' }],
    ['DELETE', `/v1/patrons/${patronId}`, undefined],
    ['POST', '/v1/tiers', { name: 'X', amount_minor: 100, currency: 'USD' }],
    ['PATCH', `/v1/tiers/${tierId}`, { name: 'Y' }],
    ['DELETE', `/v1/tiers/${tierId}`, undefined],
    ['POST', '/v1/pledges', { patron_id: patronId, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'manual' }],
  ];
  for (const [m, p, body] of cases) {
    const r = await s.request(m, p, { key: s.readKey, body });
    assertProblem(assert, r, 403, `${m} ${p} with read key`, 'forbidden');
  }
  assert.equal(await s.psql('SELECT count(*) FROM patrons'), before);
  const p = await s.get(`/v1/patrons/${patronId}`);
  assert.equal(p.status, 200);
  assert.notEqual(p.json.name, 'Hacked');
  assert.equal(p.json.erased_at, null);
  const t = await s.request('GET', `/v1/tiers/${tierId}`);
  assert.equal(t.status, 200, 'tier survived a read-key DELETE');
  assert.equal(t.json.name, 'Coffee');
});

test('public endpoints need no credentials', async () => {
  for (const p of ['/healthz', '/readyz', '/v1/tiers', `/v1/tiers/${tierId}`]) {
    const r = await s.request('GET', p);
    assert.equal(r.status, 200, `GET ${p} → ${r.status} ${r.text}`);
  }
});

test('public tier reads do not let an anonymous caller write tiers', async () => {
  const r = await s.request('POST', '/v1/tiers', { body: { name: 'Free', amount_minor: 1, currency: 'USD' } });
  assertProblem(assert, r, 401, 'anonymous POST /v1/tiers', 'unauthorized');
  const d = await s.request('DELETE', `/v1/tiers/${tierId}`);
  assertProblem(assert, d, 401, 'anonymous DELETE /v1/tiers/{id}', 'unauthorized');
  const p = await s.request('PATCH', `/v1/tiers/${tierId}`, { body: { name: 'Pwned' } });
  assertProblem(assert, p, 401, 'anonymous PATCH /v1/tiers/{id}', 'unauthorized');
});

test('a public endpoint with a bad key still serves (or 401s) but never 5xx', async () => {
  const r = await s.request('GET', '/v1/tiers', { key: 'garbage' });
  assert.ok(r.status === 200 || r.status === 401, `GET /v1/tiers with garbage key → ${r.status}`);
});

test('API keys are stored hashed, never in clear', async () => {
  const dump = await s.psql('SELECT encode(key_hash, \'hex\') || \' \' || name FROM api_keys');
  assert.ok(!dump.includes(s.adminKey));
  const hashes = await s.psql("SELECT encode(key_hash, 'hex') FROM api_keys");
  const crypto = require('node:crypto');
  const ofText = crypto.createHash('sha256').update(s.adminKey).digest('hex');
  const ofBytes = crypto.createHash('sha256').update(Buffer.from(s.adminKey.slice(-43), 'base64url')).digest('hex');
  const stored = hashes.split('\n');
  assert.ok(stored.includes(ofText) || stored.includes(ofBytes), 'api_keys.key_hash = SHA-256(key)');
});

test('keys are 32 random bytes in base64url', async () => {
  // 32 bytes of base64url are 43 characters (a short prefix is tolerated)
  assert.match(s.adminKey, /^[A-Za-z0-9_-]{43,56}$/, `admin key shape: ${s.adminKey}`);
  assert.equal(Buffer.from(s.adminKey.slice(-43), 'base64url').length, 32);
  assert.notEqual(s.adminKey, s.readKey);
});
