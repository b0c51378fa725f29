'use strict';
// POST /v1/checkout (SPEC §4), CORS on the browser endpoints, the per-address
// rate limit and the 48-hour expiry of pending pledges.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertProblem, assertInvalid, uniqueEmail, sleep, UUID_RE } = require('./lib/harness');

const PUBLIC_URL = 'https://members.example.org';
const ORIGIN = 'https://news.example.org';
const LIQPAY_PUBLIC = 'sandbox_i00000000';
const LIQPAY_PRIVATE = 'sandbox_private_test_key';
const WFP_MERCHANT = 'test_merch_n1';
const WFP_SECRET = 'flk3409refn54t54t*FNJRET';
const STRIPE_LINK = 'https://buy.stripe.com/test_28o5kq';
const PATREON_URL = 'https://www.patreon.com/examplenews';

let s;
before(async () => {
  s = await startServer({
    env: {
      PATROND_PUBLIC_URL: PUBLIC_URL,
      PATROND_CORS_ORIGINS: `${ORIGIN}, https://shop.example.org`,
      PATROND_CURRENCIES: 'UAH,USD,EUR,JPY',
      PATROND_MAX_AMOUNT_MINOR: '1000000',
      PATROND_LIQPAY_PUBLIC_KEY: LIQPAY_PUBLIC,
      PATROND_LIQPAY_PRIVATE_KEY: LIQPAY_PRIVATE,
      PATROND_WAYFORPAY_MERCHANT: WFP_MERCHANT,
      PATROND_WAYFORPAY_SECRET: WFP_SECRET,
      PATROND_STRIPE_PAYMENT_LINK: STRIPE_LINK,
      PATROND_CHECKOUT_RATE_LIMIT: '100000',
    },
  });
});
after(async () => { await s?.stop(); });

const checkout = (body, opts = {}) => s.request('POST', '/v1/checkout', { body, ...opts });

function order(extra = {}) {
  return { email: uniqueEmail('co'), amount_minor: 12345, currency: 'UAH', interval: 'month', provider: 'liqpay', ...extra };
}

async function created(body, opts) {
  const r = await checkout(body, opts);
  assert.equal(r.status, 201, `checkout ${JSON.stringify(body)} → ${r.status} ${r.text}`);
  assert.match(r.json.patron_id, UUID_RE);
  assert.match(r.json.pledge_id, UUID_RE);
  assert.equal(r.json.status, 'pending');
  return r;
}

async function pledgeCount(email) {
  return Number(await s.psql(
    `SELECT count(*) FROM pledges p JOIN patrons pa ON pa.id = p.patron_id WHERE lower(pa.email) = lower('${email}')`));
}

