'use strict';
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const { startServer, assertProblem, uniqueEmail, UUID_RE } = require('./lib/harness');

let s;      // default configuration
let small;  // PATROND_BODY_LIMIT=2048
before(async () => {
  s = await startServer();
  small = await startServer({ env: { PATROND_BODY_LIMIT: '2048' } });
});
after(async () => {
  const errs = [];
  for (const x of [s, small]) {
    try { await x?.stop(); } catch (e) { errs.push(e); }
  }
  if (errs.length) throw errs[0];
});

describe('404', () => {
  test('unknown paths are 404 problem+json, with and without credentials', async () => {
    for (const p of ['/nope', '/v1', '/v1/', '/v1/patronz', '/v2/patrons', '/v1/patrons/x/y/z', '/healthz/x']) {
      assertProblem(assert, await s.request('GET', p), 404, `GET ${p} anonymous`);
      assertProblem(assert, await s.get(p), 404, `GET ${p} admin`);
    }
  });

  test('an unknown well-formed UUID is 404', async () => {
    const id = crypto.randomUUID();
    for (const p of [`/v1/patrons/${id}`, `/v1/tiers/${id}`, `/v1/pledges/${id}`, `/v1/payments/${id}`,
      `/v1/patrons/${id}/export`]) {
      assertProblem(assert, await s.get(p), 404, `GET ${p}`);
    }
    assertProblem(assert, await s.patch(`/v1/patrons/${id}`, { name: 'x' }), 404, 'PATCH unknown patron');
    assertProblem(assert, await s.del(`/v1/patrons/${id}`), 404, 'DELETE unknown patron');
    assertProblem(assert, await s.del(`/v1/tiers/${id}`), 404, 'DELETE unknown tier');
  });

  test('a malformed id in the path is 404 (not 400/500)', async () => {
    const ids = ['not-a-uuid', '123', '00000000-0000-0000-0000-00000000000g', `${crypto.randomUUID()}x`,
      "'%20OR%201=1--", '%00', 'a%2Fb', '%E2%82%AC', 'x'.repeat(600)];
    for (const id of ids) {
      for (const res of ['patrons', 'tiers', 'pledges', 'payments']) {
        const r = await s.get(`/v1/${res}/${id}`);
        assertProblem(assert, r, 404, `GET /v1/${res}/${id.slice(0, 40)}`, 'not_found');
      }
    }
  });
});

describe('405', () => {
  test('a known path with a wrong method is 405 with Allow', async () => {
    const cases = [
      ['DELETE', '/v1/patrons', ['GET', 'POST']],
      ['PUT', '/v1/patrons', ['GET', 'POST']],
      ['PUT', '/v1/tiers', ['GET', 'POST']],
      ['POST', '/healthz', ['GET']],
      ['POST', '/metrics', ['GET']],
      ['PUT', '/v1/payments', ['GET']],
      ['POST', '/v1/audit', ['GET']],
    ];
    for (const [m, p, allow] of cases) {
      const r = await s.request(m, p, { key: s.adminKey, body: m === 'DELETE' ? undefined : {} });
      assertProblem(assert, r, 405, `${m} ${p}`, 'method_not_allowed');
      const got = String(r.headers.allow || '').split(',').map((x) => x.trim().toUpperCase());
      for (const a of allow) assert.ok(got.includes(a), `${m} ${p}: Allow "${r.headers.allow}" lacks ${a}`);
      assert.ok(!got.includes(m), `${m} ${p}: Allow lists the refused method`);
    }
  });

  // A literal path beside a {id} one is its own resource: "import" and
  // "current" are neither a patron's nor a round's id.
  test('GET /v1/patrons/import and PATCH /v1/rounds/current are 405 with only their own methods', async () => {
    for (const [m, p, allow] of [['GET', '/v1/patrons/import', 'POST'], ['DELETE', '/v1/patrons/import', 'POST'],
      ['PATCH', '/v1/rounds/current', 'GET, HEAD'], ['DELETE', '/v1/rounds/current', 'GET, HEAD']]) {
      const r = await s.request(m, p, { key: s.adminKey, body: m === 'PATCH' ? { title: 'x' } : undefined });
      assertProblem(assert, r, 405, `${m} ${p}`, 'method_not_allowed');
      assert.equal(r.headers.allow, allow, `${m} ${p}`);
    }
  });

  test('item paths: POST /v1/patrons/{id} and PUT /v1/tiers/{id} are 405', async () => {
    const p = await s.post('/v1/patrons', { email: uniqueEmail() });
    assert.equal(p.status, 201, p.text);
    const r = await s.post(`/v1/patrons/${p.json.id}`, {});
    assertProblem(assert, r, 405, 'POST /v1/patrons/{id}', 'method_not_allowed');
    const allow = String(r.headers.allow || '').toUpperCase();
    for (const a of ['GET', 'PATCH', 'DELETE']) assert.ok(allow.includes(a), `Allow "${allow}" lacks ${a}`);
  });
});

