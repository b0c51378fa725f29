'use strict';
// Patron sign-in by magic link, sessions, /v1/me (SPEC §3, §4 Membership)
// and outbox delivery through PATROND_MAIL_COMMAND.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const {
  startServer, httpRequest, dropDatabase, assertProblem, uniqueEmail, sleep, RFC3339_Z_RE, waitFor: waitLong,
} = require('./lib/harness');
const { mailbox, readMails } = require('./lib/mailbox');

const waitFor = (what, fn, timeoutMs = 10000) => waitLong(what, fn, timeoutMs);

const PUBLIC_URL = 'https://members.example.org/support';
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

// One request from a chosen loopback source address, so each test has its
// own per-address rate limit.
let nextIp = 10;
const freshIp = () => `127.0.0.${nextIp++}`;

function call(srv, method, urlPath, { body, token, ip = '127.0.0.2', headers = {} } = {}) {
  const h = body !== undefined && !('Content-Type' in headers) ? { 'Content-Type': 'application/json', ...headers } : headers;
  return httpRequest(srv.url, method, urlPath, { body, key: token, headers: h, localAddress: ip, openapi: false });
}

const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

let s, box;
const seenSecrets = [];

async function newPatron(prefix = 'm') {
  const email = uniqueEmail(prefix);
  const r = await s.post('/v1/patrons', { email, name: 'A Member' });
  assert.equal(r.status, 201, r.text);
  return { id: r.json.id, email };
}

async function requestLink(email, ip = freshIp()) {
  const r = await call(s, 'POST', '/v1/auth/magic-link', { body: { email }, ip });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.json, { status: 'accepted' });
  return r;
}

async function mailsTo(email, atLeast = 1) {
  return waitFor(`${atLeast} mail(s) to ${email}`, () => {
    const mine = readMails(box.dir).filter((m) => m.headers.to === email);
    return mine.length >= atLeast ? mine : null;
  });
}

async function linkToken(email) {
  const had = readMails(box.dir).filter((m) => m.headers.to === email).length;
  await requestLink(email);
  const mails = await mailsTo(email, had + 1);
  const token = mails[mails.length - 1].token;
  seenSecrets.push(token);
  return token;
}

async function signIn(email) {
  const token = await linkToken(email);
  const r = await call(s, 'POST', '/v1/auth/session', { body: { token }, ip: freshIp() });
  assert.equal(r.status, 201, r.text);
  seenSecrets.push(r.json.session_token);
  return r.json;
}

before(async () => {
  box = mailbox();
  s = await startServer({ env: { PATROND_MAIL_COMMAND: box.command, PATROND_PUBLIC_URL: PUBLIC_URL } });
});
after(async () => {
  await s?.stop();
  if (box) fs.rmSync(box.dir, { recursive: true, force: true });
});

