'use strict';
// The served pages, assets and OpenAPI description (SPEC §5): exact bytes,
// validators, security headers, and GET /v1/checkout/options.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startServer, assertProblem, ROOT } = require('./lib/harness');

let s;
before(async () => {
  s = await startServer({
    env: {
      PATROND_CURRENCIES: 'UAH, USD,JPY',
      PATROND_MAX_AMOUNT_MINOR: '40000',
      PATROND_STRIPE_PAYMENT_LINK: 'https://buy.stripe.com/test_pages',
      PATROND_LIQPAY_PUBLIC_KEY: 'sandbox_i1',
      PATROND_LIQPAY_PRIVATE_KEY: 'sandbox_private',
    },
  });
});
after(async () => { await s?.stop(); });

// The raw bytes of a response (the harness decodes text as UTF-8).
function getBytes(urlPath) {
  return new Promise((resolve, reject) => {
    http.get(`${s.url}${urlPath}`, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const csp = (res) => Object.fromEntries(String(res.headers['content-security-policy']).split(';')
  .map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));

test('GET /v1/openapi.yaml returns api/openapi.yaml byte for byte as application/yaml', async () => {
  const r = await getBytes('/v1/openapi.yaml');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/yaml');
  assert.ok(r.body.equals(fs.readFileSync(path.join(ROOT, 'api/openapi.yaml'))), 'same bytes as the file');
  assert.match(String(r.headers.etag), /^"[^"]+"$/, 'a strong ETag');
});

// The template with its {{…}} filled: the same text between the
// directives, byte for byte.
function fromTemplate(body, file) {
  const parts = fs.readFileSync(path.join(ROOT, 'web', file), 'utf8').split(/\{\{[^}]*\}\}/);
  let at = 0;
  for (const part of parts) {
    const i = body.indexOf(part, at);
    if (i < 0) return false;
    at = i + part.length;
  }
  return true;
}

test('each page is its template in web/, filled, as UTF-8 HTML with the security headers', async () => {
  const pages = { '/donate': 'donate.html', '/donate/thanks': 'thanks.html', '/members': 'members.html', '/admin': 'admin.html' };
  for (const [url, file] of Object.entries(pages)) {
    const r = await getBytes(url);
    assert.equal(r.status, 200, url);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', url);
    assert.ok(fromTemplate(r.body.toString(), file), `${url} serves web/${file}`);
    const html = r.body.toString().replace(/<script type="application\/json"[^>]*>[^<]*<\/script>/, '');
    assert.doesNotMatch(html, /\{\{|\}\}/, `${url}: every directive filled`);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', url);
    assert.equal(r.headers['cache-control'], 'no-cache', url);
    const policy = csp(r);
    assert.deepEqual(policy['default-src'], ["'self'"], url);
    assert.deepEqual(policy['script-src'], ["'self'"], `${url}: no inline script`);
    assert.deepEqual(policy['object-src'], ["'none'"], url);
    // no inline script, so the policy does not break the page
    // the page's texts ride along as data, which no browser runs
    assert.doesNotMatch(r.body.toString(), /<script(?![^>]*\b(src=|type="application\/json"))[^>]*>/i, `${url} has no inline script`);
    assert.doesNotMatch(r.body.toString(), /\son[a-z]+\s*=/i, `${url} has no inline handlers`);
    assert.doesNotMatch(r.body.toString(), /(src|href)="(https?:)?\/\//i, `${url} loads nothing from elsewhere`);
  }
});

test('only the donation form may be framed; it may post to the configured form providers only', async () => {
  const donate = csp(await s.request('GET', '/donate'));
  assert.deepEqual(donate['frame-ancestors'], ['*']);
  assert.deepEqual(donate['form-action'], ["'self'", 'https://www.liqpay.ua'], 'LiqPay configured, WayForPay not');
  for (const url of ['/members', '/admin']) {
    const r = await s.request('GET', url);
    assert.deepEqual(csp(r)['frame-ancestors'], ["'none'"], url);
    assert.equal(r.headers['x-frame-options'], 'DENY', url);
  }
});

test('If-None-Match with the current ETag is a 304 without a body; another tag gets the page', async () => {
  const first = await s.request('GET', '/members');
  const etag = first.headers.etag;
  const again = await s.request('GET', '/members', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.etag, etag);
  const list = await s.request('GET', '/members', { headers: { 'If-None-Match': `"nope", W/${etag}` } });
  assert.equal(list.status, 304, 'a weak match counts for If-None-Match');
  const other = await s.request('GET', '/members', { headers: { 'If-None-Match': '"other"' } });
  assert.equal(other.status, 200);
  assert.equal(other.text, first.text);
  const donate = await s.request('GET', '/donate');
  assert.notEqual(donate.headers.etag, etag, 'each file has its own tag');
});

test('assets are served with their types; an unknown asset is a 404 problem', async () => {
  const js = await getBytes('/assets/donate.js');
  assert.equal(js.status, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.ok(js.body.equals(fs.readFileSync(path.join(ROOT, 'web/assets/donate.js'))));
  const css = await s.request('GET', '/assets/patrond.css');
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal(css.headers['x-content-type-options'], 'nosniff');
  assertProblem(assert, await s.request('GET', '/assets/nope.js'), 404);
  assertProblem(assert, await s.request('GET', '/assets/..%2Fdonate'), 404);
  assertProblem(assert, await s.request('GET', '/assets/'), 404);
  const head = await s.request('HEAD', '/assets/members.js');
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assertProblem(assert, await s.request('POST', '/donate', { body: {} }), 405);
});

test('GET /v1/checkout/options names the configured providers and currencies with presets', async () => {
  const r = await s.request('GET', '/v1/checkout/options');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.currencies, ['UAH', 'USD', 'JPY']);
  assert.deepEqual(r.json.providers, ['liqpay', 'stripe']);
  assert.deepEqual(r.json.intervals, ['month', 'year', 'once']);
  assert.deepEqual(r.json.exponents, { UAH: 2, USD: 2, JPY: 0 });
  assert.equal(r.json.max_amount_minor, 40000);
  assert.deepEqual(r.json.presets.USD, [300, 500, 1000]);
  assert.deepEqual(r.json.presets.UAH, [10000, 20000], 'presets above the maximum are left out');
  assert.deepEqual(r.json.presets.JPY, [3, 5, 10], 'a currency without a table gets 3, 5, 10 major units');
  // what it offers, checkout accepts
  const co = await s.request('POST', '/v1/checkout', {
    body: { email: 'opts@example.org', amount_minor: r.json.presets.UAH[0], currency: 'UAH', interval: 'month', provider: 'stripe' },
  });
  assert.equal(co.status, 201, co.text);
});