describe('413', () => {
  test('a body over PATROND_BODY_LIMIT is 413 problem+json and nothing is created', async () => {
    const email = uniqueEmail('big');
    const body = JSON.stringify({ email, name: 'x'.repeat(4096) });
    const r = await small.request('POST', '/v1/patrons', {
      key: small.adminKey, body, headers: { 'Content-Type': 'application/json' },
    });
    assertProblem(assert, r, 413, '4 KiB body, 2 KiB limit', 'payload_too_large');
    assert.equal(await small.psql(`SELECT count(*) FROM patrons WHERE email = '${email}'`), '0');
  });

  test('a chunked body over the limit is 413 too', async () => {
    const body = JSON.stringify({ email: uniqueEmail('chunk'), name: 'y'.repeat(8192) });
    const r = await small.request('POST', '/v1/patrons', {
      key: small.adminKey, body, chunked: true, chunkSize: 512, headers: { 'Content-Type': 'application/json' },
    });
    assertProblem(assert, r, 413, 'chunked 8 KiB body, 2 KiB limit', 'payload_too_large');
  });

  test('a body just under the limit is accepted', async () => {
    const email = uniqueEmail('under');
    const body = `{"email": "${email}"${' '.repeat(1900)}}`;
    assert.ok(Buffer.byteLength(body) < 2048);
    const r = await small.request('POST', '/v1/patrons', {
      key: small.adminKey, body, headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 201, r.text);
  });

  test('the default limit is 1 MiB: a 1.1 MiB body is 413', async () => {
    const body = JSON.stringify({ email: uniqueEmail('huge'), name: 'z'.repeat(1.1 * 1024 * 1024) });
    const r = await s.request('POST', '/v1/patrons', {
      key: s.adminKey, body, headers: { 'Content-Type': 'application/json' },
    });
    assertProblem(assert, r, 413, '1.1 MiB body', 'payload_too_large');
  });

  test('a client that writes its whole body before reading (fetch) gets the 413, not a broken pipe', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'a');
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${s.url}/v1/patrons`, {
        method: 'POST', body, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.adminKey}` },
      });
      assert.equal(r.status, 413);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal((await r.json()).status, 413);
    }
  });

  test('an answer decided before the body (404, 405) also waits until a large body is read', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'a');
    for (const [method, p, status] of [['POST', '/v1/nope', 404], ['PUT', '/v1/patrons', 405], ['POST', '/healthz', 405]]) {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${s.url}${p}`, { method, body, headers: { 'Content-Type': 'application/json' } });
        assert.equal(r.status, status, `${method} ${p}`);
        assert.equal(r.headers.get('content-type'), 'application/problem+json');
        assert.equal((await r.json()).status, status);
      }
    }
  });

  // the head of a request only; resolves with what came back before the server closed
  const headOnly = (port, head) => new Promise((resolve, reject) => {
    let data = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write(head));
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (/\r\n\r\n[\s\S]*\}/.test(data)) sock.destroy();
    });
    sock.on('close', () => resolve(data));
    sock.on('error', reject);
    sock.setTimeout(10000, () => sock.destroy());
  });

  test('Expect: 100-continue, or a body too long to read through, is answered 413 before any body is sent', async () => {
    for (const [length, expect] of [[4 * 1024 * 1024, true], [16 * 1024 * 1024 + 1, false], [1024 * 1024 * 1024, false]]) {
      const head = `POST /v1/patrons HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${length}\r\n${expect ? 'Expect: 100-continue\r\n' : ''}\r\n`;
      const answer = await headOnly(s.port, head);
      assert.match(answer, /^HTTP\/1\.1 413 /, `Content-Length ${length}, expect ${expect}: ${answer.slice(0, 200)}`);
      assert.doesNotMatch(answer, /100 Continue/);
      assert.match(answer, /\r\nContent-Type: application\/problem\+json/i);
    }
  });

  test('the server is still healthy after oversized bodies', async () => {
    assert.equal((await small.request('GET', '/healthz')).status, 200);
    assert.equal((await s.request('GET', '/healthz')).status, 200);
  });
});

describe('415', () => {
  test('POST without Content-Type: application/json is 415 and creates nothing', async () => {
    const email = uniqueEmail('ct');
    const body = JSON.stringify({ email });
    for (const ct of [null, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'text/json']) {
      const r = await s.request('POST', '/v1/patrons', { key: s.adminKey, body, raw: true, headers: { 'Content-Type': ct } });
      assertProblem(assert, r, 415, `Content-Type: ${ct}`, 'unsupported_media_type');
    }
    assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email = '${email}'`), '0');
  });

  test('PATCH without application/json is 415', async () => {
    const p = await s.post('/v1/patrons', { email: uniqueEmail() });
    assert.equal(p.status, 201);
    const r = await s.request('PATCH', `/v1/patrons/${p.json.id}`, {
      key: s.adminKey, body: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' },
    });
    assertProblem(assert, r, 415, 'PATCH text/plain', 'unsupported_media_type');
  });

  test('application/json with parameters and any case is accepted', async () => {
    for (const ct of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']) {
      const r = await s.request('POST', '/v1/patrons', {
        key: s.adminKey, body: JSON.stringify({ email: uniqueEmail() }), headers: { 'Content-Type': ct },
      });
      assert.equal(r.status, 201, `Content-Type: ${ct} → ${r.status} ${r.text}`);
    }
  });
});