test('sign-in end to end: 202, a mail with a single-use link, 201 with a session', async () => {
  const p = await newPatron();
  await requestLink(p.email);
  const [mail] = await mailsTo(p.email);

  assert.equal(mail.headers.from, 'patrond <patrond@members.example.org>');
  // a patron who never chose a language gets the default one's text
  assert.equal(mail.headers.subject, '«patrond»: посилання для входу');
  assert.equal(mail.headers['auto-submitted'], 'auto-generated');
  assert.match(mail.headers.date, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  assert.match(mail.headers['message-id'], /^<[0-9a-f-]{36}@members\.example\.org>$/);
  assert.equal(mail.headers['mime-version'], '1.0');
  assert.equal(mail.headers['content-type'], 'text/plain; charset=utf-8');
  assert.ok(mail.link.startsWith(`${PUBLIC_URL}/members?token=`), mail.link);
  assert.match(mail.token, TOKEN_RE);
  seenSecrets.push(mail.token);

  // only the hash is stored; the delivered body no longer holds the token
  const links = await s.psql(
    `SELECT encode(token_hash, 'hex'), expires_at - created_at FROM magic_links WHERE patron_id = '${p.id}'`);
  assert.equal(links, `${sha256hex(mail.token)}|00:15:00`);
  const outbox = await s.psqlJson(
    `SELECT to_jsonb(o) FROM outbox o WHERE patron_id = '${p.id}'`);
  assert.equal(outbox.length, 1);
  assert.equal(outbox[0].kind, 'magic_link');
  assert.ok(outbox[0].sent_at, 'marked sent');
  assert.ok(!outbox[0].body.includes(mail.token), 'token scrubbed from the sent body');

  const r = await call(s, 'POST', '/v1/auth/session', { body: { token: mail.token } });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.session_token, TOKEN_RE);
  seenSecrets.push(r.json.session_token);
  assert.match(r.json.expires_at, RFC3339_Z_RE);
  const days = (Date.parse(r.json.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 29.9 && days <= 30.01, `session lasts 30 days, got ${days}`);
  assert.equal(r.json.patron.id, p.id);
  assert.equal(r.json.patron.email, p.email);
  const stored = await s.psql(`SELECT encode(token_hash, 'hex') FROM sessions WHERE patron_id = '${p.id}'`);
  assert.equal(stored, sha256hex(r.json.session_token));

  const me = await call(s, 'GET', '/v1/me', { token: r.json.session_token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.patron.id, p.id);

  const again = await call(s, 'POST', '/v1/auth/session', { body: { token: mail.token } });
  assertProblem(assert, again, 401, 'a used link');
});

test('two parallel exchanges of one link: exactly one session', async () => {
  const p = await newPatron();
  const token = await linkToken(p.email);
  for (let round = 0; round < 3; round++) {
    const t = round === 0 ? token : await linkToken(p.email);
    const rs = await Promise.all([0, 1, 2, 3].map(() =>
      call(s, 'POST', '/v1/auth/session', { body: { token: t }, ip: freshIp() })));
    const statuses = rs.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 401, 401, 401], rs.map((r) => r.text).join('\n'));
    rs.filter((r) => r.status === 201).forEach((r) => seenSecrets.push(r.json.session_token));
  }
  assert.equal(await s.psql(`SELECT count(*) FROM sessions WHERE patron_id = '${p.id}'`), '3');
});

test('an expired, unknown or malformed link is 401; bad bodies are 422/415', async () => {
  const p = await newPatron();
  const token = await linkToken(p.email);
  await s.psql(`UPDATE magic_links SET expires_at = now() - interval '1 second'
                WHERE token_hash = decode('${sha256hex(token)}', 'hex')`);
  assertProblem(assert, await call(s, 'POST', '/v1/auth/session', { body: { token } }), 401, 'expired');
  for (const bad of ['x', 'A'.repeat(43), 'token with spaces?', 'é'.repeat(300)]) {
    const r = await call(s, 'POST', '/v1/auth/session', { body: { token: bad }, ip: freshIp() });
    assertProblem(assert, r, 401, `token ${bad.slice(0, 10)}`);
  }
  const ip = freshIp();
  for (const body of [{}, { token: 5 }, { token: null }, { token: '' }, { token: 'x', extra: 1 }]) {
    assertProblem(assert, await call(s, 'POST', '/v1/auth/session', { body, ip }), 422, JSON.stringify(body));
  }
  assertProblem(assert, await call(s, 'POST', '/v1/auth/session', { body: [], ip }), 400, 'not an object');
  for (const body of [{}, { email: 'not-an-email' }, { email: 42 }, { email: p.email, x: 1 }]) {
    assertProblem(assert, await call(s, 'POST', '/v1/auth/magic-link', { body, ip }), 422, JSON.stringify(body));
  }
  const wrongType = await call(s, 'POST', '/v1/auth/magic-link', {
    body: JSON.stringify({ email: p.email }), headers: { 'Content-Type': 'text/plain' }, ip });
  assertProblem(assert, wrongType, 415, 'text/plain');
  assertProblem(assert, await call(s, 'POST', '/v1/auth/magic-link', { body: '{"email":', ip }), 400, 'bad JSON');
});

