'use strict';
// Self-service pledges (SPEC §4c): GET /v1/me lists the patron's pledges and
// payments; POST /v1/me/pledges/{id}/cancel cancels at Stripe, LiqPay or
// WayForPay, in patrond (manual, standard), or points to the provider's page
// (Patreon, PayPal). The providers are local stand-ins (node:http) that check
// each request the way the provider does and answer as it does:
//   Stripe     POST /v1/subscriptions/{id}, Bearer <restricted key>, form
//              cancel_at_period_end=true → the subscription object
//   LiqPay     POST /api/request, form data=base64(json)&signature=
//              base64(sha1(priv+data+priv)), action "unsubscribe" → status
//              "unsubscribed"
//   WayForPay  POST /regularApi, JSON requestType REMOVE with merchantAccount
//              and merchantPassword → reasonCode 4100

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { startServer, uniqueEmail, sessionsFor, assertProblem, waitFor, RFC3339_Z_RE } = require('./lib/harness');
const { sendStripe, stripeEvent } = require('./lib/webhooks');

const STRIPE_KEY = `rk_test_${crypto.randomBytes(12).toString('hex')}`;
const STRIPE_WHSEC = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const LIQPAY_PUBLIC = 'sandbox_i00000000001';
const LIQPAY_PRIVATE = `sandbox_${crypto.randomBytes(16).toString('hex')}`;
const WFP_MERCHANT = 'test_merch_n1';
const WFP_SECRET = crypto.randomBytes(16).toString('hex');
const WFP_PASSWORD = crypto.randomBytes(16).toString('hex');

// ---- the stand-ins ----

// One server for the three APIs. `mode` per provider: ok, fail (HTTP 500),
// hang (never answers). Every request is kept with what the check found.
const standIn = {
  mode: { stripe: 'ok', liqpay: 'ok', wayforpay: 'ok' },
  seen: [],
  server: null,
  url: null,
};

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

// Stripe: the restricted key as a bearer token, a form body with exactly
// cancel_at_period_end=true; answers the subscription object, or Stripe's
// error object.
function stripeApi(req, res, body) {
  const m = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(req.url);
  const form = new URLSearchParams(body);
  const problems = [];
  if (req.method !== 'POST' || !m) problems.push(`unexpected ${req.method} ${req.url}`);
  if (req.headers.authorization !== `Bearer ${STRIPE_KEY}`) problems.push('bad key');
  if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) problems.push('not a form');
  if ([...form.keys()].join() !== 'cancel_at_period_end' || form.get('cancel_at_period_end') !== 'true') {
    problems.push(`unexpected form ${body}`);
  }
  standIn.seen.push({ provider: 'stripe', ref: m && m[1], problems });
  if (problems.includes('bad key')) {
    return json(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
  }
  if (problems.length) return json(res, 400, { error: { type: 'invalid_request_error', message: problems.join('; ') } });
  return json(res, 200, {
    id: m[1], object: 'subscription', status: 'active', cancel_at_period_end: true,
    cancel_at: standIn.periodEnd, customer: 'cus_standin',
    items: { object: 'list', data: [{ current_period_end: standIn.periodEnd }] },
  });
}

// LiqPay: recomputes the signature over `data` with the private key and
// reads the order out of `data`.
function liqpayApi(req, res, body) {
  const form = new URLSearchParams(body);
  const data = form.get('data') || '';
  const signature = form.get('signature') || '';
  const expected = crypto.createHash('sha1').update(LIQPAY_PRIVATE + data + LIQPAY_PRIVATE).digest('base64');
  const problems = [];
  let order = {};
  if (req.method !== 'POST' || req.url !== '/api/request') problems.push(`unexpected ${req.method} ${req.url}`);
  if (signature !== expected) problems.push('bad signature');
  try { order = JSON.parse(Buffer.from(data, 'base64').toString('utf8')); } catch { problems.push('data is not base64 JSON'); }
  if (order.action !== 'unsubscribe' || order.version !== 3 || order.public_key !== LIQPAY_PUBLIC || !order.order_id) {
    problems.push(`unexpected order ${JSON.stringify(order)}`);
  }
  standIn.seen.push({ provider: 'liqpay', ref: order.order_id, problems });
  if (problems.length) {
    return json(res, 200, { result: 'error', status: 'error', err_code: 'err_signature', err_description: problems.join('; ') });
  }
  return json(res, 200, { result: 'ok', status: 'unsubscribed', order_id: order.order_id, public_key: LIQPAY_PUBLIC });
}