describe('redirects', () => {
  test('LiqPay: POST form with base64 data and its sha1 signature; pending pledge keyed by order_id', async () => {
    const body = order({ return_url: 'https://news.example.org/thanks' });
    const r = await created(body);
    assert.deepEqual(Object.keys(r.json).sort(), ['patron_id', 'pledge_id', 'redirect', 'status']);
    assert.match(String(r.headers['cache-control']), /no-store/);
    const { redirect } = r.json;
    assert.equal(redirect.method, 'POST');
    assert.equal(redirect.url, 'https://www.liqpay.ua/api/3/checkout');
    assert.deepEqual(Object.keys(redirect.fields).sort(), ['data', 'signature']);
    const { data, signature } = redirect.fields;
    const expected = crypto.createHash('sha1').update(LIQPAY_PRIVATE + data + LIQPAY_PRIVATE).digest('base64');
    assert.equal(signature, expected);
    const d = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    assert.equal(d.version, 3);
    assert.equal(d.public_key, LIQPAY_PUBLIC);
    assert.equal(d.action, 'subscribe');
    assert.equal(d.amount, '123.45');
    assert.equal(d.currency, 'UAH');
    assert.equal(d.order_id, r.json.pledge_id);
    assert.equal(d.result_url, 'https://news.example.org/thanks');
    assert.equal(d.server_url, `${PUBLIC_URL}/v1/webhooks/liqpay`);
    assert.equal(d.subscribe, '1');
    assert.equal(d.subscribe_periodicity, 'month');
    assert.match(d.subscribe_date_start, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const start = Date.parse(d.subscribe_date_start.replace(' ', 'T') + 'Z');
    assert.ok(Math.abs(start - Date.now()) < 5 * 60 * 1000, 'starts now (UTC)');
    assert.equal(typeof d.description, 'string');

    const p = await s.get(`/v1/pledges/${r.json.pledge_id}`);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.status, 'pending');
    assert.equal(p.json.patron_id, r.json.patron_id);
    assert.equal(p.json.provider, 'liqpay');
    assert.equal(p.json.provider_ref, r.json.pledge_id);
    assert.equal(p.json.amount_minor, 12345);
    assert.equal(p.json.currency, 'UAH');
    assert.equal(p.json.interval, 'month');
    const pa = await s.get(`/v1/patrons/${r.json.patron_id}`);
    assert.equal(pa.json.email, body.email);
    assert.equal(pa.json.status, 'none', 'pending is not membership');
  });

  test('LiqPay one-off: action pay, no subscription fields; yearly: periodicity year', async () => {
    let r = await created(order({ interval: 'once', amount_minor: 500, currency: 'JPY' }));
    let d = JSON.parse(Buffer.from(r.json.redirect.fields.data, 'base64').toString('utf8'));
    assert.equal(d.action, 'pay');
    assert.equal(d.amount, '500');
    assert.equal(d.currency, 'JPY');
    assert.equal(d.subscribe, undefined);
    assert.equal(d.subscribe_periodicity, undefined);
    assert.equal(d.result_url, undefined);
    r = await created(order({ interval: 'year', amount_minor: 1, currency: 'USD' }));
    d = JSON.parse(Buffer.from(r.json.redirect.fields.data, 'base64').toString('utf8'));
    assert.equal(d.subscribe_periodicity, 'year');
    assert.equal(d.amount, '0.01');
  });

  test('WayForPay: signed Purchase form fields with array fields as arrays', async () => {
    const body = order({ provider: 'wayforpay', amount_minor: 55000, return_url: 'https://news.example.org/ok' });
    const r = await created(body);
    const { redirect } = r.json;
    assert.equal(redirect.method, 'POST');
    assert.equal(redirect.url, 'https://secure.wayforpay.com/pay');
    const f = redirect.fields;
    assert.equal(f.merchantAccount, WFP_MERCHANT);
    assert.equal(f.merchantDomainName, 'members.example.org');
    assert.equal(f.orderReference, r.json.pledge_id);
    assert.match(f.orderDate, /^\d+$/);
    assert.ok(Math.abs(Number(f.orderDate) - Date.now() / 1000) < 300);
    assert.equal(f.amount, '550');
    assert.equal(f.currency, 'UAH');
    assert.ok(Array.isArray(f['productName[]']) && f['productName[]'].length === 1);
    assert.deepEqual(f['productCount[]'], ['1']);
    assert.deepEqual(f['productPrice[]'], ['550']);
    assert.equal(f.serviceUrl, `${PUBLIC_URL}/v1/webhooks/wayforpay`);
    assert.equal(f.returnUrl, 'https://news.example.org/ok');
    assert.equal(f.clientEmail, body.email);
    const signed = [f.merchantAccount, f.merchantDomainName, f.orderReference, f.orderDate, f.amount, f.currency,
      ...f['productName[]'], ...f['productCount[]'], ...f['productPrice[]']].join(';');
    assert.equal(f.merchantSignature, crypto.createHmac('md5', WFP_SECRET).update(signed, 'utf8').digest('hex'));
    const p = await s.get(`/v1/pledges/${r.json.pledge_id}`);
    assert.equal(p.json.provider, 'wayforpay');
    assert.equal(p.json.provider_ref, r.json.pledge_id);
  });

  test('WayForPay month/year ask for a regular payment; once does not', async () => {
    // field names and formats of wayforpay/php-sdk PurchaseForm (dates d.m.Y, UTC)
    const ddmmyyyy = (d) => `${String(d.getUTCDate()).padStart(2, '0')}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${d.getUTCFullYear()}`;
    const regularKeys = ['regularBehavior', 'regularMode', 'regularAmount', 'dateNext', 'dateEnd', 'regularOn'];
    for (const [interval, mode, months] of [['month', 'monthly', 1], ['year', 'yearly', 12]]) {
      const r = await created(order({ provider: 'wayforpay', interval, amount_minor: 12345 }));
      const f = r.json.redirect.fields;
      const at = new Date(Number(f.orderDate) * 1000);
      const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
      const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
      next.setUTCDate(Math.min(at.getUTCDate(), lastDay));
      assert.equal(f.regularBehavior, 'preset', interval);
      assert.equal(f.regularMode, mode);
      assert.equal(f.regularAmount, f.amount);
      assert.equal(f.amount, '123.45');
      assert.equal(f.dateNext, ddmmyyyy(next));
      assert.match(f.dateEnd, /^\d\d\.\d\d\.\d{4}$/);
      assert.equal(f.regularOn, '1');
      const signed = [f.merchantAccount, f.merchantDomainName, f.orderReference, f.orderDate, f.amount, f.currency,
        ...f['productName[]'], ...f['productCount[]'], ...f['productPrice[]']].join(';');
      assert.equal(f.merchantSignature, crypto.createHmac('md5', WFP_SECRET).update(signed, 'utf8').digest('hex'));
    }
    const once = await created(order({ provider: 'wayforpay', interval: 'once' }));
    for (const k of regularKeys) assert.equal(once.json.redirect.fields[k], undefined, k);
  });

  test('Stripe: Payment Link with client_reference_id and prefilled_email; provider_ref left to the webhook', async () => {
    const email = `a+${crypto.randomBytes(4).toString('hex')}@example.org`;
    const r = await created(order({ provider: 'stripe', email, currency: 'EUR' }));
    const { redirect } = r.json;
    assert.equal(redirect.method, 'GET');
    assert.equal(redirect.fields, undefined);
    const u = new URL(redirect.url);
    assert.equal(`${u.origin}${u.pathname}`, STRIPE_LINK);
    assert.equal(u.searchParams.get('client_reference_id'), r.json.pledge_id);
    assert.equal(u.searchParams.get('prefilled_email'), email);
    assert.ok(redirect.url.includes('%2B') && redirect.url.includes('%40'), redirect.url);
    const p = await s.get(`/v1/pledges/${r.json.pledge_id}`);
    assert.equal(p.json.provider, 'stripe');
    assert.equal(p.json.provider_ref, null);
  });
});