test('an unknown or erased address gets the same 202 and no mail', async () => {
  const erased = await newPatron('erased');
  assert.equal((await s.del(`/v1/patrons/${erased.id}`)).status, 204);
  const before = await s.psql('SELECT (SELECT count(*) FROM magic_links) || \'/\' || (SELECT count(*) FROM outbox)');
  const known = await newPatron();
  const unknown = uniqueEmail('nobody');
  const a = await requestLink(unknown);
  const b = await requestLink(erased.email);
  const c = await requestLink(known.email.toUpperCase());
  assert.equal(a.text, c.text);
  assert.equal(b.text, c.text);
  assert.equal(a.headers['content-type'], c.headers['content-type']);
  await mailsTo(known.email); // the known one's mail arrived, so the others had their chance
  await sleep(1500);
  const to = readMails(box.dir).map((m) => m.headers.to);
  assert.ok(!to.includes(unknown) && !to.includes(erased.email), 'no mail to unknown/erased');
  const after = await s.psql('SELECT (SELECT count(*) FROM magic_links) || \'/\' || (SELECT count(*) FROM outbox)');
  const [l0, o0] = before.split('/').map(Number);
  assert.equal(after, `${l0 + 1}/${o0 + 1}`, 'only the known address got a link');
});

test('at most 5 links per address per 15 minutes, still 202 beyond', async () => {
  const p = await newPatron();
  for (let i = 0; i < 8; i++) await requestLink(p.email);
  assert.equal(await s.psql(`SELECT count(*) FROM magic_links WHERE patron_id = '${p.id}'`), '5');
  assert.equal(await s.psql(`SELECT count(*) FROM outbox WHERE patron_id = '${p.id}'`), '5');
  await s.psql(`UPDATE magic_links SET created_at = created_at - interval '16 minutes' WHERE patron_id = '${p.id}'`);
  await requestLink(p.email);
  assert.equal(await s.psql(`SELECT count(*) FROM magic_links WHERE patron_id = '${p.id}'`), '6');
});