describe('400', () => {
  const post = (body) => s.request('POST', '/v1/patrons', {
    key: s.adminKey, body, headers: { 'Content-Type': 'application/json' },
  });

  test('malformed JSON is 400 problem+json', async () => {
    const bad = ['{"email":', '{email: "a@b.c"}', "{'email': 'a@b.c'}", '{"email": "a@b.c",}',
      '{"email": "a@b.c"} trailing', '', ' ', '\u0000', '{"email": "a@b.c"}{"x":1}', 'nul', '{"a":1e999999999}'];
    for (const b of bad) {
      const r = await post(b);
      assert.ok(r.status === 400 || (b.includes('e999') && r.status === 422),
        `body ${JSON.stringify(b)} → ${r.status} ${r.text}`);
      assertProblem(assert, r, r.status, `body ${JSON.stringify(b)}`);
    }
  });

  test('invalid UTF-8 is 400', async () => {
    const r = await post(Buffer.concat([Buffer.from('{"email":"a@b.c","name":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]));
    assertProblem(assert, r, 400, 'invalid UTF-8', 'invalid_json');
  });

  test('a JSON body that is not an object is 400 or 422', async () => {
    for (const b of ['[]', '[{"email":"a@b.c"}]', '"a@b.c"', '42', 'null', 'true']) {
      const r = await post(b);
      assert.ok(r.status === 400 || r.status === 422, `body ${b} → ${r.status} ${r.text}`);
      assertProblem(assert, r, r.status, `body ${b}`);
    }
  });

  test('JSON nested deeper than 32 levels is 400', async () => {
    const email = uniqueEmail('deep');
    const deep = (n) => `{"email":"${email}","name":${'['.repeat(n)}${']'.repeat(n)}}`;
    const r = await post(deep(40));
    assertProblem(assert, r, 400, 'depth 41', 'invalid_json');
    const r2 = await post(`{"email":"${email}","name":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`);
    assertProblem(assert, r2, 400, 'object depth 41');
  });

  test('pathologically deep JSON does not crash the server', async () => {
    const n = 200000;
    const r = await post(`${'['.repeat(n)}${']'.repeat(n)}`);
    assertProblem(assert, r, 400, 'depth 200000', 'invalid_json');
    assert.equal((await s.request('GET', '/healthz')).status, 200);
  });

  test('NUL inside a JSON string is rejected (400/422), never 5xx', async () => {
    const r = await post(JSON.stringify({ email: 'nul\u0000@example.org' }));
    assert.ok(r.status === 400 || r.status === 422, `→ ${r.status} ${r.text}`);
    const r2 = await post(JSON.stringify({ email: uniqueEmail(), name: 'a\u0000b' }));
    assert.ok(r2.status === 400 || r2.status === 422, `name with NUL → ${r2.status} ${r2.text}`);
  });
});

describe('X-Request-Id', () => {
  test('every response carries X-Request-Id, distinct per request', async () => {
    const rs = [
      await s.request('GET', '/healthz'),
      await s.request('GET', '/readyz'),
      await s.request('GET', '/nope'),
      await s.request('GET', '/v1/patrons'),
      await s.request('DELETE', '/v1/tiers', { key: s.adminKey }),
      await s.get('/v1/patrons'),
      await s.request('GET', '/v1/tiers'),
      await s.request('GET', '/metrics'),
    ];
    const ids = rs.map((r) => r.headers['x-request-id']);
    for (let i = 0; i < rs.length; i++) assert.ok(ids[i], `response ${i} (${rs[i].status}) has X-Request-Id`);
    assert.equal(new Set(ids).size, ids.length, `request ids are unique: ${ids}`);
  });

  test('a client X-Request-Id is echoed on success and on errors', async () => {
    for (const [m, p, key] of [['GET', '/healthz'], ['GET', '/v1/patrons', 'admin'], ['GET', '/v1/patrons'],
      ['GET', '/nope'], ['PUT', '/v1/patrons', 'admin']]) {
      const r = await s.request(m, p, { key: key ? s.adminKey : undefined, headers: { 'X-Request-Id': 'abc-123' } });
      assert.equal(r.headers['x-request-id'], 'abc-123', `${m} ${p} (${r.status})`);
    }
  });

  test('a hostile X-Request-Id does not break the request', async () => {
    const r = await s.request('GET', '/healthz', { headers: { 'X-Request-Id': 'x'.repeat(4000) } });
    assert.equal(r.status, 200);
    assert.ok(r.headers['x-request-id'], 'still has a request id');
    const r2 = await s.request('GET', '/healthz', { headers: { 'X-Request-Id': '"><script>{}\\' } });
    assert.equal(r2.status, 200);
    assert.ok(r2.headers['x-request-id']);
  });
});

describe('never 5xx for client input', () => {
  test('odd requests get 4xx, not 5xx', async () => {
    const cases = [
      ['GET', '/v1/patrons?limit=%ZZ'],
      ['GET', '/v1/patrons?limit=99999999999999999999999'],
      ['GET', '/v1/patrons?after=%00'],
      ['GET', '/v1/patrons?after=garbage'],
      ['GET', `/v1/patrons?after=${crypto.randomUUID()}`],
      ['GET', '/v1/patrons?q=%00'],
      ['GET', '/v1/patrons?q=%FF%FE'],
      ['GET', '/v1/patrons?status=' + 'x'.repeat(5000)],
      ['GET', '/v1/pledges?patron_id=not-a-uuid'],
      ['GET', '/v1/payments?pledge_id=not-a-uuid'],
      ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
      ['GET', '/v1/patrons/%'],
      ['OPTIONS', '/v1/patrons'],
      ['TRACE', '/v1/patrons'],
      ['BREW', '/v1/patrons'],
    ];
    for (const [m, p] of cases) {
      let r;
      try {
        r = await s.request(m, p, { key: s.adminKey });
      } catch (e) {
        assert.fail(`${m} ${p}: ${e.message}`);
      }
      assert.ok(r.status < 500, `${m} ${p} → ${r.status} ${r.text}`);
      assert.ok(r.headers['x-request-id'], `${m} ${p} has X-Request-Id`);
    }
    assert.equal((await s.request('GET', '/healthz')).status, 200);
  });

  test('an unknown cursor is 422 or an empty page, never 5xx', async () => {
    const r = await s.get(`/v1/patrons?after=${crypto.randomUUID()}`);
    assert.ok(r.status === 422 || r.status === 400 || (r.status === 200 && Array.isArray(r.json.data)), `${r.status} ${r.text}`);
  });

  test('generated request ids look like ids (no spaces), and ids of objects are UUIDs', async () => {
    const r = await s.post('/v1/patrons', { email: uniqueEmail() });
    assert.equal(r.status, 201);
    assert.match(r.json.id, UUID_RE);
    assert.match(r.headers['x-request-id'], /^[\x21-\x7e]{8,128}$/);
  });
});