// WayForPay's regular payments API: merchant account and password in the
// JSON body.
function wayforpayApi(req, res, body) {
  let r = {};
  const problems = [];
  try { r = JSON.parse(body); } catch { problems.push('not JSON'); }
  if (req.method !== 'POST' || req.url !== '/regularApi') problems.push(`unexpected ${req.method} ${req.url}`);
  if (r.requestType !== 'REMOVE') problems.push('not REMOVE');
  if (r.merchantAccount !== WFP_MERCHANT || r.merchantPassword !== WFP_PASSWORD) problems.push('bad merchant');
  if (!r.orderReference) problems.push('no orderReference');
  standIn.seen.push({ provider: 'wayforpay', ref: r.orderReference, problems });
  if (problems.includes('bad merchant')) return json(res, 200, { reasonCode: 1109, reason: 'Invalid merchant' });
  if (problems.length) return json(res, 200, { reasonCode: 1102, reason: problems.join('; ') });
  return json(res, 200, { reasonCode: 4100, reason: 'Ok' });
}

function startStandIn() {
  standIn.server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const provider = req.url.startsWith('/v1/') ? 'stripe' : req.url.startsWith('/api/') ? 'liqpay' : 'wayforpay';
    const mode = standIn.mode[provider];
    if (mode === 'hang') {
      standIn.seen.push({ provider, hung: true });
      return; // never answers; patrond's timeout ends it
    }
    if (mode === 'fail') {
      standIn.seen.push({ provider, failed: true });
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      return res.end('internal error');
    }
    ({ stripe: stripeApi, liqpay: liqpayApi, wayforpay: wayforpayApi })[provider](req, res, body);
  });
  return new Promise((resolve) => standIn.server.listen(0, '127.0.0.1', () => {
    standIn.url = `http://127.0.0.1:${standIn.server.address().port}`;
    resolve();
  }));
}

// ---- patrond ----

let srv;

function providerEnv(url) {
  return {
    PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_WHSEC,
    PATROND_STRIPE_API_KEY: STRIPE_KEY,
    PATROND_STRIPE_API_URL: url,
    PATROND_LIQPAY_PUBLIC_KEY: LIQPAY_PUBLIC,
    PATROND_LIQPAY_PRIVATE_KEY: LIQPAY_PRIVATE,
    PATROND_LIQPAY_API_URL: `${url}/api/request`,
    PATROND_WAYFORPAY_MERCHANT: WFP_MERCHANT,
    PATROND_WAYFORPAY_SECRET: WFP_SECRET,
    PATROND_WAYFORPAY_MERCHANT_PASSWORD: WFP_PASSWORD,
    PATROND_WAYFORPAY_API_URL: `${url}/regularApi`,
  };
}

before(async () => {
  await startStandIn();
  // the end of the paid period the stand-ins and the pledges share
  standIn.periodEnd = Math.floor(Date.now() / 1000) + 20 * 86400;
  srv = await startServer({ env: providerEnv(standIn.url) });
});

after(async () => {
  if (srv) await srv.stop();
  if (standIn.server) {
    standIn.server.closeAllConnections();
    await new Promise((r) => standIn.server.close(r));
  }
});

const PERIOD_END = () => new Date(standIn.periodEnd * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// A patron with a session and one pledge made by the admin API.
async function patronWith(pledge, prefix = 'self') {
  const p = await srv.post('/v1/patrons', { email: uniqueEmail(prefix) });
  assert.equal(p.status, 201, p.text);
  const [token] = await sessionsFor(srv, [p.json.id]);
  const pl = await srv.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 500, currency: 'UAH', interval: 'month', status: 'active',
    current_period_end: PERIOD_END(), ...pledge,
  });
  assert.equal(pl.status, 201, pl.text);
  return { patron: p.json.id, token, pledge: pl.json.id };
}