describe('patrons', () => {
  test('the patron is reused by e-mail, case-insensitively; each checkout is a new pledge', async () => {
    const local = `Reuse-${crypto.randomBytes(4).toString('hex')}`;
    const a = await created(order({ email: `${local}@Example.org` }));
    const b = await created(order({ email: `${local.toLowerCase()}@EXAMPLE.ORG`, provider: 'stripe' }));
    assert.equal(b.json.patron_id, a.json.patron_id);
    assert.notEqual(b.json.pledge_id, a.json.pledge_id);
    const pa = await s.get(`/v1/patrons/${a.json.patron_id}`);
    assert.equal(pa.json.email, `${local}@Example.org`, 'the stored address is not rewritten');
    assert.equal(await pledgeCount(`${local}@example.org`), 2);
  });

  test('concurrent first checkouts of one address make one patron', async () => {
    const email = uniqueEmail('race');
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      checkout(order({ email: i % 2 ? email.toUpperCase() : email }))));
    for (const r of all) assert.equal(r.status, 201, r.text);
    assert.equal(new Set(all.map((r) => r.json.patron_id)).size, 1);
    assert.equal(new Set(all.map((r) => r.json.pledge_id)).size, 8);
    assert.equal(Number(await s.psql(`SELECT count(*) FROM patrons WHERE lower(email) = lower('${email}')`)), 1);
  });

  test('an existing patron is reused; the name is filled in only when none is known', async () => {
    const email = uniqueEmail('named');
    const admin = await s.post('/v1/patrons', { email });
    assert.equal(admin.status, 201, admin.text);
    const a = await created(order({ email, name: '' }));
    assert.equal(a.json.patron_id, admin.json.id);
    assert.equal((await s.get(`/v1/patrons/${admin.json.id}`)).json.name, null, 'an empty name is no name');
    await created(order({ email, name: 'First Name' }));
    await created(order({ email, name: 'Someone Else' }));
    const pa = await s.get(`/v1/patrons/${admin.json.id}`);
    assert.equal(pa.json.name, 'First Name');
  });

  test('an erased patron is never reused', async () => {
    const email = uniqueEmail('erased');
    const a = await created(order({ email, name: 'Gone Soon' }));
    const del = await s.del(`/v1/patrons/${a.json.patron_id}`);
    assert.ok([200, 204].includes(del.status), del.text);
    const b = await created(order({ email }));
    assert.notEqual(b.json.patron_id, a.json.patron_id);
    const pa = await s.get(`/v1/patrons/${b.json.patron_id}`);
    assert.equal(pa.json.email, email);
    assert.equal(pa.json.name, null);
  });
});

