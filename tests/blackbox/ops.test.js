'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, assertProblem, uniqueEmail } = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

test('GET /healthz is 200 without credentials', async () => {
  const r = await s.request('GET', '/healthz');
  assert.equal(r.status, 200, r.text);
  assert.ok(r.headers['x-request-id'], 'X-Request-Id on /healthz');
});

test('GET /readyz is 200 and says ready when the database is up', async () => {
  const r = await s.request('GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /ready/i);
  assert.ok(r.json, `readyz body is JSON: ${r.text}`);
});

// Parses Prometheus text into [{name, labels, value}].
function parseProm(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    assert.ok(m, `malformed metrics line: ${line}`);
    const labels = {};
    if (m[3]) {
      for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

function counter(samples, route, method, status) {
  const hit = samples.find((x) => x.name === 'patrond_http_requests_total' &&
    x.labels.route === route && x.labels.method === method && x.labels.status === String(status));
  return hit ? hit.value : 0;
}

test('GET /metrics is Prometheus text with request counters and a latency histogram', async () => {
  const r0 = await s.request('GET', '/metrics');
  assert.equal(r0.status, 200, r0.text);
  assert.match(String(r0.headers['content-type']), /^text\/plain/);
  const before = counter(parseProm(r0.text), '/v1/patrons', 'GET', 200);

  for (let i = 0; i < 3; i++) {
    const r = await s.get('/v1/patrons');
    assert.equal(r.status, 200, r.text);
  }
  const r1 = await s.request('GET', '/metrics');
  const samples = parseProm(r1.text);
  const afterCount = counter(samples, '/v1/patrons', 'GET', 200);
  assert.ok(afterCount >= before + 3,
    `patrond_http_requests_total{route="/v1/patrons",method="GET",status="200"} went ${before} → ${afterCount}`);

  assert.match(r1.text, /^# TYPE patrond_http_request_duration_seconds histogram$/m);
  const buckets = samples.filter((x) => x.name === 'patrond_http_request_duration_seconds_bucket');
  assert.ok(buckets.length > 1, 'histogram has buckets');
  assert.ok(buckets.some((b) => b.labels.le === '+Inf'), 'histogram has le="+Inf"');
  assert.ok(samples.some((x) => x.name === 'patrond_http_request_duration_seconds_count'), '_count');
  assert.ok(samples.some((x) => x.name === 'patrond_http_request_duration_seconds_sum'), '_sum');
  // cumulative buckets are monotone within one label set
  const groups = new Map();
  for (const b of buckets) {
    const { le, ...rest } = b.labels;
    const k = JSON.stringify(rest);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(b);
  }
  for (const [k, bs] of groups) {
    for (let i = 1; i < bs.length; i++) {
      assert.ok(bs[i].value >= bs[i - 1].value, `histogram buckets not cumulative for ${k}`);
    }
  }
});

test('metrics use the route template, not the raw path (no per-id label explosion)', async () => {
  const c = await s.post('/v1/patrons', { email: uniqueEmail() });
  assert.equal(c.status, 201, c.text);
  const g = await s.get(`/v1/patrons/${c.json.id}`);
  assert.equal(g.status, 200);
  const r = await s.request('GET', '/metrics');
  assert.ok(!r.text.includes(c.json.id), 'a patron id appears in /metrics labels');
});

test('a 404 for an unknown path is counted without creating a label per path', async () => {
  const weird = '/nope-' + Math.random().toString(16).slice(2);
  const r = await s.request('GET', weird);
  assertProblem(assert, r, 404);
  const m = await s.request('GET', '/metrics');
  assert.ok(!m.text.includes(weird), 'raw unknown path used as a metrics label');
});

test('the server logs requests and never logs the API key', async () => {
  const r = await s.get('/v1/patrons', { headers: { 'X-Request-Id': 'log-probe-42' } });
  assert.equal(r.status, 200);
  await new Promise((res) => setTimeout(res, 300));
  const logs = s.stdout + s.stderr;
  assert.ok(logs.includes('log-probe-42'), 'request id appears in the request log');
  assert.ok(!logs.includes(s.adminKey), 'admin API key appears in the logs');
  assert.ok(!logs.includes(s.readKey), 'read API key appears in the logs');
  // one JSON object per request line
  const line = logs.split('\n').find((l) => l.includes('log-probe-42'));
  let parsed = null;
  try { parsed = JSON.parse(line); } catch { /* asserted below */ }
  assert.ok(parsed && typeof parsed === 'object', `request log line is JSON: ${line}`);
  assert.ok(Object.values(parsed).some((v) => String(v) === '200'), `log line carries the status: ${line}`);
  assert.ok(Object.values(parsed).some((v) => v === 'GET'), `log line carries the method: ${line}`);
});

test('100 concurrent requests (more than the pool) all succeed', async () => {
  const rs = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    (i % 2 ? s.get('/v1/patrons?limit=5') : s.request('GET', '/v1/tiers'))));
  const bad = rs.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text.slice(0, 100)}`);
  assert.deepEqual(bad, [], 'all 200');
  assert.equal((await s.request('GET', '/readyz')).status, 200);
});