const me = (token) => srv.request('GET', '/v1/me', { key: token });
const cancel = (token, id) => srv.request('POST', `/v1/me/pledges/${id}/cancel`, { key: token });
const row = async (id) => (await srv.psqlJson(
  `SELECT to_jsonb(p) FROM (SELECT status, canceled_at, cancel_requested_at FROM pledges WHERE id = '${id}') p`))[0];
const seenFor = (provider) => standIn.seen.filter((s) => s.provider === provider);

// ---- GET /v1/me ----

test('GET /v1/me lists the pledges with how each is canceled, and the payments newest first', async () => {
  const p = await srv.post('/v1/patrons', { email: uniqueEmail('list') });
  const [token] = await sessionsFor(srv, [p.json.id]);
  const made = {};
  for (const [provider, extra] of [
    ['stripe', { provider_ref: 'sub_list1' }], ['liqpay', { provider_ref: crypto.randomUUID() }],
    ['wayforpay', { provider_ref: crypto.randomUUID() }], ['manual', {}], ['standard', { provider_ref: 'std_list1' }],
    ['patreon', { provider_ref: 'pat_list1' }], ['paypal', { provider_ref: 'I-LIST1' }],
  ]) {
    const r = await srv.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 500, currency: 'UAH', interval: 'month', provider,
      status: 'active', current_period_end: PERIOD_END(), ...extra,
    });
    assert.equal(r.status, 201, r.text);
    made[provider] = r.json.id;
  }
  const once = await srv.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 900, currency: 'UAH', interval: 'once', provider: 'manual', status: 'active',
  });
  const pending = await srv.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 500, currency: 'UAH', interval: 'month', provider: 'stripe',
  });
  // 55 payments on the stripe pledge, a minute apart
  await srv.psql(`INSERT INTO payments (kind, status, amount_minor, currency, provider, provider_payment_id,
                                        pledge_id, patron_id, occurred_at, failure_reason)
                  SELECT 'charge', CASE WHEN i = 55 THEN 'failed' ELSE 'succeeded' END, 500, 'UAH', 'stripe',
                         'in_list_' || i, '${made.stripe}', '${p.json.id}',
                         now() - interval '1 hour' + i * interval '1 minute',
                         CASE WHEN i = 55 THEN 'Your card was declined.' END
                    FROM generate_series(1, 55) i`);

  const r = await me(token);
  assert.equal(r.status, 200, r.text);
  const byId = Object.fromEntries(r.json.pledges.map((x) => [x.id, x]));
  const expect = {
    stripe: 'provider', liqpay: 'provider', wayforpay: 'provider', manual: 'patrond', standard: 'patrond',
    patreon: 'elsewhere', paypal: 'elsewhere',
  };
  for (const [provider, mode] of Object.entries(expect)) {
    assert.equal(byId[made[provider]].cancelable, mode, provider);
    assert.equal(byId[made[provider]].provider, provider);
  }
  assert.equal(byId[once.json.id].cancelable, 'no', 'a one-off');
  assert.equal(byId[pending.json.id].cancelable, 'no', 'a pending provider pledge');
  const s = byId[made.stripe];
  assert.deepEqual(Object.keys(s).sort(), ['amount_minor', 'cancel_requested_at', 'cancelable', 'canceled_at',
    'created_at', 'currency', 'current_period_end', 'id', 'interval', 'provider', 'status'].sort());
  assert.equal(s.current_period_end, PERIOD_END());
  assert.equal(s.cancel_requested_at, null);
  assert.equal(r.json.pledges.length, 9);

  assert.equal(r.json.payments.length, 50, 'at most 50 payments');
  assert.equal(r.json.payments[0].failure_reason, 'Your card was declined.', 'the newest first');
  const times = r.json.payments.map((x) => x.occurred_at);
  assert.deepEqual(times, [...times].sort().reverse(), 'newest first throughout');
  assert.deepEqual(Object.keys(r.json.payments[0]).sort(),
    ['amount_minor', 'currency', 'failure_reason', 'id', 'kind', 'occurred_at', 'pledge_id', 'provider']);
  assert.equal(r.json.payments[0].pledge_id, made.stripe);
});

// ---- cancel at the providers ----