test('per-address rate limit: 429 problem+json with Retry-After, other addresses unaffected', async () => {
  const ip = freshIp();
  const statuses = [];
  let limited = null;
  for (let i = 0; i < 12; i++) {
    const r = await call(s, 'POST', '/v1/auth/magic-link', { body: { email: uniqueEmail('rl') }, ip });
    statuses.push(r.status);
    if (r.status === 429) limited = limited || r;
  }
  assert.deepEqual(statuses, [...Array(10).fill(202), 429, 429]);
  assertProblem(assert, limited, 429, 'over the limit');
  const retry = Number(limited.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${limited.headers['retry-after']}`);
  const other = await call(s, 'POST', '/v1/auth/magic-link', { body: { email: uniqueEmail('rl') }, ip: freshIp() });
  assert.equal(other.status, 202);
});

test('signing out revokes only the presented session', async () => {
  const p = await newPatron();
  const one = await signIn(p.email);
  const two = await signIn(p.email);
  const out = await call(s, 'DELETE', '/v1/auth/session', { token: one.session_token });
  assert.equal(out.status, 204, out.text);
  assertProblem(assert, await call(s, 'GET', '/v1/me', { token: one.session_token }), 401, 'revoked');
  assertProblem(assert, await call(s, 'DELETE', '/v1/auth/session', { token: one.session_token }), 401, 'twice');
  assert.equal((await call(s, 'GET', '/v1/me', { token: two.session_token })).status, 200);
  assertProblem(assert, await call(s, 'GET', '/v1/me'), 401, 'no token');
  assertProblem(assert, await call(s, 'GET', '/v1/me', { token: s.adminKey }), 403, 'an admin key is no session');
  assertProblem(assert, await call(s, 'DELETE', '/v1/auth/session', { token: 'nope' }), 401, 'unknown');
  const expired = await signIn(p.email);
  await s.psql(`UPDATE sessions SET expires_at = now() - interval '1 second'
                WHERE token_hash = decode('${sha256hex(expired.session_token)}', 'hex')`);
  assertProblem(assert, await call(s, 'GET', '/v1/me', { token: expired.session_token }), 401, 'expired session');
});

test('/v1/me: a patron without a pledge is no member', async () => {
  const p = await newPatron();
  const { session_token: t } = await signIn(p.email);
  const me = await call(s, 'GET', '/v1/me', { token: t });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.patron.id, p.id);
  assert.deepEqual(me.json.pledges, []);
  assert.equal(me.json.member, false);
  assert.equal(me.json.member_reason, 'no active pledge');
  assert.equal(me.json.member_until, null);
});

function plusDays(iso, days) {
  return new Date(Date.parse(iso) + days * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

test('/v1/me: a provider pledge activated without a charge (a trial) makes no member, and says so', async () => {
  const p = await newPatron();
  const { session_token: t } = await signIn(p.email);
  const pl = await s.post('/v1/pledges', {
    patron_id: p.id, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'stripe',
    status: 'active',
  });
  assert.equal(pl.status, 201, pl.text);
  const me = (await call(s, 'GET', '/v1/me', { token: t })).json;
  assert.equal(me.member, false);
  assert.equal(me.member_reason, 'pledge not paid yet');
  assert.equal(me.patron.status, 'none', 'never a member, so not lapsed either');
});

test('/v1/me: membership, its reason and its end follow the pledges', async () => {
  const p = await newPatron();
  const { session_token: t } = await signIn(p.email);
  const periodEnd = plusDays(new Date().toISOString(), 20);
  const pl = await s.post('/v1/pledges', {
    patron_id: p.id, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'manual',
    status: 'active', current_period_end: periodEnd,
  });
  assert.equal(pl.status, 201, pl.text);
  let me = (await call(s, 'GET', '/v1/me', { token: t })).json;
  assert.equal(me.member, true);
  assert.equal(me.member_reason, 'active monthly pledge');
  assert.equal(me.member_until, plusDays(periodEnd, 7));
  assert.equal(me.pledges.length, 1);
  assert.equal(me.pledges[0].id, pl.json.id);
  assert.equal(me.patron.status, 'member', 'agrees with the admin status');

  const lapsedEnd = plusDays(new Date().toISOString(), -2);
  const pd = await s.patch(`/v1/pledges/${pl.json.id}`, { status: 'past_due', current_period_end: lapsedEnd });
  assert.equal(pd.status, 200, pd.text);
  me = (await call(s, 'GET', '/v1/me', { token: t })).json;
  assert.equal(me.member, true);
  assert.equal(me.member_reason, 'past_due pledge within the 7-day grace period');
  assert.equal(me.member_until, plusDays(lapsedEnd, 7));

  await s.patch(`/v1/pledges/${pl.json.id}`, { current_period_end: plusDays(new Date().toISOString(), -8) });
  me = (await call(s, 'GET', '/v1/me', { token: t })).json;
  assert.equal(me.member, false);
  assert.equal(me.member_reason, 'pledge past_due beyond the 7-day grace period',
    'says which pledge came closest, as a refused ballot does');
  assert.equal(me.patron.status, 'lapsed');

  const once = await s.post('/v1/pledges', {
    patron_id: p.id, amount_minor: 1000, currency: 'EUR', interval: 'once', provider: 'manual', status: 'active',
  });
  assert.equal(once.status, 201, once.text);
  me = (await call(s, 'GET', '/v1/me', { token: t })).json;
  assert.equal(me.member, true);
  assert.equal(me.member_reason, 'one-off pledge paid in the last 31 days');
  const activated = await s.psql(`SELECT rfc3339(activated_at + interval '31 days') FROM pledges WHERE id = '${once.json.id}'`);
  assert.equal(me.member_until, activated);
  assert.equal(me.pledges.length, 2);
});

test('/v1/me/export holds everything about the patron and no secrets', async () => {
  const p = await newPatron();
  const first = await signIn(p.email);
  const { session_token: t } = await signIn(p.email);
  const pl = await s.post('/v1/pledges', {
    patron_id: p.id, amount_minor: 700, currency: 'USD', interval: 'month', provider: 'manual', status: 'active',
  });
  assert.equal(pl.status, 201);
  const r = await call(s, 'GET', '/v1/me/export', { token: t });
  assert.equal(r.status, 200, r.text);
  const doc = r.json;
  assert.equal(doc.patron.id, p.id);
  assert.equal(doc.patron.email, p.email);
  assert.deepEqual(doc.pledges.map((x) => x.id), [pl.json.id]);
  assert.deepEqual(doc.payments, []);
  assert.match(doc.exported_at, RFC3339_Z_RE);
  assert.equal(doc.membership.member, true);
  assert.equal(doc.sessions.length, 2);
  for (const x of doc.sessions) assert.deepEqual(Object.keys(x).sort(), ['created_at', 'expires_at', 'id', 'revoked_at']);
  assert.equal(doc.magic_links.length, 2);
  assert.ok(doc.magic_links.every((m) => m.used_at));
  assert.equal(doc.messages.length, 2);
  assert.ok(doc.messages.every((m) => m.kind === 'magic_link' && m.to_address === p.email));
  assert.ok(doc.messages.every((m) => m.body.includes('token=[redacted]')));
  for (const secret of [first.session_token, t, sha256hex(t), ...seenSecrets]) {
    assert.ok(!r.text.includes(secret), 'no token or hash in the export');
  }
  const admin = await s.get(`/v1/patrons/${p.id}/export`);
  assert.equal(admin.status, 200);
  assert.deepEqual(admin.json.patron, doc.patron);
});

test('DELETE /v1/me erases the patron, ends every session, keeps the ledger', async () => {
  const p = await newPatron();
  const one = await signIn(p.email);
  const { session_token: t } = await signIn(p.email);
  await requestLink(p.email); // a pending link and its mail
  await mailsTo(p.email, 3);
  const pl = await s.post('/v1/pledges', {
    patron_id: p.id, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'manual', status: 'active',
  });
  assert.equal(pl.status, 201);
  await s.psql(`INSERT INTO payments (kind, amount_minor, currency, provider, provider_payment_id, pledge_id, patron_id, occurred_at)
                VALUES ('charge', 500, 'USD', 'manual', 'erase-${p.id}', '${pl.json.id}', '${p.id}', now())`);
  // a receipt not yet sent must never go out after the erasure
  await s.psql(`INSERT INTO outbox (patron_id, kind, to_address, subject, body, next_attempt_at)
                VALUES ('${p.id}', 'receipt', '${p.email}', 'Thanks', 'unsent', now() + interval '1 hour')`);

  const del = await call(s, 'DELETE', '/v1/me', { token: t });
  assert.equal(del.status, 204, del.text);
  for (const tok of [t, one.session_token]) {
    assertProblem(assert, await call(s, 'GET', '/v1/me', { token: tok }), 401, 'session ended');
  }
  const admin = await s.get(`/v1/patrons/${p.id}`);
  assert.equal(admin.status, 200);
  assert.equal(admin.json.email, null);
  assert.equal(admin.json.name, null);
  assert.ok(admin.json.erased_at);
  const pledges = await s.get(`/v1/pledges?patron_id=${p.id}`);
  assert.equal(pledges.json.data.length, 1, 'pledges remain');
  const payments = await s.get(`/v1/payments?patron_id=${p.id}`);
  assert.equal(payments.json.data.length, 1, 'payments remain');
  assert.equal(payments.json.data[0].amount_minor, 500);

  assert.equal(await s.psql(`SELECT count(*) FROM sessions WHERE patron_id = '${p.id}' AND revoked_at IS NULL`), '0');
  assert.equal(await s.psql(`SELECT count(*) FROM magic_links WHERE patron_id = '${p.id}' AND used_at IS NULL`), '0');
  assert.equal(await s.psql(`SELECT count(*) FROM outbox WHERE patron_id = '${p.id}' AND sent_at IS NULL`), '0',
    'unsent mail to them is dropped');
  assert.equal(await s.psql(`SELECT count(*) FROM outbox WHERE patron_id = '${p.id}'
                              AND (to_address IS NOT NULL OR body <> '' OR subject <> '')`), '0');
  assert.equal(await s.psql(`SELECT count(*) FROM audit_log WHERE entity_id = '${p.id}'
                              AND (before::text LIKE '%${p.email}%' OR after::text LIKE '%${p.email}%')`), '0');

  const count = readMails(box.dir).filter((m) => m.headers.to === p.email).length;
  await requestLink(p.email);
  await sleep(1500);
  assert.equal(readMails(box.dir).filter((m) => m.headers.to === p.email).length, count, 'no new mail after erasure');
  assert.equal((await call(s, 'DELETE', '/v1/me', { token: t })).status, 401);
});

test('no token ever reaches the log', async () => {
  assert.ok(seenSecrets.length > 10);
  for (const secret of seenSecrets) assert.ok(!s.stderr.includes(secret), 'token in server log');
});

test('a failing mail command: not marked sent, retried with back-off', async () => {
  const srv = await startServer({ env: { PATROND_MAIL_COMMAND: 'cat >/dev/null; echo "relay refused" >&2; exit 1' } });
  try {
    const email = uniqueEmail('fail');
    const p = await srv.post('/v1/patrons', { email });
    assert.equal(p.status, 201);
    const r = await call(srv, 'POST', '/v1/auth/magic-link', { body: { email } });
    assert.equal(r.status, 202);
    const row = await waitFor('a failed attempt', async () => {
      const [o] = await srv.psqlJson(`SELECT jsonb_build_object('attempts', attempts, 'sent', sent_at IS NOT NULL,
        'error', last_error, 'wait', extract(epoch FROM next_attempt_at - now())) FROM outbox`);
      return o && o.attempts >= 1 ? o : null;
    });
    assert.equal(row.attempts, 1);
    assert.equal(row.sent, false);
    assert.equal(row.error, 'exit status 1: relay refused');
    // `wait` is measured from this query's transaction start, which may
    // precede the job's by a moment (the query still sees its commit)
    assert.ok(row.wait > 20 && row.wait <= 30.5, `first retry in ~30 s, got ${row.wait}`);

    await srv.psql('UPDATE outbox SET next_attempt_at = now()');
    const second = await waitFor('a second attempt', async () => {
      const [o] = await srv.psqlJson(`SELECT jsonb_build_object('attempts', attempts, 'sent', sent_at IS NOT NULL,
        'wait', extract(epoch FROM next_attempt_at - now())) FROM outbox`);
      return o.attempts >= 2 ? o : null;
    });
    assert.equal(second.sent, false);
    assert.ok(second.wait > 50 && second.wait <= 60.5, `then ~60 s, got ${second.wait}`);
    assert.match(srv.stderr, /not delivered: exit status 1/);
    assert.ok(!srv.stderr.includes('relay refused'), "the mail program's output stays out of the log");
  } finally {
    await srv.stop();
  }
});

test('a sign-in link not delivered within 15 minutes is given up', async () => {
  const srv = await startServer({ env: { PATROND_MAIL_COMMAND: 'exit 1' } });
  try {
    const email = uniqueEmail('late');
    assert.equal((await srv.post('/v1/patrons', { email })).status, 201);
    assert.equal((await call(srv, 'POST', '/v1/auth/magic-link', { body: { email } })).status, 202);
    const row = await waitFor('giving up', async () => {
      // Sent 16 minutes ago and due now, again on every look: a failed
      // attempt in flight would otherwise push the next one out by its
      // back-off.
      await srv.psql(`UPDATE outbox SET created_at = now() - interval '16 minutes', next_attempt_at = now()
                       WHERE next_attempt_at <> 'infinity'`);
      const [o] = await srv.psqlJson(`SELECT jsonb_build_object('never', next_attempt_at = 'infinity',
        'error', last_error, 'sent', sent_at IS NOT NULL) FROM outbox`);
      return o.never ? o : null;
    });
    assert.equal(row.sent, false);
    assert.match(row.error, /expired/);
  } finally {
    await srv.stop();
  }
});

test('two servers on one database deliver each message exactly once', async () => {
  const shared = mailbox();
  const slow = `sleep 0.02; ${shared.command}`;
  const a = await startServer({ env: { PATROND_MAIL_COMMAND: slow }, keepDb: true });
  let b;
  try {
    b = await startServer({ env: { PATROND_MAIL_COMMAND: slow }, dbName: a.dbName });
    await a.psql(`SELECT outbox_enqueue(NULL, 'test', 'r' || g || '@example.org', 'Test ' || g, 'body ' || g)
                  FROM generate_series(1, 60) g`);
    await waitFor('all sent', async () => (await a.psql('SELECT count(*) FROM outbox WHERE sent_at IS NULL')) === '0', 30000);
    const mails = readMails(shared.dir);
    assert.equal(mails.length, 60);
    assert.equal(new Set(mails.map((m) => m.headers['message-id'])).size, 60);
    assert.equal(new Set(mails.map((m) => m.headers.to)).size, 60);
    assert.equal(await a.psql('SELECT count(*) FROM outbox WHERE attempts <> 1'), '0');
  } finally {
    await b?.stop();
    await a.stop();
    await dropDatabase(a.dbName);
    fs.rmSync(shared.dir, { recursive: true, force: true });
  }
});