describe('validation', () => {
  const cases = [
    ['bad e-mail', { email: 'not-an-email' }, 'email'],
    ['e-mail not a string', { email: 42 }, 'email'],
    ['amount 0', { amount_minor: 0 }, 'amount_minor'],
    ['amount negative', { amount_minor: -5 }, 'amount_minor'],
    ['amount above PATROND_MAX_AMOUNT_MINOR', { amount_minor: 1000001 }, 'amount_minor'],
    ['amount 1.5', { amount_minor: 1.5 }, 'amount_minor'],
    ['amount as a string', { amount_minor: '500' }, 'amount_minor'],
    ['unknown currency', { currency: 'XYZ' }, 'currency'],
    ['currency not allowlisted', { currency: 'GBP' }, 'currency'],
    ['lower-case currency', { currency: 'uah' }, 'currency'],
    ['unknown interval', { interval: 'week' }, 'interval'],
    ['unconfigured provider', { provider: 'patreon' }, 'provider'],
    ['webhook-only provider', { provider: 'paypal' }, 'provider'],
    ['unknown provider', { provider: 'bitcoin' }, 'provider'],
    ['manual is not a checkout provider', { provider: 'manual' }, 'provider'],
    ['return_url not http(s)', { return_url: 'javascript:alert(1)' }, 'return_url'],
    ['return_url relative', { return_url: '/thanks' }, 'return_url'],
    ['name too long', { name: 'x'.repeat(201) }, 'name'],
    ['unknown field', { coupon: 'FREE' }, 'coupon'],
  ];
  for (const [what, patch, field] of cases) {
    test(`${what} → 422 naming ${field}, nothing written`, async () => {
      const body = order(patch);
      const r = await checkout(body);
      assertInvalid(assert, r, field, what);
      if (typeof body.email === 'string') assert.equal(await pledgeCount(body.email), 0);
    });
  }

  test('all problems are reported at once', async () => {
    const r = await checkout({});
    assertInvalid(assert, r, 'email');
    const fields = r.json.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['amount_minor', 'currency', 'email', 'interval', 'provider']);
    const wrong = await checkout(order({ provider: 'x' }));
    const p = wrong.json.errors.find((e) => e.field === 'provider');
    assert.match(p.message, /liqpay/);
    assert.doesNotMatch(p.message, /patreon/, 'only configured providers are offered');
  });

  test('malformed JSON or not an object → 400, wrong content type → 415', async () => {
    assertProblem(assert, await checkout('{"email":', { headers: { 'Content-Type': 'application/json' } }), 400);
    assertProblem(assert, await checkout(order(), { headers: { 'Content-Type': 'text/plain' } }), 415);
    assertProblem(assert, await checkout([1, 2]), 400);
  });
});

describe('idempotency', () => {
  test('a retried checkout with the same Idempotency-Key replays the first pledge', async () => {
    const body = order({ provider: 'wayforpay' });
    const key = crypto.randomUUID();
    const a = await created(body, { headers: { 'Idempotency-Key': key } });
    const b = await checkout(body, { headers: { 'Idempotency-Key': key } });
    assert.equal(b.status, 201, b.text);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assert.deepEqual(b.json, a.json);
    assert.equal(await pledgeCount(body.email), 1);
    const c = await checkout({ ...body, amount_minor: 1 }, { headers: { 'Idempotency-Key': key } });
    assertInvalid(assert, c, 'Idempotency-Key', 'same key, other order', 'idempotency_key_reused');
    assert.equal(await pledgeCount(body.email), 1);
  });
});

