'use strict';
// Hostile input (issue 6): a table of requests no client should send,
// across every endpoint. Each must be refused with a 4xx problem+json
// (never a 5xx, never a dropped connection), leave no row behind, and
// leave the server up. SQL metacharacters and spreadsheet formulas that
// are accepted must come back exactly as sent (escaped in CSV). No secret
// or token used here may appear in the server's log.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startServer, uniqueEmail, sleep, parseCsv, UUID_RE } = require('./lib/harness');
const { stripe } = require('./lib/webhooks');
const { Webhook } = require('standardwebhooks');

// ---- secrets: every one of them is grepped for in the log at the end ----
const hex = (n) => crypto.randomBytes(n).toString('hex');
const STRIPE_SECRET = `whsec_${hex(24)}`;
const STANDARD_SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const PADDLE_SECRET = `pdl_ntfset_${hex(16)}`;
const PATREON_SECRET = `patreon-${hex(16)}`;
const LIQPAY_PUBLIC = `sandbox_i${hex(6)}`;
const LIQPAY_PRIVATE = `sandbox_${hex(20)}`;
const WFP_MERCHANT = 'hostile_example_org';
const WFP_SECRET = `wfp-${hex(16)}`;
const mono = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const MONO_PUBKEY = Buffer.from(mono.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-hostile-'));
const CERT_FILE = path.join(tmp, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=test', '-days', '2',
  '-keyout', path.join(tmp, 'key.pem'), '-out', CERT_FILE], { stdio: 'ignore' });
const PAYPAL_WEBHOOK_ID = `WH-${hex(8).toUpperCase()}`;

// The mail "program" files each message, so the magic link's token can be read.
const MAILDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-hostile-mail-'));
const MAILER = path.join(MAILDIR, 'deliver.sh');
fs.writeFileSync(MAILER, '#!/bin/sh\nf="$1/$(date +%s%N)-$$"\ncat > "$f.tmp" && mv "$f.tmp" "$f.eml"\n');

const secrets = [STRIPE_SECRET, STANDARD_SECRET, PADDLE_SECRET, PATREON_SECRET, LIQPAY_PRIVATE, WFP_SECRET];
let srv;
const fx = {}; // fixtures: ids and tokens