test('Stripe: cancel at period end; the pledge stays active until the webhook, the membership to the period end', async () => {
  const sub = `sub_${crypto.randomBytes(8).toString('hex')}`;
  const { token, pledge } = await patronWith({ provider: 'stripe', provider_ref: sub }, 'stripe');
  const before = seenFor('stripe').length;
  const r = await cancel(token, pledge);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'active', effective_until: PERIOD_END() });
  const calls = seenFor('stripe').slice(before);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], { provider: 'stripe', ref: sub, problems: [] });

  let m = await me(token);
  const pl = m.json.pledges[0];
  assert.equal(pl.status, 'active');
  assert.match(pl.cancel_requested_at, RFC3339_Z_RE);
  assert.equal(pl.cancelable, 'no');
  // no grace once an end was asked for: the paid period is what counts
  assert.equal(m.json.member, true);
  assert.equal(m.json.member_until, PERIOD_END());

  assertProblem(assert, await cancel(token, pledge), 409, 'asked twice', 'pledge_not_cancelable');
  assert.equal(seenFor('stripe').length, before + 1, 'no second call');

  // Stripe confirms with customer.subscription.deleted (here early: the
  // period end is still ahead, as after a cancel "now" in the dashboard)
  const body = stripeEvent('customer.subscription.deleted', {
    id: sub, object: 'subscription', customer: 'cus_standin', currency: 'uah', status: 'canceled',
    items: { data: [{ quantity: 1, current_period_end: standIn.periodEnd, price: { unit_amount: 500, recurring: { interval: 'month', interval_count: 1 } } }] },
    cancellation_details: { reason: 'cancellation_requested' },
  });
  const w = await sendStripe(srv, body, { secret: STRIPE_WHSEC });
  assert.equal(w.status, 200, w.text);
  m = await me(token);
  assert.equal(m.json.pledges[0].status, 'canceled');
  assert.match(m.json.pledges[0].canceled_at, RFC3339_Z_RE);
  assert.equal(m.json.member, true, 'a canceled pledge still counts until its paid period ends');
  assert.equal(m.json.member_until, PERIOD_END());
});

test('LiqPay: unsubscribe with a signed request; canceled at once, membership to the period end', async () => {
  const ref = crypto.randomUUID();
  const { token, pledge } = await patronWith({ provider: 'liqpay', provider_ref: ref }, 'liqpay');
  const before = seenFor('liqpay').length;
  const r = await cancel(token, pledge);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'canceled', effective_until: PERIOD_END() });
  assert.deepEqual(seenFor('liqpay').slice(before), [{ provider: 'liqpay', ref, problems: [] }]);
  const m = await me(token);
  assert.equal(m.json.pledges[0].status, 'canceled');
  assert.equal(m.json.member, true);
  assert.equal(m.json.member_until, PERIOD_END());
  assertProblem(assert, await cancel(token, pledge), 409, 'already canceled', 'pledge_not_cancelable');
});

test('WayForPay: REMOVE with the merchant password; canceled at once (it sends no callback)', async () => {
  const ref = crypto.randomUUID();
  const { token, pledge } = await patronWith({ provider: 'wayforpay', provider_ref: ref }, 'wfp');
  const before = seenFor('wayforpay').length;
  const r = await cancel(token, pledge);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'canceled', effective_until: PERIOD_END() });
  assert.deepEqual(seenFor('wayforpay').slice(before), [{ provider: 'wayforpay', ref, problems: [] }]);
  assert.equal((await row(pledge)).status, 'canceled');
  assert.equal((await me(token)).json.member, true);
});

// ---- patrond is the authority ----

test('manual and standard pledges are canceled at once, with no provider call', async () => {
  const calls = standIn.seen.length;
  for (const extra of [{ provider: 'manual' }, { provider: 'standard', provider_ref: `std_${crypto.randomUUID()}` }]) {
    const { token, pledge } = await patronWith(extra, extra.provider);
    const r = await cancel(token, pledge);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'canceled', effective_until: PERIOD_END() }, extra.provider);
    const m = await me(token);
    assert.equal(m.json.pledges[0].status, 'canceled');
    assert.equal(m.json.member, true, `${extra.provider}: member until the period end`);
    assert.equal(m.json.member_until, PERIOD_END());
  }
  assert.equal(standIn.seen.length, calls);

  // a manual pledge that paid for no period ends now
  const { token, pledge } = await patronWith({ provider: 'manual', current_period_end: null }, 'manual-open');
  assert.equal((await me(token)).json.member, true);
  const r = await cancel(token, pledge);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'canceled');
  assert.ok(Math.abs(Date.parse(r.json.effective_until) - Date.now()) < 60000, r.json.effective_until);
  assert.equal((await me(token)).json.member, false);
});