describe('CORS', () => {
  const preflight = (path, origin, method = 'POST') => s.request('OPTIONS', path, {
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': method,
      'Access-Control-Request-Headers': 'content-type, idempotency-key',
    },
  });

  test('preflight from an allowlisted origin → 204 with the allow headers', async () => {
    const r = await preflight('/v1/checkout', ORIGIN);
    assert.equal(r.status, 204, r.text);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    assert.match(r.headers['access-control-allow-methods'], /\bPOST\b/);
    const headers = r.headers['access-control-allow-headers'].toLowerCase();
    for (const h of ['content-type', 'authorization', 'idempotency-key', 'x-request-id']) assert.ok(headers.includes(h), h);
    assert.match(r.headers['access-control-max-age'], /^\d+$/);
    assert.match(r.headers.vary, /Origin/);
    assert.match(r.headers.allow, /\bPOST\b/);
    assert.equal(r.text, '');
  });

  test('preflight methods come from the route table', async () => {
    const r = await preflight(`/v1/tiers/${crypto.randomUUID()}`, 'https://shop.example.org', 'PATCH');
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], 'https://shop.example.org');
    const methods = r.headers['access-control-allow-methods'].split(/,\s*/).sort();
    assert.deepEqual(methods, ['DELETE', 'GET', 'HEAD', 'PATCH']);
  });

  test('preflight from another origin → 204 without any allow header', async () => {
    const r = await preflight('/v1/checkout', 'https://evil.example.com');
    assert.equal(r.status, 204);
    for (const h of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers']) {
      assert.equal(r.headers[h], undefined, h);
    }
    assert.match(r.headers.vary, /Origin/);
  });

  test('admin endpoints are not opened to browsers; unknown paths are 404', async () => {
    const r = await preflight('/v1/patrons', ORIGIN, 'GET');
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.match(r.headers.allow, /\bGET\b/);
    assertProblem(assert, await preflight('/v1/nowhere', ORIGIN), 404);
  });

  test('responses carry Access-Control-Allow-Origin for allowlisted origins only', async () => {
    let r = await checkout(order(), { headers: { Origin: ORIGIN } });
    assert.equal(r.status, 201);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    assert.match(r.headers.vary, /Origin/);
    assert.match(r.headers['access-control-expose-headers'], /Retry-After/);
    r = await checkout({ email: 'bad' }, { headers: { Origin: ORIGIN } });
    assert.equal(r.status, 422);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN, 'errors are readable by the page too');
    r = await checkout(order(), { headers: { Origin: 'https://evil.example.com' } });
    assert.equal(r.status, 201);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    r = await s.request('GET', '/v1/tiers', { headers: { Origin: ORIGIN } });
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    r = await s.get('/v1/patrons', { headers: { Origin: ORIGIN } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });
});

describe('rate limit and expiry (their own servers)', () => {
  test('per-address limit → 429 with Retry-After; PATROND_CHECKOUT_RATE_LIMIT sets it', async () => {
    const t = await startServer({
      env: { PATROND_CHECKOUT_RATE_LIMIT: '3', PATROND_PATREON_CAMPAIGN_URL: PATREON_URL },
    });
    try {
      const post = (body) => t.request('POST', '/v1/checkout', { body });
      assertInvalid(assert, await post(order({ provider: 'liqpay' })), 'provider', 'liqpay is not configured here');
      for (let i = 0; i < 2; i++) {
        const r = await post(order({ provider: 'patreon', currency: 'USD' }));
        assert.equal(r.status, 201, r.text);
        assert.deepEqual(r.json.redirect, { method: 'GET', url: PATREON_URL });
      }
      const r = await post(order({ provider: 'patreon', currency: 'USD' }));
      assertProblem(assert, r, 429);
      assert.match(String(r.headers['retry-after']), /^[1-9]\d*$/);
      assert.equal(Number(await t.psql("SELECT count(*) FROM pledges")), 2, 'the limited request wrote nothing');
      const other = await t.request('GET', '/v1/tiers');
      assert.equal(other.status, 200, 'other endpoints are not limited by it');
    } finally {
      await t.stop();
    }
  });

  test('pending pledges older than 48 h expire; others are untouched', async () => {
    const old = await created(order());
    const young = await created(order());
    const fresh = await created(order());
    const paid = await created(order());
    assert.equal((await s.patch(`/v1/pledges/${paid.json.pledge_id}`, { status: 'active' })).status, 200);
    await s.psql(`UPDATE pledges SET created_at = now() - interval '49 hours'
                   WHERE id IN ('${old.json.pledge_id}', '${paid.json.pledge_id}')`);
    await s.psql(`UPDATE pledges SET created_at = now() - interval '47 hours' WHERE id = '${young.json.pledge_id}'`);
    // A second instance on the same database runs its jobs at start-up.
    const t = await startServer({ dbName: s.dbName, dbUrl: s.dbUrl, skipMigrate: true });
    try {
      let status;
      for (let i = 0; i < 100; i++) {
        status = (await s.get(`/v1/pledges/${old.json.pledge_id}`)).json.status;
        if (status === 'expired') break;
        await sleep(100);
      }
      assert.equal(status, 'expired');
      assert.equal((await s.get(`/v1/pledges/${young.json.pledge_id}`)).json.status, 'pending');
      assert.equal((await s.get(`/v1/pledges/${fresh.json.pledge_id}`)).json.status, 'pending');
      assert.equal((await s.get(`/v1/pledges/${paid.json.pledge_id}`)).json.status, 'active');
      // With no checkout provider configured, every provider is refused with a reason.
      const r = await t.request('POST', '/v1/checkout', { body: order() });
      assertInvalid(assert, r, 'provider');
      assert.match(r.json.errors.find((e) => e.field === 'provider').message, /no checkout provider/);
    } finally {
      await t.stop();
    }
  });
});