before(async () => {
  srv = await startServer({
    env: {
      PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      PATROND_STANDARD_WEBHOOK_SECRET: STANDARD_SECRET,
      PATROND_PADDLE_WEBHOOK_SECRET: PADDLE_SECRET,
      PATROND_PATREON_WEBHOOK_SECRET: PATREON_SECRET,
      PATROND_LIQPAY_PUBLIC_KEY: LIQPAY_PUBLIC,
      PATROND_LIQPAY_PRIVATE_KEY: LIQPAY_PRIVATE,
      PATROND_WAYFORPAY_MERCHANT: WFP_MERCHANT,
      PATROND_WAYFORPAY_SECRET: WFP_SECRET,
      PATROND_MONOBANK_PUBKEY: MONO_PUBKEY,
      PATROND_PAYPAL_WEBHOOK_ID: PAYPAL_WEBHOOK_ID,
      PATROND_PAYPAL_CERT_FILE: CERT_FILE,
      PATROND_MAIL_COMMAND: `sh '${MAILER}' '${MAILDIR}'`,
      PATROND_PUBLIC_URL: 'https://members.example.org',
      PATROND_CHECKOUT_RATE_LIMIT: '0',
    },
  });
  secrets.push(srv.adminKey, srv.readKey);

  const ok = (r, status) => { assert.equal(r.status, status, r.text); return r.json; };
  fx.email = uniqueEmail('hostile');
  fx.patron = ok(await srv.post('/v1/patrons', { email: fx.email, name: 'Hostile Fixture' }), 201).id;
  fx.tier = ok(await srv.post('/v1/tiers', { name: 'Base', amount_minor: 500, currency: 'USD' }), 201).id;
  fx.pledge = ok(await srv.post('/v1/pledges', {
    patron_id: fx.patron, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'manual', status: 'active',
  }), 201).id;
  fx.topic = ok(await srv.post('/v1/topics', { title: 'Fixture topic' }), 201).id;
  fx.topic2 = ok(await srv.post('/v1/topics', { title: 'Fixture topic 2' }), 201).id;
  const iso = (ms) => new Date(Date.now() + ms).toISOString();
  fx.round = ok(await srv.post('/v1/rounds', {
    title: 'Open', topic_ids: [fx.topic, fx.topic2], opens_at: iso(-60000), closes_at: iso(3600000),
  }), 201).id;
  fx.scheduled = ok(await srv.post('/v1/rounds', {
    title: 'Later', topic_ids: [fx.topic], opens_at: iso(86400000), closes_at: iso(2 * 86400000),
  }), 201).id;

  // a real sign-in: magic link by mail, exchanged for a session
  ok(await srv.request('POST', '/v1/auth/magic-link', { body: { email: fx.email } }), 202);
  const deadline = Date.now() + 15000;
  let link = null;
  while (!link && Date.now() < deadline) {
    for (const f of fs.readdirSync(MAILDIR).filter((x) => x.endsWith('.eml'))) {
      const m = fs.readFileSync(path.join(MAILDIR, f), 'utf8').match(/members\?token=([A-Za-z0-9_-]+)/);
      if (m) link = m[1];
    }
    if (!link) await sleep(100);
  }
  assert.ok(link, 'the magic link was mailed');
  fx.linkToken = link;
  fx.session = ok(await srv.request('POST', '/v1/auth/session', { body: { token: link } }), 201).session_token;
  assert.ok(fx.session, 'a session token');
  secrets.push(fx.linkToken, fx.session);
  // a second, unused magic link whose token stays valid: used only in hostile shapes
  ok(await srv.request('POST', '/v1/auth/magic-link', { body: { email: fx.email } }), 202);
  ok(await srv.request('PUT', `/v1/rounds/${fx.round}/ballot`, { key: fx.session, body: { topic_ids: [fx.topic] } }), 200);
  // an expired session
  fx.expired = crypto.randomBytes(32).toString('base64url');
  const h = crypto.createHash('sha256').update(fx.expired).digest('hex');
  await srv.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at)
                  VALUES ('${fx.patron}', decode('${h}', 'hex'), now() - interval '1 minute')`);
  secrets.push(fx.expired);
});

after(async () => {
  try {
    if (srv) await srv.stop();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(MAILDIR, { recursive: true, force: true });
  }
});

// ---- raw HTTP over a socket, for what node's http client refuses to send ----

function parseResponse(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = text.slice(0, end).split('\r\n');
  const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})/);
  if (!m) return null;
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (body.length < n) return null;
    body = body.subarray(0, n);
  } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const parts = [];
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      if (nl < 0) return null;
      const size = parseInt(rest.subarray(0, nl).toString(), 16);
      if (size === 0) break;
      if (rest.length < nl + 2 + size + 2) return null;
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      rest = rest.subarray(nl + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  }
  const t = body.toString('utf8');
  let json = null;
  try { json = JSON.parse(t); } catch { json = null; }
  return { status: Number(m[1]), headers, text: t, json };
}

// Sends bytes as they are; resolves the parsed response, or {status: 0,
// text: why} when the server closed the connection without an answer.
// `head` bytes go first; like a client sending Expect: 100-continue, the
// rest follows only if no early answer (a 413) came back meanwhile.
function raw(bytes, { head = bytes.length, timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    if (!Buffer.isBuffer(bytes)) bytes = Buffer.from(bytes, 'latin1');
    const sock = net.connect(srv.port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (res) => { if (!done) { done = true; sock.destroy(); resolve(res); } };
    const timer = setTimeout(() => finish({ status: 0, headers: {}, text: 'timeout', json: null }), timeoutMs);
    sock.on('data', (d) => {
      chunks.push(d);
      const res = parseResponse(Buffer.concat(chunks));
      if (res) { clearTimeout(timer); finish(res); }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      finish(parseResponse(Buffer.concat(chunks)) ||
        { status: 0, headers: {}, text: `closed without an answer (${Buffer.concat(chunks).length} bytes)`, json: null });
    });
    (async () => {
      sock.write(bytes.subarray(0, head));
      if (bytes.length - head > 65536) await sleep(100);
      for (let i = head; i < bytes.length && !chunks.length && !done; i += 65536) {
        if (!sock.write(bytes.subarray(i, i + 65536))) await new Promise((r) => sock.once('drain', r));
      }
    })().catch(() => {});
  });
}

// A request line and header lines; a body (string/Buffer) gets its Content-Length.
function rawRequest(method, target, headerLines = [], body = null) {
  const b = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  const head = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headerLines];
  if (b) head.push(`Content-Length: ${b.length}`);
  const h = Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1');
  return raw(Buffer.concat([h, b || Buffer.alloc(0)]), { head: h.length });
}

// ---- the table ----

const cases = [];
// `protocol`: a request libmicrohttpd itself refuses before patrond sees it;
// its answer is a 4xx (505 for an unknown HTTP version) with its own small
// HTML body, which no callback can turn into problem+json.
const add = (category, name, send, protocol = false) => cases.push({ category, name, send, protocol });

const J = 'Content-Type: application/json';
const admin = () => `Authorization: Bearer ${srv.adminKey}`;
const patron = () => `Authorization: Bearer ${fx.session}`;

// Every endpoint that takes a JSON body: a valid body with one string value
// left as the marker @@, which each attack replaces with its bytes.
const jsonEndpoints = () => [
  { name: 'POST /v1/patrons', method: 'POST', path: '/v1/patrons', auth: admin(), tpl: { email: uniqueEmail('h'), name: '@@' } },
  { name: 'PATCH /v1/patrons/{id}', method: 'PATCH', path: `/v1/patrons/${fx.patron}`, auth: admin(), tpl: { name: '@@' } },
  { name: 'POST /v1/tiers', method: 'POST', path: '/v1/tiers', auth: admin(), tpl: { name: '@@', amount_minor: 100, currency: 'USD' } },
  { name: 'PATCH /v1/tiers/{id}', method: 'PATCH', path: `/v1/tiers/${fx.tier}`, auth: admin(), tpl: { name: '@@' } },
  { name: 'POST /v1/pledges', method: 'POST', path: '/v1/pledges', auth: admin(),
    tpl: { patron_id: fx.patron, amount_minor: 100, currency: 'USD', interval: 'month', provider: 'manual', provider_ref: '@@' } },
  { name: 'PATCH /v1/pledges/{id}', method: 'PATCH', path: `/v1/pledges/${fx.pledge}`, auth: admin(), tpl: { provider_ref: '@@' } },
  { name: 'POST /v1/topics', method: 'POST', path: '/v1/topics', auth: admin(), tpl: { title: '@@' } },
  { name: 'PATCH /v1/topics/{id}', method: 'PATCH', path: `/v1/topics/${fx.topic}`, auth: admin(), tpl: { title: '@@' } },
  { name: 'POST /v1/rounds', method: 'POST', path: '/v1/rounds', auth: admin(),
    tpl: { title: '@@', topic_ids: [fx.topic], opens_at: '2030-01-01T00:00:00Z', closes_at: '2030-01-02T00:00:00Z' } },
  { name: 'PATCH /v1/rounds/{id}', method: 'PATCH', path: `/v1/rounds/${fx.scheduled}`, auth: admin(), tpl: { title: '@@' } },
  { name: 'PUT /v1/rounds/{id}/ballot', method: 'PUT', path: `/v1/rounds/${fx.round}/ballot`, auth: patron(), tpl: { topic_ids: ['@@'] } },
  { name: 'POST /v1/checkout', method: 'POST', path: '/v1/checkout', auth: null,
    tpl: { email: uniqueEmail('co'), name: '@@', amount_minor: 500, currency: 'USD', interval: 'month', provider: 'liqpay' } },
  { name: 'POST /v1/auth/magic-link', method: 'POST', path: '/v1/auth/magic-link', auth: null, tpl: { email: '@@' } },
  { name: 'POST /v1/auth/session', method: 'POST', path: '/v1/auth/session', auth: null, tpl: { token: '@@' } },
];

function fill(tpl, bytes) {
  const [a, b] = JSON.stringify(tpl).split('@@');
  return Buffer.concat([Buffer.from(a), Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'), Buffer.from(b)]);
}
const sendJson = (e, body, extra = []) =>
  rawRequest(e.method, e.path, [J, ...(e.auth ? [e.auth] : []), ...extra], body);

function buildTable() {
  const eps = jsonEndpoints();

  // invalid UTF-8 and NUL bytes inside JSON strings
  const badStrings = {
    'a lone 0xFF byte': Buffer.from([0x41, 0xff, 0x42]),
    'an overlong "/" (C0 AF)': Buffer.from([0xc0, 0xaf]),
    'a UTF-8-encoded surrogate (ED A0 80)': Buffer.from([0xed, 0xa0, 0x80]),
    'a truncated sequence (E2 82)': Buffer.from([0xe2, 0x82]),
    'an escaped lone surrogate \\ud800': Buffer.from('x\\ud800y'),
    'a raw NUL byte': Buffer.from([0x61, 0x00, 0x62]),
    'an escaped NUL \\u0000': Buffer.from('a\\u0000b'),
  };
  for (const e of eps) {
    for (const [what, bytes] of Object.entries(badStrings)) {
      add(/NUL/.test(what) ? 'NUL bytes' : 'invalid UTF-8', `${e.name}: ${what}`, () => sendJson(e, fill(e.tpl, bytes)));
    }
    add('NUL bytes', `${e.name}: a NUL after the document`,
      () => sendJson(e, Buffer.concat([fill(e.tpl, 'ok'), Buffer.from([0])])));
  }

  // duplicate keys, wrong types, wrong top-level values, wrong Content-Type
  for (const e of eps) {
    const first = Object.keys(e.tpl)[0];
    const plain = fill(e.tpl, 'x').toString();
    const again = JSON.stringify(e.tpl[first] === '@@' ? 'y' : e.tpl[first]);
    add('duplicate keys', `${e.name}: "${first}" twice`, () => sendJson(e, plain.replace(/^\{/, `{"${first}":${again},`)));
    for (const [what, value] of [['a number', 5], ['an object', { a: 1 }], ['an array of arrays', [[1]]], ['true', true]]) {
      const k = Object.keys(e.tpl).find((x) => JSON.stringify(e.tpl[x]).includes('@@'));
      add('wrong types', `${e.name}: "${k}" is ${what}`, () => sendJson(e, JSON.stringify({ ...e.tpl, [k]: value })));
    }
    add('wrong types', `${e.name}: body is an array`, () => sendJson(e, '[1,2,3]'));
    add('wrong types', `${e.name}: body is a string`, () => sendJson(e, '"hello"'));
    add('wrong types', `${e.name}: truncated JSON`, () => sendJson(e, '{"a": '));
    add('wrong types', `${e.name}: empty body`, () => rawRequest(e.method, e.path, [J, ...(e.auth ? [e.auth] : [])], ''));
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x']) {
      add('wrong Content-Type', `${e.name}: ${ct}`,
        () => rawRequest(e.method, e.path, [`Content-Type: ${ct}`, ...(e.auth ? [e.auth] : [])], fill(e.tpl, 'x')));
    }
    add('wrong Content-Type', `${e.name}: none`,
      () => rawRequest(e.method, e.path, [...(e.auth ? [e.auth] : [])], fill(e.tpl, 'x')));
  }

  // deep nesting
  for (const e of [eps[0], eps[2], eps[6], eps[11], eps[10]]) {
    add('deep nesting', `${e.name}: 40 nested arrays`, () => sendJson(e, JSON.stringify({ ...e.tpl, x: null }).replace('null', '['.repeat(40) + ']'.repeat(40))));
    add('deep nesting', `${e.name}: 100 000 nested arrays`, () => sendJson(e, '['.repeat(100000) + ']'.repeat(100000)));
    add('deep nesting', `${e.name}: 5 000 nested objects, unclosed`, () => sendJson(e, '{"a":'.repeat(5000)));
  }

  // huge and odd numbers in integer fields
  const numbers = ['1e400', '-1e400', '-0', '18446744073709551616', '9223372036854775808', '-9223372036854775809',
    '1.5', '1e2', '0', '-1', '123456789012345678901234567890', '1e-400', 'NaN', 'Infinity', '0x10', '"500"'];
  const intFields = [
    [eps[2], 'amount_minor'], [eps[4], 'amount_minor'], [eps[11], 'amount_minor'], [eps[8], 'max_choices'],
    [{ ...eps[2], tpl: { name: 'w', amount_minor: 100, currency: 'USD', vote_weight: '@@' } }, 'vote_weight'],
  ];
  for (const [e, field] of intFields) {
    for (const n of numbers) {
      add('huge numbers', `${e.name}: ${field} = ${n}`, () => {
        const body = JSON.stringify({ ...e.tpl, [field]: '@@N@@' }).replace(/"@@"/, '"x"').replace('"@@N@@"', n);
        return sendJson(e, body);
      });
    }
  }

  // huge strings
  add('huge strings', 'POST /v1/patrons: a 2 MB name (over the body limit)', () => sendJson(eps[0], fill(eps[0].tpl, 'a'.repeat(2 * 1024 * 1024))));
  add('huge strings', 'POST /v1/patrons: a 2 MB body, chunked', () => srv.request('POST', '/v1/patrons',
    { key: srv.adminKey, body: { email: uniqueEmail('big'), name: 'b'.repeat(2 * 1024 * 1024) }, chunked: true, chunkSize: 65536 }));
  add('huge strings', 'POST /v1/patrons: a 100 000 character name', () => sendJson(eps[0], fill(eps[0].tpl, 'n'.repeat(100000))));
  add('huge strings', 'POST /v1/patrons: a 10 000 character e-mail',
    () => sendJson(eps[0], JSON.stringify({ email: `${'e'.repeat(10000)}@example.org` })));
  add('huge strings', 'POST /v1/topics: a 900 000 character title', () => sendJson(eps[6], fill(eps[6].tpl, 't'.repeat(900000))));
  add('huge strings', 'POST /v1/auth/session: a 500 000 character token', () => sendJson(eps[13], fill(eps[13].tpl, 'k'.repeat(500000))));
  add('huge strings', 'POST /v1/checkout: a 300 000 character return_url',
    () => sendJson(eps[11], JSON.stringify({ ...eps[11].tpl, name: 'x', return_url: `https://a.example/${'p'.repeat(300000)}` })));
  add('huge strings', 'PUT ballot: 100 000 topic ids',
    () => sendJson(eps[10], JSON.stringify({ topic_ids: Array.from({ length: 100000 }, () => fx.topic) })));
  add('huge strings', 'Content-Length larger than the limit, no body sent',
    () => raw(`POST /v1/patrons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${J}\r\n${admin()}\r\nContent-Length: 99999999999\r\n\r\n`));

  // invalid UTF-8, NUL and huge numbers in query strings
  const lists = ['/v1/patrons', '/v1/pledges', '/v1/payments', '/v1/audit', '/v1/webhook-events', '/v1/topics', '/v1/rounds'];
  for (const l of lists) {
    for (const q of ['limit=%ff', 'after=%ff%fe', 'after=%00', 'limit=18446744073709551616', 'limit=-0', 'limit=1e400',
      'after=%ed%a0%80', 'x%ff=1', 'limit=5%00']) {
      add('query strings', `GET ${l}?${q}`, () => rawRequest('GET', `${l}?${q}`, [admin()]));
    }
  }
  for (const q of ['q=%ff', 'q=%00', 'q=a%00b', 'q=%c0%27', 'q=' + 'z'.repeat(5000), 'q=%e2%82']) {
    add('query strings', `GET /v1/patrons?${q.slice(0, 30)}`, () => rawRequest('GET', `/v1/patrons?${q}`, [admin()]));
  }
  for (const q of ['months=%ff', 'months=99999999999999999999', 'months=-1', 'months=1e400', 'currency=%ff', 'currency=US%00']) {
    add('query strings', `GET /v1/reports/mrr?${q}`, () => rawRequest('GET', `/v1/reports/mrr?${q}`, [admin()]));
  }
  for (const [l, q] of [['payments', 'patron_id=%ff'], ['payments', 'pledge_id=%00'], ['payments', 'kind=%ff'],
    ['pledges', 'provider=%c0%af'], ['audit', 'entity_id=x%00'], ['audit', 'entity=%ff'], ['pledges', 'status=%c0%af'],
    ['webhook-events', 'status=applied%00'], ['topics', 'status=%ff'], ['rounds', 'status=open%00x'],
    ['patrons', 'status=%e2%82'], ['pledges', 'status=' + 'x'.repeat(3000)]]) {
    add('query strings', `GET /v1/${l}?${q.slice(0, 30)}`, () => rawRequest('GET', `/v1/${l}?${q}`, [admin()]));
  }

  // header injection and malformed header lines (raw)
  const hdr = [
    ['CR inside a header value', 'X-Test: a\rb'],
    ['bare LF line end in a header', 'X-Test: a\nX-Other: b'],
    ['NUL inside a header value', 'X-Test: a\0b'],
    ['obs-fold continuation line', 'X-Test: a\r\n  continued'],
    ['space before the colon', 'X-Test : a'],
    ['header name with a space', 'Bad Header: a'],
    ['header line without a colon', 'NoColonHere'],
    ['CR in the Authorization value', `Authorization: Bearer a\rb`],
    ['NUL in the Authorization value', `Authorization: Bearer ${'a'.repeat(10)}\0x`],
    ['X-Request-Id that tries to add a header', 'X-Request-Id: abc%0d%0aSet-Cookie:%20x=1'],
    ['X-Request-Id with CR', 'X-Request-Id: abc\rSet-Cookie: x=1'],
    ['non-ASCII bytes in a header name', 'X-T\xe9st: a'],
  ];
  for (const [what, line] of hdr) {
    add('header injection', `GET /v1/patrons: ${what}`, () => rawRequest('GET', '/v1/patrons', [line]), true);
  }
  add('header injection', 'two Content-Length headers that disagree',
    () => raw(`POST /v1/patrons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${J}\r\n${admin()}\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}`), true);
  add('header injection', 'Content-Length and Transfer-Encoding together (smuggling)',
    () => raw(`POST /v1/patrons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${J}\r\n${admin()}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/patrons HTTP/1.1\r\nHost: x\r\n\r\n`), true);
  add('header injection', 'a negative Content-Length',
    () => raw(`POST /v1/patrons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${J}\r\n${admin()}\r\nContent-Length: -1\r\n\r\n{}`), true);
  add('header injection', 'a non-numeric Content-Length',
    () => raw(`POST /v1/patrons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${J}\r\n${admin()}\r\nContent-Length: 1x\r\n\r\n{}`), true);
  add('header injection', 'a bad chunk size',
    () => raw(`POST /v1/patrons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${J}\r\n${admin()}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`), true);
  add('header injection', 'HTTP/1.1 without Host', () => raw('GET /v1/tiers HTTP/1.1\r\nConnection: close\r\n\r\n'), true);
  add('header injection', 'an unknown HTTP version', () => raw('GET /v1/tiers HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n'), true);
  add('header injection', 'a request line with a NUL', () => raw('GET /v1/ti\0ers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), true);

  // long headers and URLs
  add('long headers and URLs', 'a 10 000 character path', () => rawRequest('GET', '/v1/patrons/' + 'a'.repeat(10000), [admin()]));
  add('long headers and URLs', 'a 200 000 character path', () => rawRequest('GET', '/v1/' + 'a'.repeat(200000), []), true);
  add('long headers and URLs', 'a 100 000 character query', () => rawRequest('GET', '/v1/tiers?x=' + 'q'.repeat(100000), []), true);
  add('long headers and URLs', 'a 100 000 character header value', () => rawRequest('GET', '/v1/tiers', ['X-Big: ' + 'h'.repeat(100000)]), true);
  add('long headers and URLs', '2 000 small headers', () => rawRequest('GET', '/v1/tiers', Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`)), true);
  add('long headers and URLs', 'a 20 000 character bearer token', () => rawRequest('GET', '/v1/patrons', ['Authorization: Bearer ' + 't'.repeat(20000)]));
  add('long headers and URLs', 'a 4 000 character Idempotency-Key',
    () => sendJson(eps[0], fill(eps[0].tpl, 'x'), ['Idempotency-Key: ' + 'i'.repeat(4000)]));

  // path traversal and encoded separators
  const traversal = ['/v1/../v1/patrons', '/v1/%2e%2e/v1/patrons', '/v1/patrons/..%2f..%2fetc%2fpasswd',
    '/v1/patrons/%2e%2e', '/v1/patrons/..', '/v1/tiers/..%2F', '//v1/patrons', '/v1//patrons',
    '/v1/patrons/%00', `/v1/patrons/${'%2e'.repeat(3)}%2f`, '/v1/webhooks/..%2fstripe', '/v1/webhooks/%2e%2e%2f',
    '/v1/rounds/%2e%2e/tally', '/v1/patrons%2f', '/v1/patrons/;', '/v1/patrons/%ff', '/./v1/patrons',
    '/v1/patrons/..%5c..%5c', '/etc/passwd', '/v1/patrons/00000000-0000-0000-0000-000000000000%2f..',
    `/v1/patrons/${'/'.repeat(1)}..`, '/v1/me/../patrons', '/v1/tiers/%252e%252e'];
  for (const t of traversal) add('path traversal', `GET ${t}`, () => rawRequest('GET', t, [admin()]));
  add('path traversal', 'an absolute-form URL', () => rawRequest('GET', 'http://evil.example/v1/patrons', [admin()]), true);
  add('path traversal', 'an asterisk-form target', () => rawRequest('GET', '*', []), true);
  add('path traversal', 'a target without a leading slash', () => rawRequest('GET', 'v1/patrons', [admin()]), true);

  // Idempotency-Key values
  for (const [what, v] of [['empty', ''], ['256 characters', 'k'.repeat(256)], ['control characters', 'a\x01b'],
    ['non-ASCII bytes', 'cl\xe9'], ['only spaces', '   '], ['DEL', 'a\x7fb'], ['a tab', 'a\tb']]) {
    add('Idempotency-Key', `POST /v1/patrons: ${what}`, () => rawRequest('POST', '/v1/patrons',
      [J, admin(), `Idempotency-Key: ${v}`], JSON.stringify({ email: 'not-an-email' })));
  }

  // auth header shapes
  const authShapes = [
    ['no credentials', []],
    ['"Bearer" alone', ['Authorization: Bearer']],
    ['"Bearer " and spaces', ['Authorization: Bearer    ']],
    ['Basic credentials', ['Authorization: Basic dXNlcjpwYXNz']],
    ['the key without a scheme', () => [`Authorization: ${srv.adminKey}`]],
    ['the key with extra words', () => [`Authorization: Bearer ${srv.adminKey} extra`]],
    ['the key with a tab', () => [`Authorization: Bearer\t${srv.adminKey}x`]],
    ['a Token scheme', () => [`Authorization: Token ${srv.adminKey}`]],
    ['the key with a trailing NUL-looking %00', () => [`Authorization: Bearer ${srv.adminKey}%00`]],
    ['a truncated key', () => [`Authorization: Bearer ${srv.adminKey.slice(0, -1)}`]],
    ['a key with non-ASCII bytes', ['Authorization: Bearer \xff\xfe\xfd']],
    ['a patron session', () => [patron()]],
    ['an expired session', () => [`Authorization: Bearer ${fx.expired}`]],
    ['the magic-link token as a bearer', () => [`Authorization: Bearer ${fx.linkToken}`]],
  ];
  for (const [what, lines] of authShapes) {
    add('auth', `GET /v1/patrons: ${what}`, () => rawRequest('GET', '/v1/patrons', typeof lines === 'function' ? lines() : lines));
  }
  add('auth', 'POST /v1/patrons with a read key', () => rawRequest('POST', '/v1/patrons', [J, `Authorization: Bearer ${srv.readKey}`], JSON.stringify({ email: uniqueEmail('ro') })));
  add('auth', 'GET /v1/me with the admin key', () => rawRequest('GET', '/v1/me', [admin()]));
  add('auth', 'GET /v1/me with an expired session', () => rawRequest('GET', '/v1/me', [`Authorization: Bearer ${fx.expired}`]));
  add('auth', 'DELETE /v1/me with Basic credentials', () => rawRequest('DELETE', '/v1/me', ['Authorization: Basic Og==']));
  add('auth', 'PUT ballot with the admin key', () => sendJson({ ...eps[10], auth: admin() }, JSON.stringify({ topic_ids: [fx.topic] })));
  add('auth', 'PUT ballot with an expired session', () => sendJson({ ...eps[10], auth: `Authorization: Bearer ${fx.expired}` }, JSON.stringify({ topic_ids: [fx.topic] })));
  add('auth', 'DELETE /v1/patrons/{id} with a session', () => rawRequest('DELETE', `/v1/patrons/${fx.patron}`, [patron()]));
  add('auth', 'DELETE /v1/auth/session with no token', () => rawRequest('DELETE', '/v1/auth/session', []));

  // stale values
  add('stale', 'POST /v1/auth/session with a made-up token', () => sendJson(eps[13], JSON.stringify({ token: crypto.randomBytes(32).toString('base64url') })));
  add('stale', 'POST /v1/auth/session with the already used link token', () => sendJson(eps[13], JSON.stringify({ token: fx.linkToken })));
  add('stale', 'POST /v1/rounds that closes before it opens', () => sendJson(eps[8], JSON.stringify({
    title: 'x', topic_ids: [fx.topic], opens_at: '2030-01-02T00:00:00Z', closes_at: '2030-01-01T00:00:00Z' })));
  add('stale', 'POST /v1/rounds with a year-0 timestamp', () => sendJson(eps[8], JSON.stringify({
    title: 'x', topic_ids: [fx.topic], opens_at: '0000-01-01T00:00:00Z', closes_at: '99999-01-01T00:00:00Z' })));
  add('stale', 'POST /v1/rounds with 31 February', () => sendJson(eps[8], JSON.stringify({
    title: 'x', topic_ids: [fx.topic], opens_at: '2030-02-31T00:00:00Z', closes_at: '2030-03-01T00:00:00Z' })));
  add('stale', 'PATCH /v1/pledges current_period_end in year 10000', () => sendJson(eps[5], JSON.stringify({ current_period_end: '10000-01-01T00:00:00Z' })));
  add('stale', 'PUT ballot on a round not open yet', () => sendJson({ ...eps[10], path: `/v1/rounds/${fx.scheduled}/ballot` }, JSON.stringify({ topic_ids: [fx.topic] })));
  add('stale', 'PUT ballot for a topic not in the round', () => sendJson(eps[10], JSON.stringify({ topic_ids: [crypto.randomUUID()] })));
  add('stale', 'PUT ballot with the same topic twice', () => sendJson(eps[10], JSON.stringify({ topic_ids: [fx.topic, fx.topic] })));

  // forged and replayed webhooks, every provider
  const now = () => Math.floor(Date.now() / 1000);
  const stripeBody = JSON.stringify({ id: `evt_${hex(8)}`, object: 'event', type: 'invoice.paid', created: now(),
    data: { object: { id: `in_${hex(8)}`, object: 'invoice', amount_paid: 500, currency: 'usd', customer_email: 'w@example.org' } } });
  const stripeHdr = (o) => stripe.webhooks.generateTestHeaderString({ payload: stripeBody, secret: STRIPE_SECRET, ...o });
  const wh = (provider, headers, body) => rawRequest('POST', `/v1/webhooks/${provider}`, headers, body);
  const SJ = 'Content-Type: application/json';
  add('webhooks', 'stripe: no signature', () => wh('stripe', [SJ], stripeBody));
  add('webhooks', 'stripe: signed with another secret', () => wh('stripe', [SJ,
    `Stripe-Signature: ${stripe.webhooks.generateTestHeaderString({ payload: stripeBody, secret: 'whsec_other' })}`], stripeBody));
  add('webhooks', 'stripe: replay of a timestamp an hour old', () => wh('stripe', [SJ, `Stripe-Signature: ${stripeHdr({ timestamp: now() - 3600 })}`], stripeBody));
  add('webhooks', 'stripe: a timestamp an hour ahead', () => wh('stripe', [SJ, `Stripe-Signature: ${stripeHdr({ timestamp: now() + 3600 })}`], stripeBody));
  add('webhooks', 'stripe: valid header, body changed', () => wh('stripe', [SJ, `Stripe-Signature: ${stripeHdr({})}`], stripeBody.replace('500', '50000')));
  add('webhooks', 'stripe: malformed header', () => wh('stripe', [SJ, 'Stripe-Signature: t=,v1=,v1'], stripeBody));
  add('webhooks', 'stripe: huge timestamp', () => wh('stripe', [SJ, `Stripe-Signature: t=99999999999999999999999,v1=${'0'.repeat(64)}`], stripeBody));
  add('webhooks', 'stripe: 1 000 signatures', () => wh('stripe', [SJ, `Stripe-Signature: t=${now()},${Array.from({ length: 1000 }, () => 'v1=00').join(',')}`], stripeBody));
  add('webhooks', 'stripe: only a v0 signature', () => wh('stripe', [SJ, `Stripe-Signature: ${stripeHdr({}).replace('v1=', 'v0=')}`], stripeBody));

  const stdBody = JSON.stringify({ type: 'payment.succeeded', timestamp: new Date().toISOString(),
    data: { email: 'w@example.org', subscription_id: 'sub_x', payment_id: 'pay_x', amount_minor: 100, currency: 'USD', interval: 'month' } });
  const stdHeaders = (id, when, sig) => [SJ, `webhook-id: ${id}`, `webhook-timestamp: ${Math.floor(when.getTime() / 1000)}`,
    `webhook-signature: ${sig !== undefined ? sig : new Webhook(STANDARD_SECRET).sign(id, when, stdBody)}`];
  add('webhooks', 'standard: wrong signature', () => wh('standard', stdHeaders('msg_1', new Date(), `v1,${crypto.randomBytes(32).toString('base64')}`), stdBody));
  add('webhooks', 'standard: replay of a timestamp an hour old', () => wh('standard', stdHeaders('msg_2', new Date(Date.now() - 3600000)), stdBody));
  add('webhooks', 'standard: a timestamp an hour ahead', () => wh('standard', stdHeaders('msg_3', new Date(Date.now() + 3600000)), stdBody));
  add('webhooks', 'standard: signed for another id', () => {
    const h = stdHeaders('msg_4', new Date());
    h[1] = 'webhook-id: msg_other';
    return wh('standard', h, stdBody);
  });
  add('webhooks', 'standard: no headers', () => wh('standard', [SJ], stdBody));
  add('webhooks', 'standard: non-numeric timestamp', () => wh('standard', [SJ, 'webhook-id: m', 'webhook-timestamp: soon', 'webhook-signature: v1,AAAA'], stdBody));
  add('webhooks', 'standard: signature not base64', () => wh('standard', stdHeaders('msg_5', new Date(), 'v1,%%%%'), stdBody));

  const pdBody = JSON.stringify({ event_id: `evt_${hex(6)}`, event_type: 'transaction.completed', occurred_at: new Date().toISOString(), data: {} });
  const pdSig = (ts, secret = PADDLE_SECRET) => `ts=${ts};h1=${crypto.createHmac('sha256', secret).update(`${ts}:${pdBody}`).digest('hex')}`;
  add('webhooks', 'paddle: wrong secret', () => wh('paddle', [SJ, `Paddle-Signature: ${pdSig(now(), 'other')}`], pdBody));
  add('webhooks', 'paddle: replay of a timestamp an hour old', () => wh('paddle', [SJ, `Paddle-Signature: ${pdSig(now() - 3600)}`], pdBody));
  add('webhooks', 'paddle: malformed header', () => wh('paddle', [SJ, 'Paddle-Signature: ts;h1'], pdBody));
  add('webhooks', 'paddle: no header', () => wh('paddle', [SJ], pdBody));

  const ptBody = JSON.stringify({ data: { id: 'm1', type: 'member', attributes: { email: 'w@example.org' } } });
  add('webhooks', 'patreon: wrong signature', () => wh('patreon', [SJ, 'X-Patreon-Event: members:pledge:create', `X-Patreon-Signature: ${hex(16)}`], ptBody));
  add('webhooks', 'patreon: signed with another secret', () => wh('patreon', [SJ, 'X-Patreon-Event: members:pledge:create',
    `X-Patreon-Signature: ${crypto.createHmac('md5', 'other').update(ptBody).digest('hex')}`], ptBody));
  add('webhooks', 'patreon: no signature', () => wh('patreon', [SJ, 'X-Patreon-Event: members:pledge:create'], ptBody));

  const lpData = Buffer.from(JSON.stringify({ version: 3, public_key: LIQPAY_PUBLIC, action: 'pay', status: 'success', order_id: 'o1' })).toString('base64');
  const FORM = 'Content-Type: application/x-www-form-urlencoded';
  add('webhooks', 'liqpay: wrong signature', () => wh('liqpay', [FORM], `data=${encodeURIComponent(lpData)}&signature=${encodeURIComponent(crypto.randomBytes(20).toString('base64'))}`));
  add('webhooks', 'liqpay: signed with another key', () => wh('liqpay', [FORM],
    `data=${encodeURIComponent(lpData)}&signature=${encodeURIComponent(crypto.createHash('sha1').update('x' + lpData + 'x').digest('base64'))}`));
  add('webhooks', 'liqpay: no signature', () => wh('liqpay', [FORM], `data=${encodeURIComponent(lpData)}`));
  add('webhooks', 'liqpay: invalid percent-encoding', () => wh('liqpay', [FORM], 'data=%zz&signature=%'));
  add('webhooks', 'liqpay: NUL in the form', () => wh('liqpay', [FORM], 'data=a%00b&signature=c%00d'));

  const wfp = JSON.stringify({ merchantAccount: WFP_MERCHANT, orderReference: 'o1', amount: 1, currency: 'UAH', authCode: '1',
    cardPan: '4', transactionStatus: 'Approved', reasonCode: 1100, merchantSignature: hex(16) });
  add('webhooks', 'wayforpay: wrong signature', () => wh('wayforpay', [SJ], wfp));
  add('webhooks', 'wayforpay: another merchant', () => wh('wayforpay', [SJ], wfp.replace(WFP_MERCHANT, 'someone_else')));
  add('webhooks', 'wayforpay: signature is a number', () => wh('wayforpay', [SJ], wfp.replace(/"merchantSignature":"[0-9a-f]+"/, '"merchantSignature":5')));

  const monoBody = JSON.stringify({ type: 'StatementItem', data: { account: 'a', statementItem: { id: 'x', amount: 100 } } });
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  add('webhooks', 'monobank: signed with another key', () => wh('monobank', [SJ,
    `X-Sign: ${crypto.sign('sha256', Buffer.from(monoBody), other.privateKey).toString('base64')}`], monoBody));
  add('webhooks', 'monobank: garbage signature', () => wh('monobank', [SJ, 'X-Sign: AAAA'], monoBody));
  add('webhooks', 'monobank: no signature', () => wh('monobank', [SJ], monoBody));

  const ppBody = JSON.stringify({ id: 'WH-1', event_type: 'PAYMENT.SALE.COMPLETED', resource: {} });
  const ppHeaders = (time) => [SJ, 'PAYPAL-TRANSMISSION-ID: 1', `PAYPAL-TRANSMISSION-TIME: ${time}`,
    `PAYPAL-TRANSMISSION-SIG: ${crypto.randomBytes(256).toString('base64')}`, 'PAYPAL-AUTH-ALGO: SHA256withRSA',
    'PAYPAL-CERT-URL: https://api.paypal.com/v1/notifications/certs/CERT-1'];
  add('webhooks', 'paypal: forged signature', () => wh('paypal', ppHeaders(new Date().toISOString()), ppBody));
  add('webhooks', 'paypal: forged, stale transmission time', () => wh('paypal', ppHeaders('2001-01-01T00:00:00Z'), ppBody));
  add('webhooks', 'paypal: no headers', () => wh('paypal', [SJ], ppBody));
  add('webhooks', 'an unknown provider', () => wh('nope', [SJ], '{}'));
  add('webhooks', 'a provider name with a NUL', () => wh('stri%00pe', [SJ], '{}'), true);

  // hostile ids in every route that takes one
  const idRoutes = [
    ['GET', '/v1/patrons/{id}', admin], ['PATCH', '/v1/patrons/{id}', admin], ['DELETE', '/v1/patrons/{id}', admin],
    ['GET', '/v1/patrons/{id}/export', admin], ['GET', '/v1/tiers/{id}', null], ['PATCH', '/v1/tiers/{id}', admin],
    ['DELETE', '/v1/tiers/{id}', admin], ['GET', '/v1/pledges/{id}', admin], ['PATCH', '/v1/pledges/{id}', admin],
    ['GET', '/v1/payments/{id}', admin], ['GET', '/v1/webhook-events/{id}', admin],
    ['POST', '/v1/webhook-events/{id}/replay', admin], ['GET', '/v1/topics/{id}', null], ['PATCH', '/v1/topics/{id}', admin],
    ['DELETE', '/v1/topics/{id}', admin], ['GET', '/v1/rounds/{id}', null], ['PATCH', '/v1/rounds/{id}', admin],
    ['POST', '/v1/rounds/{id}/close', admin], ['GET', '/v1/rounds/{id}/tally', null],
    ['PUT', '/v1/rounds/{id}/ballot', patron], ['GET', '/v1/rounds/{id}/ballot', patron], ['DELETE', '/v1/rounds/{id}/ballot', patron],
  ];
  const badIds = ["'%20OR%201=1--", '%ff%fe', 'x'.repeat(3000), '00000000-0000-0000-0000-00000000000g',
    `${crypto.randomUUID()}%00`, '-1'];
  for (const [m, tpl, who] of idRoutes) {
    for (const id of badIds) {
      const body = ['PATCH', 'PUT'].includes(m) ? JSON.stringify(m === 'PUT' ? { topic_ids: [fx.topic] } : { title: 'x' }) : null;
      add('hostile ids', `${m} ${tpl} with id ${id.slice(0, 24)}`,
        () => rawRequest(m, tpl.replace('{id}', id), [...(body ? [J] : []), ...(who ? [who()] : [])], body));
    }
  }

  // methods
  for (const m of ['TRACE', 'CONNECT', 'FOO', 'PROPFIND', 'PATCH']) {
    add('methods', `${m} /v1/tiers`, () => rawRequest(m, m === 'CONNECT' ? '/v1/tiers' : '/v1/tiers', []));
  }
}

async function rowCounts() {
  const tables = ['patrons', 'pledges', 'payments', 'ballots', 'webhook_events', 'tiers', 'topics', 'rounds',
    'round_topics', 'sessions', 'magic_links', 'outbox', 'audit_log', 'idempotency_keys', 'api_keys'];
  const row = await srv.psql(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t})`).join(', ')}`);
  return Object.fromEntries(row.split('|').map((n, i) => [tables[i], Number(n)]));
}

function problemFailure(res) {
  if (!(res.status >= 400 && res.status < 500)) return `status ${res.status}`;
  if (!/^application\/problem\+json/i.test(res.headers['content-type'] || '')) return `content-type ${res.headers['content-type']}`;
  if (!res.json || typeof res.json !== 'object') return 'body is not JSON';
  if (res.json.status !== res.status) return `.status ${res.json.status}`;
  if (typeof res.json.title !== 'string') return 'no .title';
  if (res.json.type === undefined) return 'no .type';
  if (typeof res.json.code !== 'string') return 'no .code';
  return null;
}

test('at least 200 hostile requests: each a 4xx problem+json, nothing written, server up', async (t) => {
  buildTable();
  assert.ok(cases.length >= 200, `${cases.length} cases`);
  const before = await rowCounts();
  const failures = [];
  const byCategory = {};
  let byLibrary = 0;
  for (const c of cases) {
    let res;
    try {
      res = await c.send();
    } catch (e) {
      res = { status: 0, headers: {}, text: e.message, json: null };
    }
    let why = problemFailure(res);
    if (why && c.protocol && !res.headers['content-type'] &&
        ((res.status >= 400 && res.status < 500) || (res.status === 505 && /version/.test(c.name)))) {
      byLibrary++;
      why = null;
    }
    byCategory[c.category] = (byCategory[c.category] || 0) + 1;
    if (why) failures.push(`[${c.category}] ${c.name} → ${why}: ${String(res.text).slice(0, 160)}`);
    if (res.headers['set-cookie']) failures.push(`[${c.category}] ${c.name} → a Set-Cookie header was produced`);
  }
  t.diagnostic(`${cases.length} cases: ${JSON.stringify(byCategory)}; ${byLibrary} refused by libmicrohttpd itself`);
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} hostile requests were not a 4xx problem+json`);

  const h = await srv.request('GET', '/healthz');
  assert.equal(h.status, 200, 'still alive');
  assert.equal(srv.exit, null, 'never exited');
  assert.deepEqual(await rowCounts(), before, 'no row written or removed by a refused request');
  // the fixtures are intact
  assert.equal((await srv.get(`/v1/patrons/${fx.patron}`)).json.name, 'Hostile Fixture');
  assert.equal((await srv.get(`/v1/topics/${fx.topic}`)).json.title, 'Fixture topic');
  const ballot = await srv.request('GET', `/v1/rounds/${fx.round}/ballot`, { key: fx.session });
  assert.deepEqual(ballot.json.topic_ids, [fx.topic]);
});

const SQLISH = [
  "'); DROP TABLE patrons;--",
  "Robert'); DROP TABLE students;-- ",
  '" OR 1=1 --',
  "\\'; SELECT pg_sleep(10); --",
  '%_\\%\\_ LIKE \'%\'',
  '$1 $$ $tag$ :name ? @p',
  '/* comment */ UNION SELECT * FROM api_keys --',
  "E'\\x00' || chr(0)",
  'Ünïcödé — “quotes” 😀 \u202e',
];

test('SQL metacharacters are stored and returned literally', async () => {
  for (const s of SQLISH) {
    const topic = await srv.post('/v1/topics', { title: s, description: s });
    assert.equal(topic.status, 201, `${s}: ${topic.text}`);
    assert.equal(topic.json.title, s);
    const back = await srv.request('GET', `/v1/topics/${topic.json.id}`);
    assert.equal(back.json.title, s, 'topic title round-trips');
    assert.equal(back.json.description, s, 'description round-trips');
    const stored = await srv.psql(`SELECT title = ${pgLiteral(s)} FROM topics WHERE id = '${topic.json.id}'`);
    assert.equal(stored, 't', 'stored byte for byte');

    const p = await srv.post('/v1/patrons', { email: uniqueEmail('sql'), name: s });
    assert.equal(p.status, 201, p.text);
    assert.equal((await srv.get(`/v1/patrons/${p.json.id}`)).json.name, s);
    const found = await srv.get(`/v1/patrons?q=${encodeURIComponent(s)}`);
    assert.ok(found.status === 200 || found.status === 422, `search for ${s} → ${found.status} ${found.text}`);
    if (found.status === 200) assert.ok(found.json.data.some((x) => x.id === p.json.id), `search finds ${s}`);

    const tier = await srv.post('/v1/tiers', { name: s.slice(0, 200), amount_minor: 100, currency: 'USD', description: s });
    assert.equal(tier.status, 201, tier.text);
    assert.equal((await srv.request('GET', `/v1/tiers/${tier.json.id}`)).json.description, s);
  }
  // a LIKE wildcard finds only itself
  const pct = await srv.get('/v1/patrons?q=' + encodeURIComponent('%'));
  assert.equal(pct.status, 200, pct.text);
  assert.ok(pct.json.data.every((x) => `${x.name} ${x.email}`.includes('%')), 'q=% is literal, not a wildcard');
  assert.equal(await srv.psql("SELECT to_regclass('patrons') IS NOT NULL"), 't', 'patrons is still there');
  const email = `o'brien+${hex(3)}@example.org`;
  const ob = await srv.post('/v1/patrons', { email });
  assert.equal(ob.status, 201, ob.text);
  assert.equal(ob.json.email, email);
});

function pgLiteral(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

test('CSV export escapes spreadsheet formulas', async () => {
  const formulas = ['=HYPERLINK("http://evil.example","click")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1+1)*cmd|x',
    '\t=1+1', '\r=1+1', '=1,2\n"3"'];
  const ids = {};
  for (const f of formulas) {
    const r = await srv.post('/v1/patrons', { email: uniqueEmail('csv'), name: f });
    assert.equal(r.status, 201, r.text);
    ids[r.json.id] = f;
  }
  const csv = await srv.get('/v1/patrons?limit=500', { headers: { Accept: 'text/csv' } });
  assert.equal(csv.status, 200, csv.text);
  assert.match(csv.headers['content-type'], /^text\/csv/);
  const rows = parseCsv(csv.text);
  const header = rows[0];
  const idCol = header.indexOf('id'), nameCol = header.indexOf('name');
  assert.ok(idCol >= 0 && nameCol >= 0, `columns ${header}`);
  let seen = 0;
  for (const row of rows.slice(1)) {
    assert.equal(row.length, header.length, `row width: ${JSON.stringify(row)}`);
    for (const cell of row) assert.ok(!/^[=+\-@\t\r]/.test(cell), `no cell starts a formula: ${JSON.stringify(cell)}`);
    if (ids[row[idCol]] !== undefined) {
      assert.equal(row[nameCol], `'${ids[row[idCol]]}`, 'escaped with a leading apostrophe, otherwise intact');
      seen++;
    }
  }
  assert.equal(seen, formulas.length, 'every formula patron exported');
  assert.ok(Object.keys(ids).every((id) => UUID_RE.test(id)));
});

test('no secret or token used in this file appears in the server log', async () => {
  // make sure the log is written: requests that carry every kind of credential
  await srv.get('/v1/patrons?limit=1');
  await srv.request('GET', '/v1/me', { key: fx.session });
  await sleep(200);
  const log = srv.stderr + srv.stdout;
  assert.ok(log.length > 0, 'the server logged something');
  assert.ok(secrets.length >= 10, `${secrets.length} secrets checked`);
  for (const s of secrets) {
    assert.ok(s && s.length >= 16, 'a real secret');
    for (const probe of new Set([s, s.slice(0, 24), s.slice(-24)])) {
      assert.ok(!log.includes(probe), `the log contains a secret (${probe.slice(0, 6)}…)`);
    }
  }
});