test('Patreon and PayPal: 409 with the page where the patron cancels; Monobank: 409, ask the newsroom', async () => {
  for (const [provider, url] of [
    ['patreon', 'https://www.patreon.com/settings/memberships'],
    ['paypal', 'https://www.paypal.com/myaccount/autopay/'],
  ]) {
    const { token, pledge } = await patronWith({ provider, provider_ref: `ref_${crypto.randomUUID()}` }, provider);
    const r = await cancel(token, pledge);
    assertProblem(assert, r, 409, provider, 'pledge_not_cancelable');
    assert.equal(r.json.manage_url, url);
    assert.equal((await row(pledge)).status, 'active');
  }
  // a provider patrond cannot cancel at and knows no page of: the newsroom does it
  const { token, pledge } = await patronWith({ provider: 'monobank', provider_ref: `inv_${crypto.randomUUID()}` }, 'mono');
  const r = await cancel(token, pledge);
  assertProblem(assert, r, 409, 'monobank', 'pledge_not_cancelable');
  assert.equal(r.json.manage_url, undefined);
  assert.match(r.json.detail, /newsroom/);
});

test('pledges that cannot be canceled answer 409 and stay as they are', async () => {
  const once = await patronWith({ provider: 'manual', interval: 'once', current_period_end: null }, 'once');
  assertProblem(assert, await cancel(once.token, once.pledge), 409, 'one-off', 'pledge_not_cancelable');
  const pending = await patronWith({ provider: 'stripe', status: 'pending', current_period_end: null }, 'pending');
  assertProblem(assert, await cancel(pending.token, pending.pledge), 409, 'pending', 'pledge_not_cancelable');
  assert.equal((await row(pending.pledge)).status, 'pending');
});

test('only the patron\'s own pledge: another\'s is 404, no session is 401, an admin key 403', async () => {
  const mine = await patronWith({ provider: 'manual' }, 'mine');
  const theirs = await patronWith({ provider: 'manual' }, 'theirs');
  assertProblem(assert, await cancel(mine.token, theirs.pledge), 404, 'another patron\'s pledge', 'not_found');
  assertProblem(assert, await cancel(mine.token, crypto.randomUUID()), 404, 'no such pledge', 'not_found');
  assertProblem(assert, await cancel(mine.token, 'not-a-uuid'), 404, 'not a uuid');
  assertProblem(assert, await srv.request('POST', `/v1/me/pledges/${mine.pledge}/cancel`), 401, 'no session');
  assertProblem(assert, await srv.post(`/v1/me/pledges/${mine.pledge}/cancel`), 403, 'an admin key is no patron', 'forbidden');
  assert.equal((await row(theirs.pledge)).status, 'active');
});

// ---- a provider that fails ----

test('a provider answering 500 leaves the pledge unchanged: 502 with Retry-After', async () => {
  for (const [provider, ref] of [['stripe', 'sub_fail500'], ['liqpay', crypto.randomUUID()], ['wayforpay', crypto.randomUUID()]]) {
    const { token, pledge } = await patronWith({ provider, provider_ref: ref }, `${provider}-500`);
    const was = await row(pledge);
    standIn.mode[provider] = 'fail';
    try {
      const r = await cancel(token, pledge);
      assertProblem(assert, r, 502, provider, 'provider_unavailable');
      assert.match(r.headers['retry-after'] || '', /^\d+$/);
    } finally {
      standIn.mode[provider] = 'ok';
    }
    assert.deepEqual(await row(pledge), was, `${provider}: unchanged`);
    // and once the provider is back, the same request works
    const again = await cancel(token, pledge);
    assert.equal(again.status, 200, again.text);
  }
});

