'use strict';
// api/openapi.yaml describes exactly the routes of include/routes.def, is
// the document GET /v1/openapi.yaml serves, and its validator
// (lib/openapi.js, applied by the harness to every response) rejects what
// it should.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, ROOT } = require('./lib/harness');
const { validateResponse, loadSpec, SPEC_PATH, METHODS } = require('./lib/openapi');

function routesFromC() {
  const src = fs.readFileSync(path.join(ROOT, 'include', 'routes.def'), 'utf8');
  const routes = [...src.matchAll(/^ROUTE\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,/gm)].map((m) => `${m[1]} ${m[2]}`);
  return routes;
}

function operationsFromSpec() {
  const doc = loadSpec();
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) if (item[m]) ops.push(`${m.toUpperCase()} ${p}`);
  }
  return ops;
}

test('every route in routes.def has an operation, and every operation a route', () => {
  const routes = routesFromC();
  assert.ok(routes.length >= 50, `parsed ${routes.length} routes from routes.def`);
  const ops = operationsFromSpec();
  const missing = routes.filter((r) => !ops.includes(r));
  const extra = ops.filter((o) => !routes.includes(o));
  assert.deepEqual(missing, [], 'routes without an operation in api/openapi.yaml');
  assert.deepEqual(extra, [], 'operations without a route in routes.def');
  assert.equal(new Set(ops).size, ops.length);
});

test('every operation documents a 4XX problem response and a unique operationId', () => {
  const doc = loadSpec();
  const ids = new Set();
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      assert.ok(op.responses['4XX'], `${m} ${p} has a 4XX response`);
      assert.ok(op.operationId && !ids.has(op.operationId), `${m} ${p} operationId unique`);
      ids.add(op.operationId);
    }
  }
});

test('GET /v1/openapi.yaml serves api/openapi.yaml byte for byte', async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const r = await srv.request('GET', '/v1/openapi.yaml');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/yaml/);
  assert.equal(r.text, fs.readFileSync(SPEC_PATH, 'utf8'),
    'served document differs from api/openapi.yaml (rebuild after editing it)');
  const again = await srv.request('GET', '/v1/openapi.yaml', { headers: { 'If-None-Match': r.headers.etag } });
  assert.equal(again.status, 304);
});

const rid = { 'x-request-id': 'r1' };
const CODE_FOR = {
  404: 'not_found', 405: 'method_not_allowed', 409: 'conflict', 422: 'validation_failed',
  429: 'rate_limited', 503: 'database_unavailable',
};
const problem = (status, extra = {}) => ({
  headers: { ...rid, 'content-type': 'application/problem+json' },
  body: JSON.stringify({ type: 'about:blank', title: 'x', status, code: CODE_FOR[status], ...extra }),
});

test('the validator accepts conforming answers and routing errors', () => {
  validateResponse('GET', '/healthz', 200, { ...rid, 'content-type': 'application/json' }, '{"status":"ok"}');
  const p404 = problem(404);
  validateResponse('GET', '/no/such/path', 404, p404.headers, p404.body);
  const p405 = problem(405);
  validateResponse('PUT', '/healthz', 405, { ...p405.headers, allow: 'GET' }, p405.body);
  validateResponse('OPTIONS', '/v1/tiers', 204, { ...rid, allow: 'GET, POST' }, '');
  const p422 = problem(422, { detail: 'd', errors: [{ field: 'email', message: 'is required' }] });
  validateResponse('POST', '/v1/patrons', 422, p422.headers, p422.body);
  // a method a literal path lacks is refused there, as in the router
  validateResponse('PATCH', '/v1/rounds/current', 405, { ...p405.headers, allow: 'GET, HEAD' }, p405.body);
  assert.throws(() => validateResponse('PATCH', '/v1/rounds/current', 200, rid, '{}'), /documents no PATCH/);
  // a literal segment is not taken for an id
  validateResponse('GET', '/v1/rounds/current/tally?x=1', 304, rid, '');
});

test('Problem.code lists exactly the codes of include/errors.def', () => {
  const src = fs.readFileSync(path.join(ROOT, 'include', 'errors.def'), 'utf8');
  const codes = [...src.matchAll(/^ERR\((\w+),/gm)].map((m) => m[1]);
  assert.ok(codes.length >= 20, `parsed ${codes.length} codes from errors.def`);
  const schema = loadSpec().components.schemas.Problem;
  assert.deepEqual(schema.properties.code.enum, codes);
  assert.ok(schema.required.includes('code'));
});

test('the validator rejects a problem without a code or with an unknown one', () => {
  const p = problem(404);
  const body = JSON.parse(p.body);
  delete body.code;
  assert.throws(() => validateResponse('GET', '/nowhere', 404, p.headers, JSON.stringify(body)),
    /does not match/);
  body.code = 'no_such_code';
  assert.throws(() => validateResponse('GET', '/nowhere', 404, p.headers, JSON.stringify(body)),
    /does not match/);
});

test('the validator rejects what the description does not allow', () => {
  const json = { ...rid, 'content-type': 'application/json' };
  assert.throws(() => validateResponse('GET', '/healthz', 200, json, '{"status":"ok","extra":1}'),
    /does not match the schema/);
  assert.throws(() => validateResponse('GET', '/healthz', 200, { ...rid, 'content-type': 'text/html' }, '<p>'),
    /not documented/);
  assert.throws(() => validateResponse('GET', '/healthz', 201, json, '{}'), /status 201 is not documented/);
  assert.throws(() => validateResponse('GET', '/healthz', 200, { 'content-type': 'application/json' },
    '{"status":"ok"}'), /X-Request-Id/i);
  assert.throws(() => validateResponse('GET', '/nowhere', 200, json, '{}'), /no path/);
  assert.throws(() => validateResponse('POST', '/healthz', 200, json, '{}'), /no POST operation/);
  assert.throws(() => validateResponse('GET', '/v1/tiers', 200, json, '{"data":[{"id":"x"}],"next_cursor":null}'),
    /does not match/);
  assert.throws(() => validateResponse('PUT', '/healthz', 405, problem(405).headers, problem(405).body), /Allow/);
  const busy = problem(503);
  assert.throws(() => validateResponse('GET', '/v1/tiers', 503, busy.headers, busy.body), /Retry-After/);
  validateResponse('GET', '/v1/tiers', 503, { ...busy.headers, 'retry-after': '5' }, busy.body);
  const limited = problem(429);
  assert.throws(() => validateResponse('POST', '/v1/checkout', 429, limited.headers, limited.body), /Retry-After/);
  const mismatch = problem(409);
  assert.throws(() => validateResponse('POST', '/v1/patrons', 422, mismatch.headers, mismatch.body), /says status 409/);
  const bad = problem(404);
  assert.throws(() => validateResponse('GET', '/nowhere', 404, { ...rid, 'content-type': 'application/json' }, bad.body),
    /problem\+json|not documented/);
  assert.throws(() => validateResponse('DELETE', '/v1/tiers/6f1c1d6e-8e3b-4c59-9d0e-2b8f0a1f3c11', 204, rid, 'x'),
    /documents no body/);
});
