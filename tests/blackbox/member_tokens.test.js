'use strict';
// Member tokens (SPEC §4b): POST /v1/me/token and /.well-known/jwks.json,
// verified the way a newsroom's server would, with the `jose` library
// against the published key set: member and non-member claims, expiry,
// audience and issuer, tampering, key rotation with the previous key still
// published; the return_to hand-off only to PATROND_CORS_ORIGINS; start-up
// refusing bad key files. The keys are made by Node's crypto, not ours.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const jose = require('jose');
const {
  startServer, sessionsFor, uniqueEmail, assertProblem, assertInvalid, run, BIN, dropDatabase,
} = require('./lib/harness');

const SITE = 'https://news.example.org';
const MINUTE = 60;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'member-tokens-'));

function keyFile(name, type = 'ed25519') {
  const { privateKey } = crypto.generateKeyPairSync(type, type === 'rsa' ? { modulusLength: 2048 } : undefined);
  const file = path.join(dir, name);
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return file;
}
const KEY_A = keyFile('a.pem');
const KEY_B = keyFile('b.pem');

let s;
before(async () => {
  s = await startServer({
    env: (url) => ({
      PATROND_PUBLIC_URL: url,
      PATROND_SIGNING_KEY_FILE: KEY_A,
      PATROND_CORS_ORIGINS: `${SITE}, http://127.0.0.1:9`,
    }),
  });
});
after(async () => {
  await s?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const jwksOf = (srv) => jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', srv.url));
const tokenFor = (srv, session, query = '') => srv.request('POST', `/v1/me/token${query}`, { key: session });

async function newPatron(srv, pledge) {
  const p = await srv.post('/v1/patrons', { email: uniqueEmail('tok') });
  assert.equal(p.status, 201, p.text);
  if (pledge) {
    const pl = await srv.post('/v1/pledges', { patron_id: p.json.id, provider: 'manual', status: 'active', ...pledge });
    assert.equal(pl.status, 201, pl.text);
  }
  const [session] = await sessionsFor(srv, [p.json.id]);
  return { id: p.json.id, email: p.json.email, session };
}

async function signed(srv, session, query) {
  const r = await tokenFor(srv, session, query);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

let tiers;
async function setupTiers() {
  if (tiers) return tiers;
  const friend = await s.post('/v1/tiers', { name: 'Friend', amount_minor: 100, currency: 'EUR', vote_weight: 1 });
  const supporter = await s.post('/v1/tiers', { name: 'Supporter', amount_minor: 500, currency: 'EUR', vote_weight: 3 });
  assert.equal(friend.status, 201, friend.text);
  assert.equal(supporter.status, 201, supporter.text);
  tiers = { friend: friend.json, supporter: supporter.json };
  return tiers;
}

test('a member\'s token verifies with jose against the JWKS and says what GET /v1/me says', async () => {
  await setupTiers();
  const periodEnd = new Date(Date.now() + 10 * 86400 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const m = await newPatron(s, { amount_minor: 700, currency: 'EUR', interval: 'month', current_period_end: periodEnd });
  const before = Math.floor(Date.now() / 1000);
  const body = await signed(s, m.session);
  const { payload, protectedHeader } = await jose.jwtVerify(body.token, jwksOf(s), {
    issuer: s.url, audience: s.url, algorithms: ['EdDSA'],
  });
  assert.equal(protectedHeader.alg, 'EdDSA');
  assert.equal(protectedHeader.typ, 'JWT');
  const set = (await s.request('GET', '/.well-known/jwks.json')).json;
  assert.equal(protectedHeader.kid, set.keys[0].kid);

  const me = (await s.request('GET', '/v1/me', { key: m.session })).json;
  assert.equal(me.member, true);
  assert.deepEqual(
    { sub: payload.sub, member: payload.member, member_until: payload.member_until, tier: payload.tier, vote_weight: payload.vote_weight },
    { sub: m.id, member: true, member_until: me.member_until, tier: 'Supporter', vote_weight: 3 },
  );
  // the paid period plus the 7-day grace, as GET /v1/me shows it
  assert.equal(Date.parse(payload.member_until), Date.parse(periodEnd) + 7 * 86400 * 1000);
  assert.ok(payload.iat >= before - 1 && payload.iat <= Math.floor(Date.now() / 1000) + 1, `iat ${payload.iat}`);
  assert.equal(payload.exp - payload.iat, 15 * MINUTE);
  assert.equal(body.expires_at, new Date(payload.exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
  assert.deepEqual(Object.keys(payload).sort(),
    ['aud', 'exp', 'iat', 'iss', 'member', 'member_until', 'sub', 'tier', 'vote_weight']);
});

test('a non-member\'s token says so: member false, no tier, vote weight 0', async () => {
  await setupTiers();
  const none = await newPatron(s);
  const lapsed = await newPatron(s, {
    amount_minor: 700, currency: 'EUR', interval: 'month',
    current_period_end: new Date(Date.now() - 30 * 86400 * 1000).toISOString(),
  });
  for (const p of [none, lapsed]) {
    const { payload } = await jose.jwtVerify((await signed(s, p.session)).token, jwksOf(s), { issuer: s.url, audience: s.url });
    assert.deepEqual([payload.sub, payload.member, payload.member_until, payload.tier, payload.vote_weight],
      [p.id, false, null, null, 0]);
    assert.equal((await s.request('GET', '/v1/me', { key: p.session })).json.member, false);
  }
  // a member without tiers in their currency votes with weight 1 and no tier
  const plain = await newPatron(s, { amount_minor: 5000, currency: 'UAH', interval: 'month' });
  const { payload } = await jose.jwtVerify((await signed(s, plain.session)).token, jwksOf(s), { issuer: s.url, audience: s.url });
  assert.deepEqual([payload.member, payload.member_until, payload.tier, payload.vote_weight], [true, null, null, 1]);
});

test('an expired token is rejected, a wrong audience or issuer too, and so is any change to it', async () => {
  const m = await newPatron(s, { amount_minor: 300, currency: 'EUR', interval: 'month' });
  const { token } = await signed(s, m.session);
  const jwks = jwksOf(s);
  const opts = { issuer: s.url, audience: s.url };
  const { payload } = await jose.jwtVerify(token, jwks, opts);
  // still good a second before exp; 15 minutes later it has expired
  await jose.jwtVerify(token, jwks, { ...opts, currentDate: new Date((payload.exp - 1) * 1000) });
  await assert.rejects(jose.jwtVerify(token, jwks, { ...opts, currentDate: new Date((payload.iat + 15 * MINUTE) * 1000) }),
    { code: 'ERR_JWT_EXPIRED' });
  await assert.rejects(jose.jwtVerify(token, jwks, { ...opts, audience: 'https://other.example.org' }),
    (e) => e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'aud');
  await assert.rejects(jose.jwtVerify(token, jwks, { ...opts, issuer: 'https://other.example.org' }),
    (e) => e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'iss');

  // a forged payload under our header and signature
  const [h, , sig] = token.split('.');
  const forged = jose.base64url.encode(JSON.stringify({ ...payload, sub: crypto.randomUUID() }));
  await assert.rejects(jose.jwtVerify(`${h}.${forged}.${sig}`, jwks, opts), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  // a token signed by someone else's key under our kid
  const { privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const { kid } = jose.decodeProtectedHeader(token);
  const other = await new jose.SignJWT({ ...payload }).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(privateKey);
  await assert.rejects(jose.jwtVerify(other, jwks, opts), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});

test('only a patron session gets a token', async () => {
  assertProblem(assert, await s.request('POST', '/v1/me/token'), 401, 'no credentials', 'unauthorized');
  assertProblem(assert, await s.request('POST', '/v1/me/token', { key: 'not-a-session' }), 401, 'unknown token', 'unauthorized');
  assertProblem(assert, await s.post('/v1/me/token'), 403, 'an admin key', 'forbidden');
  // an erased patron's sessions end with them
  const p = await newPatron(s);
  assert.equal((await s.del(`/v1/patrons/${p.id}`)).status, 204);
  assertProblem(assert, await tokenFor(s, p.session), 401, 'erased', 'unauthorized');
});

test('the JWKS publishes the public key only, cacheable and readable by any origin', async () => {
  const r = await s.request('GET', '/.well-known/jwks.json');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^application\/jwk-set\+json/);
  assert.match(r.headers['cache-control'], /public, max-age=\d+/);
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.equal(r.json.keys.length, 1);
  const [jwk] = r.json.keys;
  assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
  assert.deepEqual([jwk.kty, jwk.crv, jwk.alg, jwk.use], ['OKP', 'Ed25519', 'EdDSA', 'sig']);
  assert.equal(jwk.kid, await jose.calculateJwkThumbprint(jwk), 'kid is the RFC 7638 thumbprint');
  // the key in the file, and nothing private
  const fromFile = crypto.createPublicKey(crypto.createPrivateKey(fs.readFileSync(KEY_A))).export({ format: 'jwk' });
  assert.equal(jwk.x, fromFile.x);
  const again = await s.request('GET', '/.well-known/jwks.json', { headers: { 'If-None-Match': r.headers.etag } });
  assert.equal(again.status, 304);
});

test('return_to must be on an origin in PATROND_CORS_ORIGINS, for the token and for the sign-in link', async () => {
  const p = await newPatron(s, { amount_minor: 300, currency: 'EUR', interval: 'month' });
  for (const ok of [`${SITE}/article/1?x=1`, `${SITE}`, 'http://127.0.0.1:9/page.html', 'HTTPS://NEWS.example.org:443/a']) {
    const r = await tokenFor(s, p.session, `?return_to=${encodeURIComponent(ok)}`);
    assert.equal(r.status, 200, `${ok}: ${r.text}`);
  }
  const refused = [
    'https://evil.example.org/',
    'http://news.example.org/', // another scheme is another origin
    'https://news.example.org:8443/',
    'https://news.example.org.evil.com/',
    'https://news.example.org@evil.com/',
    'https://evil.com\\@news.example.org/',
    'http://127.0.0.1:10/',
    'javascript:alert(1)',
    '//news.example.org/',
    `${s.url}/members`, // patrond itself is not the newsroom's site
  ];
  for (const bad of refused) {
    const r = await tokenFor(s, p.session, `?return_to=${encodeURIComponent(bad)}`);
    assertInvalid(assert, r, 'return_to', bad);
  }

  // the magic link carries an accepted return_to to the member page (as
  // the page sends it: the browser's own serialisation)
  const target = new URL(`${SITE}/article/2?utm=x y&z=ä`).href;
  const ok = await s.request('POST', '/v1/auth/magic-link', { body: { email: p.email, return_to: target } });
  assert.equal(ok.status, 202, ok.text);
  const mail = await s.psql(`SELECT params->>'link' FROM outbox WHERE patron_id = '${p.id}' AND kind = 'magic_link' ORDER BY seq DESC LIMIT 1`);
  const link = new URL(mail.match(/http:\/\/\S+\/members\?\S+/)[0]);
  assert.equal(link.pathname, '/members');
  assert.match(link.searchParams.get('token'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(link.searchParams.get('return_to'), target);
  // and refuses any other, before anything is sent
  const before = await s.psql(`SELECT count(*) FROM outbox WHERE patron_id = '${p.id}'`);
  for (const bad of ['https://evil.example.org/', 'ftp://news.example.org/']) {
    const r = await s.request('POST', '/v1/auth/magic-link', { body: { email: p.email, return_to: bad } });
    assertInvalid(assert, r, 'return_to', bad);
  }
  assert.equal(await s.psql(`SELECT count(*) FROM outbox WHERE patron_id = '${p.id}'`), before);
});

test('the CORS wildcard hands tokens to no site', async () => {
  const w = await startServer({
    env: (url) => ({ PATROND_PUBLIC_URL: url, PATROND_SIGNING_KEY_FILE: KEY_A, PATROND_CORS_ORIGINS: '*' }),
  });
  try {
    const p = await newPatron(w);
    assertInvalid(assert, await tokenFor(w, p.session, `?return_to=${encodeURIComponent(`${SITE}/`)}`), 'return_to');
    assert.equal((await tokenFor(w, p.session)).status, 200);
  } finally {
    await w.stop();
  }
});

test('without a signing key the token answers 503 and the JWKS has no keys', async () => {
  const n = await startServer({ env: (url) => ({ PATROND_PUBLIC_URL: url }) });
  try {
    const p = await newPatron(n);
    const r = await tokenFor(n, p.session);
    assertProblem(assert, r, 503, 'no key', 'member_tokens_not_configured');
    assert.match(r.json.detail, /PATROND_SIGNING_KEY_FILE/);
    const set = await n.request('GET', '/.well-known/jwks.json');
    assert.equal(set.status, 200);
    assert.deepEqual(set.json, { keys: [] });
  } finally {
    await n.stop();
  }
});

test('a bad key file stops the start with a message naming the variable', async () => {
  const rsa = keyFile('rsa.pem', 'rsa');
  const junk = path.join(dir, 'junk.pem');
  fs.writeFileSync(junk, 'not a key\n');
  const cases = [
    [{ PATROND_SIGNING_KEY_FILE: path.join(dir, 'missing.pem') }, /PATROND_SIGNING_KEY_FILE: cannot read .*missing\.pem/],
    [{ PATROND_SIGNING_KEY_FILE: junk }, /PATROND_SIGNING_KEY_FILE: .*junk\.pem holds no unencrypted PEM private key/],
    [{ PATROND_SIGNING_KEY_FILE: rsa }, /PATROND_SIGNING_KEY_FILE: .*rsa\.pem is not an Ed25519 key/],
    [{ PATROND_SIGNING_KEY_FILE: KEY_A, PATROND_SIGNING_KEY_PREVIOUS_FILE: junk }, /PATROND_SIGNING_KEY_PREVIOUS_FILE: .*junk\.pem/],
    [{ PATROND_SIGNING_KEY_PREVIOUS_FILE: KEY_A }, /PATROND_SIGNING_KEY_PREVIOUS_FILE: .* is set but PATROND_SIGNING_KEY_FILE is not/],
    [{ PATROND_SIGNING_KEY_FILE: KEY_A, PATROND_SIGNING_KEY_PREVIOUS_FILE: KEY_A }, /the same key/],
  ];
  for (const [env, re] of cases) {
    const r = await run(BIN, ['serve'], {
      env: { DATABASE_URL: s.dbUrl, PATROND_LISTEN: '127.0.0.1:9', PATROND_SIGNING_KEY_FILE: '', PATROND_SIGNING_KEY_PREVIOUS_FILE: '', ...env },
      timeout: 20000,
    });
    assert.equal(r.code, 1, `${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('rotation: after a restart with key B current and A previous, A\'s tokens still verify and new ones carry B', async () => {
  const env = (extra) => (url) => ({ PATROND_PUBLIC_URL: url, PATROND_CORS_ORIGINS: SITE, ...extra });
  const first = await startServer({ keepDb: true, env: env({ PATROND_SIGNING_KEY_FILE: KEY_A }) });
  let second, third;
  try {
    const p = await newPatron(first, { amount_minor: 300, currency: 'EUR', interval: 'month' });
    const old = (await signed(first, p.session)).token;
    const kidA = jose.decodeProtectedHeader(old).kid;
    await first.stop();

    second = await startServer({
      dbName: first.dbName, skipMigrate: true, adminKey: first.adminKey,
      env: env({ PATROND_SIGNING_KEY_FILE: KEY_B, PATROND_SIGNING_KEY_PREVIOUS_FILE: KEY_A, PATROND_TOKEN_AUDIENCE: SITE }),
    });
    const set = (await second.request('GET', '/.well-known/jwks.json')).json;
    assert.equal(set.keys.length, 2);
    assert.equal(set.keys[1].kid, kidA, 'the previous key is still published, after the current one');
    const kidB = set.keys[0].kid;
    assert.notEqual(kidB, kidA);

    const jwks = jwksOf(second);
    const { payload: oldClaims } = await jose.jwtVerify(old, jwks, { issuer: first.url, audience: first.url });
    assert.equal(oldClaims.sub, p.id);
    const fresh = (await signed(second, p.session)).token;
    assert.equal(jose.decodeProtectedHeader(fresh).kid, kidB);
    const { payload } = await jose.jwtVerify(fresh, jwks, { issuer: second.url, audience: SITE });
    assert.deepEqual([payload.sub, payload.member, payload.aud], [p.id, true, SITE]);
    await assert.rejects(jose.jwtVerify(fresh, jwks, { issuer: second.url, audience: second.url }),
      (e) => e.claim === 'aud', 'PATROND_TOKEN_AUDIENCE replaces the default audience');
    await second.stop();

    // once A is retired from the set, its tokens no longer verify
    third = await startServer({
      dbName: first.dbName, skipMigrate: true, adminKey: first.adminKey,
      env: env({ PATROND_SIGNING_KEY_FILE: KEY_B }),
    });
    await assert.rejects(jose.jwtVerify(old, jwksOf(third), { issuer: first.url, audience: first.url }),
      { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await jose.jwtVerify(fresh, jwksOf(third), { issuer: second.url, audience: SITE });
  } finally {
    await first.stop();
    await second?.stop();
    await third?.stop();
    await dropDatabase(first.dbName);
  }
});