test('a provider that refuses (Stripe with a wrong key) is a 502 too', async () => {
  // the stand-in answers a wrong key the way Stripe does: 401 and an error object
  const wrongKey = await startServer({ env: { ...providerEnv(standIn.url), PATROND_STRIPE_API_KEY: 'rk_test_wrong' } });
  try {
    const p = await wrongKey.post('/v1/patrons', { email: uniqueEmail('wrongkey') });
    const [token] = await sessionsFor(wrongKey, [p.json.id]);
    const pl = await wrongKey.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 500, currency: 'UAH', interval: 'month', provider: 'stripe',
      status: 'active', provider_ref: 'sub_wrongkey', current_period_end: PERIOD_END(),
    });
    const r = await wrongKey.request('POST', `/v1/me/pledges/${pl.json.id}/cancel`, { key: token });
    assertProblem(assert, r, 502, 'Stripe said 401', 'provider_unavailable');
    assert.deepEqual(standIn.seen.at(-1).problems, ['bad key']);
    assert.equal((await wrongKey.psql(`SELECT status || coalesce(cancel_requested_at::text, '-') FROM pledges WHERE id = '${pl.json.id}'`)), 'active-');
  } finally {
    await wrongKey.stop();
  }
});

test('a provider that hangs past the timeout leaves the pledge unchanged: 502; only a quarter of the database threads wait for it', async () => {
  // the server runs the default 16 database threads: 4 may wait on providers
  const patrons = [];
  for (let i = 0; i < 5; i++) {
    patrons.push(await patronWith({ provider: 'wayforpay', provider_ref: crypto.randomUUID() }, 'hang'));
  }
  const was = await row(patrons[0].pledge);
  const hungBefore = standIn.seen.filter((s) => s.hung).length;
  standIn.mode.wayforpay = 'hang';
  const t0 = Date.now();
  let hanging;
  let settled = false;
  try {
    hanging = Promise.all(patrons.slice(0, 4).map(({ token, pledge }) =>
      srv.request('POST', `/v1/me/pledges/${pledge}/cancel`, { key: token, timeout: 30000 })));
    hanging.finally(() => { settled = true; }).catch(() => {});
    await waitFor('four calls hanging at the provider',
      () => standIn.seen.filter((s) => s.hung).length === hungBefore + 4, 8000);
    const fifth = patrons[4];
    const busy = await cancel(fifth.token, fifth.pledge);
    assertProblem(assert, busy, 503, 'a fifth call while four hang', 'provider_busy');
    assert.equal(busy.headers['retry-after'], '5');
    assert.equal(standIn.seen.filter((s) => s.hung).length, hungBefore + 4, 'the fifth never reached the provider');
    const mine = await me(fifth.token);
    assert.equal(mine.status, 200, 'the other database threads still serve');
    assert.equal(settled, false, 'both answered while the four still hang');
    for (const r of await hanging) assertProblem(assert, r, 502, 'timeout', 'provider_unavailable');
  } finally {
    await hanging?.catch(() => {});
    standIn.mode.wayforpay = 'ok';
  }
  const took = Date.now() - t0;
  assert.ok(took >= 9000 && took < 20000, `answered after ${took} ms (the client gives up at 10 s)`);
  for (const { pledge } of patrons) assert.deepEqual(await row(pledge), was);
  // once the hanging calls are over, the fifth goes through
  const again = await cancel(patrons[4].token, patrons[4].pledge);
  assert.equal(again.status, 200, again.text);
});

test('a provider whose API is not configured: 503 provider_not_configured, nothing changes', async () => {
  const bare = await startServer({ env: { PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_WHSEC } });
  try {
    const p = await bare.post('/v1/patrons', { email: uniqueEmail('bare') });
    const [token] = await sessionsFor(bare, [p.json.id]);
    const pl = await bare.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 500, currency: 'UAH', interval: 'month', provider: 'stripe',
      status: 'active', provider_ref: 'sub_bare', current_period_end: PERIOD_END(),
    });
    const calls = standIn.seen.length;
    const r = await bare.request('POST', `/v1/me/pledges/${pl.json.id}/cancel`, { key: token });
    assertProblem(assert, r, 503, 'no key', 'provider_not_configured');
    assert.equal(standIn.seen.length, calls);
    assert.equal(await bare.psql(`SELECT status FROM pledges WHERE id = '${pl.json.id}'`), 'active');
  } finally {
    await bare.stop();
  }
});
