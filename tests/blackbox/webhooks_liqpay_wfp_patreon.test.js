'use strict';
// POST /v1/webhooks/{liqpay,wayforpay,patreon} end to end (SPEC §4). Payloads
// are signed with node:crypto following each provider's documented scheme
// (reference §3, §5, §7):
//   LiqPay    form data=base64(json)&signature=base64(sha1(priv+data+priv))
//   WayForPay merchantSignature = hex HMAC-MD5 of the ';'-joined fields;
//             the reply is {"orderReference","status":"accept","time","signature"}
//   Patreon   X-Patreon-Signature = hex HMAC-MD5 of the body, X-Patreon-Event
// Each provider's lifecycle is checked through the admin API only.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, uniqueEmail, pageAll } = require('./lib/harness');
const { counts } = require('./lib/webhooks');

const LIQPAY_PUBLIC = 'sandbox_i00000000';
// a production key of the same merchant (rotation list): LiqPay's test keys start with sandbox_
const LIQPAY_PRODUCTION = 'i00000001';
const LIQPAY_PRIVATE = `sandbox_${crypto.randomBytes(12).toString('hex')}`;
const WFP_MERCHANT = 'test_merch_n1';
const WFP_SECRET = 'flk3409refn54t54t*FNJRET';
const PATREON_SECRET = crypto.randomBytes(24).toString('hex');

let srv;
before(async () => {
  srv = await startServer({
    env: {
      PATROND_PUBLIC_URL: 'https://members.example.org',
      PATROND_CURRENCIES: 'UAH,USD,EUR',
      PATROND_CHECKOUT_RATE_LIMIT: '100000',
      PATROND_LIQPAY_PUBLIC_KEY: `${LIQPAY_PUBLIC},${LIQPAY_PRODUCTION}`,
      PATROND_LIQPAY_PRIVATE_KEY: LIQPAY_PRIVATE,
      PATROND_WAYFORPAY_MERCHANT: WFP_MERCHANT,
      PATROND_WAYFORPAY_SECRET: WFP_SECRET,
      PATROND_PATREON_WEBHOOK_SECRET: PATREON_SECRET,
      PATROND_PATREON_CURRENCY: 'EUR',
    },
  });
});
after(async () => { if (srv) await srv.stop(); });

// ---------- signing helpers ----------

function liqpayForm(obj, { priv = LIQPAY_PRIVATE, signature } = {}) {
  const data = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)).toString('base64');
  const sig = signature !== undefined ? signature
    : crypto.createHash('sha1').update(priv + data + priv).digest('base64');
  return `data=${encodeURIComponent(data)}&signature=${encodeURIComponent(sig)}`;
}

function sendLiqpay(obj, opts) {
  return srv.request('POST', '/v1/webhooks/liqpay', {
    body: liqpayForm(obj, opts),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

const md5hex = (secret, text) => crypto.createHmac('md5', secret).update(text).digest('hex');

// Builds a WayForPay callback body as text so the amount token is exactly
// `amountText`; the signature covers the amount as written.
function wfpBody(f, { secret = WFP_SECRET, signature } = {}) {
  const fields = {
    merchantAccount: WFP_MERCHANT, authCode: '541963', cardPan: '41****8217', reasonCode: 1100,
    reason: 'Ok', email: '', ...f,
  };
  const signedText = [fields.merchantAccount, fields.orderReference, fields.amountText, fields.currency,
    fields.authCode, fields.cardPan, fields.transactionStatus, String(fields.reasonCode)].join(';');
  const sig = signature !== undefined ? signature : md5hex(secret, signedText);
  const { amountText, ...rest } = fields;
  const json = JSON.stringify({ ...rest, amount: '__AMOUNT__', merchantSignature: sig });
  return json.replace('"__AMOUNT__"', amountText);
}

function sendWfp(body) {
  return srv.request('POST', '/v1/webhooks/wayforpay', { body, headers: { 'Content-Type': 'application/json' } });
}

function sendPatreon(trigger, body, { secret = PATREON_SECRET, signature } = {}) {
  const sig = signature !== undefined ? signature : md5hex(secret, body);
  return srv.request('POST', '/v1/webhooks/patreon', {
    body,
    headers: { 'Content-Type': 'application/json', 'X-Patreon-Event': trigger, 'X-Patreon-Signature': sig },
  });
}

function patreonMember(memberId, userId, email, attrs) {
  return JSON.stringify({
    data: {
      type: 'member', id: memberId,
      attributes: {
        email, full_name: 'Patreon Reader', currently_entitled_amount_cents: 500, pledge_cadence: 1,
        patron_status: 'active_patron', last_charge_status: null, last_charge_date: null,
        next_charge_date: '2031-02-01T00:00:00.000+00:00', ...attrs,
      },
      relationships: {
        user: { data: { type: 'user', id: userId } },
        campaign: { data: { type: 'campaign', id: '1234' } },
      },
    },
    included: [{ type: 'user', id: userId, attributes: { email, full_name: 'Patreon Reader' } }],
  });
}

// ---------- API helpers ----------

function ok200(res, msg = '') {
  assert.equal(res.status, 200, `${msg} → ${res.status} ${res.text}`);
}

async function checkout(provider, email, amount_minor, currency) {
  const r = await srv.request('POST', '/v1/checkout', {
    body: { email, amount_minor, currency, interval: 'month', provider },
  });
  assert.equal(r.status, 201, `checkout → ${r.status} ${r.text}`);
  assert.equal(r.json.status, 'pending');
  return r.json.pledge_id;
}

async function pledges(provider) {
  return pageAll(srv, `/v1/pledges?provider=${provider}`);
}

async function pledgeVia(provider, id) {
  const p = (await pledges(provider)).find((x) => x.id === id);
  assert.ok(p, `pledge ${id} in /v1/pledges?provider=${provider}`);
  return p;
}

async function payments(provider) {
  return pageAll(srv, `/v1/payments?provider=${provider}`);
}

// [kind, status, amount_minor, currency, provider_payment_id] of one pledge, oldest first
async function ledger(provider, pledgeId) {
  return (await payments(provider)).filter((p) => p.pledge_id === pledgeId)
    .sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0))
    .map((p) => [p.kind, p.status, p.amount_minor, p.currency, p.provider_payment_id]);
}

async function totals(provider) {
  const t = {};
  for (const p of await payments(provider)) {
    if (p.status !== 'succeeded') continue;
    t[p.currency] = (t[p.currency] || 0) + p.amount_minor;
  }
  return t;
}

const sentTotals = { liqpay: {}, wayforpay: {}, patreon: {} };
const sent = (provider, currency, minor) => {
  sentTotals[provider][currency] = (sentTotals[provider][currency] || 0) + minor;
};

// ---------- LiqPay ----------

describe('LiqPay', () => {
  let pledgeId;
  const base = (extra) => ({
    version: 3, public_key: LIQPAY_PUBLIC, action: 'subscribe', order_id: pledgeId,
    currency: 'UAH', amount: 3.5, type: 'buy', paytype: 'card', ...extra,
  });
  const T0 = Date.parse('2031-01-01T00:00:00Z');

  test('subscribed → active; success ×2 → two charges; failure → past_due; reversed → refund; unsubscribed → canceled', async () => {
    const email = uniqueEmail('liqpay');
    pledgeId = await checkout('liqpay', email, 350, 'UAH');

    ok200(await sendLiqpay(base({ status: 'subscribed', payment_id: 1000001, create_date: T0, end_date: T0 })), 'subscribed');
    let p = await pledgeVia('liqpay', pledgeId);
    assert.equal(p.status, 'active');
    assert.deepEqual(await ledger('liqpay', pledgeId), [], 'activation is no money movement');

    // the amount as a decimal JSON number in major units: 3.5 UAH → 350
    ok200(await sendLiqpay(base({ status: 'success', payment_id: 1000002, end_date: T0 + 1000 })), 'first charge');
    sent('liqpay', 'UAH', 350);
    assert.deepEqual(await ledger('liqpay', pledgeId), [['charge', 'succeeded', 350, 'UAH', '1000002']]);

    // a renewal: same order_id, new payment_id (sent as a string this time)
    ok200(await sendLiqpay(base({ status: 'success', action: 'regular', payment_id: '1000003', end_date: T0 + 86400000 })), 'renewal');
    sent('liqpay', 'UAH', 350);
    assert.equal((await pledgeVia('liqpay', pledgeId)).status, 'active');

    ok200(await sendLiqpay(base({
      status: 'failure', action: 'regular', payment_id: 1000004, end_date: T0 + 2 * 86400000,
      err_code: 'limit', err_description: 'Card limit exceeded',
    })), 'failure');
    p = await pledgeVia('liqpay', pledgeId);
    assert.equal(p.status, 'past_due');
    const failed = (await payments('liqpay')).find((x) => x.pledge_id === pledgeId && x.status === 'failed');
    assert.ok(failed, 'a failed charge row');
    assert.equal(failed.kind, 'charge');
    assert.equal(failed.failure_reason, 'Card limit exceeded');
    assert.equal(failed.provider_payment_id, '1000004:failure');

    ok200(await sendLiqpay(base({ status: 'reversed', action: 'refund', payment_id: 1000002, amount: 3.5, end_date: T0 + 3 * 86400000 })), 'reversed');
    sent('liqpay', 'UAH', -350);

    ok200(await sendLiqpay(base({ status: 'unsubscribed', action: 'unsubscribe', payment_id: 1000005, end_date: T0 + 4 * 86400000 })), 'unsubscribed');
    p = await pledgeVia('liqpay', pledgeId);
    assert.equal(p.status, 'canceled');
    assert.ok(p.canceled_at);

    const rows = await ledger('liqpay', pledgeId);
    assert.deepEqual(rows.filter((r) => r[1] === 'succeeded'), [
      ['charge', 'succeeded', 350, 'UAH', '1000002'],
      ['charge', 'succeeded', 350, 'UAH', '1000003'],
      ['refund', 'succeeded', -350, 'UAH', '1000002:reversed'],
    ]);
    assert.equal(rows.length, 4, JSON.stringify(rows));
  });

  test('odd decimal amounts are exact (0.29 → 29, 1234.56 → 123456)', async () => {
    const email = uniqueEmail('liqpayamt');
    const id = await checkout('liqpay', email, 29, 'UAH');
    const ms = Date.parse('2031-05-01T00:00:00Z');
    // raw JSON text so the number tokens are exactly as written
    const mk = (pid, amt, end) => `{"version":3,"public_key":"${LIQPAY_PUBLIC}","action":"subscribe","order_id":"${id}",` +
      `"status":"success","payment_id":${pid},"amount":${amt},"currency":"UAH","end_date":${end}}`;
    ok200(await sendLiqpay(mk(2000001, '0.29', ms)));
    ok200(await sendLiqpay(mk(2000002, '1234.56', ms + 1000)));
    sent('liqpay', 'UAH', 29 + 123456);
    assert.deepEqual(await ledger('liqpay', id), [
      ['charge', 'succeeded', 29, 'UAH', '2000001'],
      ['charge', 'succeeded', 123456, 'UAH', '2000002'],
    ]);
    assert.equal((await pledgeVia('liqpay', id)).status, 'active', 'a first success activates the pending pledge');
  });

  test('duplicate delivery → 200 and no second row; forged → 401 and nothing written', async () => {
    const email = uniqueEmail('liqpaydup');
    const id = await checkout('liqpay', email, 500, 'UAH');
    const ev = { version: 3, public_key: LIQPAY_PUBLIC, action: 'subscribe', order_id: id, status: 'success',
      payment_id: 3000001, amount: 5, currency: 'UAH', end_date: Date.parse('2031-06-01T00:00:00Z') };
    ok200(await sendLiqpay(ev), 'first');
    sent('liqpay', 'UAH', 500);
    const c0 = await counts(srv);
    ok200(await sendLiqpay(ev), 'redelivery');
    assert.deepEqual(await counts(srv), c0, 'redelivery writes nothing');
    assert.equal((await ledger('liqpay', id)).length, 1);

    const forged = { ...ev, payment_id: 3000002, amount: 5000 };
    for (const opts of [{ priv: 'wrong_private_key' }, { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, { signature: '' }]) {
      const r = await sendLiqpay(forged, opts);
      assert.equal(r.status, 401, `forged ${JSON.stringify(opts)} → ${r.status} ${r.text}`);
    }
    // tampered data under the genuine signature of other data
    const goodSig = crypto.createHash('sha1').update(LIQPAY_PRIVATE + Buffer.from(JSON.stringify(ev)).toString('base64') + LIQPAY_PRIVATE).digest('base64');
    const r = await sendLiqpay(forged, { signature: goodSig });
    assert.equal(r.status, 401, `tampered → ${r.status} ${r.text}`);
    assert.deepEqual(await counts(srv), c0, 'forgeries write nothing');
  });
});

describe('LiqPay sandbox', () => {
  const ev = (id, publicKey, paymentId) => ({
    version: 3, public_key: publicKey, action: 'pay', order_id: id, status: 'sandbox',
    payment_id: paymentId, amount: 5, currency: 'UAH', end_date: Date.parse('2031-06-01T00:00:00Z'),
  });

  test('status sandbox made with a production key is recorded as ignored and books nothing', async () => {
    const id = await checkout('liqpay', uniqueEmail('lpsbx'), 500, 'UAH');
    const c0 = await counts(srv);
    ok200(await sendLiqpay(ev(id, LIQPAY_PRODUCTION, 4000001)), 'sandbox, production key');
    const c1 = await counts(srv);
    assert.deepEqual(c1, { ...c0, events: c0.events + 1 }, 'one event recorded, nothing else');
    assert.equal(await srv.psql("SELECT status FROM webhook_events WHERE provider = 'liqpay' AND event_key = '4000001:sandbox'"), 'ignored');
    assert.deepEqual(await ledger('liqpay', id), []);
    assert.equal((await pledgeVia('liqpay', id)).status, 'pending');
  });

  test('status sandbox made with a test key is a payment (the operator trying it out)', async () => {
    const id = await checkout('liqpay', uniqueEmail('lpsbx2'), 500, 'UAH');
    ok200(await sendLiqpay(ev(id, LIQPAY_PUBLIC, 4000002)), 'sandbox, test key');
    sent('liqpay', 'UAH', 500);
    assert.deepEqual(await ledger('liqpay', id), [['charge', 'succeeded', 500, 'UAH', '4000002']]);
    assert.equal((await pledgeVia('liqpay', id)).status, 'active');
  });
});

// ---------- WayForPay ----------

describe('WayForPay', () => {
  const processed = (iso) => Math.floor(Date.parse(iso) / 1000);

  function assertAccept(res, ref, msg) {
    ok200(res, msg);
    assert.ok(res.json, `JSON reply: ${res.text}`);
    assert.deepEqual(Object.keys(res.json).sort(), ['orderReference', 'signature', 'status', 'time'], msg);
    assert.equal(res.json.orderReference, ref);
    assert.equal(res.json.status, 'accept');
    assert.equal(typeof res.json.time, 'number');
    assert.ok(Math.abs(res.json.time - Date.now() / 1000) < 120, 'time is now');
    assert.equal(res.json.signature, md5hex(WFP_SECRET, `${ref};accept;${res.json.time}`), 'reply signature');
  }

  test('Approved → active + charge; InProcessing ignored; Declined → past_due; Refunded → refund', async () => {
    const email = uniqueEmail('wfp');
    const ref = await checkout('wayforpay', email, 55050, 'UAH');
    const cb = (status, iso, extra = {}) => wfpBody({
      orderReference: ref, amountText: '550.50', currency: 'UAH', transactionStatus: status, email,
      createdDate: processed(iso) - 5, processingDate: processed(iso), ...extra,
    });

    assertAccept(await sendWfp(cb('Approved', '2025-01-01T00:00:00Z')), ref, 'Approved');
    sent('wayforpay', 'UAH', 55050);
    let p = await pledgeVia('wayforpay', ref);
    assert.equal(p.status, 'active');
    assert.deepEqual(await ledger('wayforpay', ref), [['charge', 'succeeded', 55050, 'UAH', `${ref}:541963`]]);

    // In-between states are acknowledged and ignored
    assertAccept(await sendWfp(cb('InProcessing', '2025-01-31T23:59:00Z')), ref, 'InProcessing');

    assertAccept(await sendWfp(cb('Declined', '2025-02-01T00:00:00Z', { reasonCode: 1006, reason: 'Insufficient funds' })), ref, 'Declined');
    p = await pledgeVia('wayforpay', ref);
    assert.equal(p.status, 'past_due');
    const failed = (await payments('wayforpay')).find((x) => x.pledge_id === ref && x.status === 'failed');
    assert.ok(failed, 'a failed charge row');
    assert.equal(failed.failure_reason, 'Insufficient funds');

    assertAccept(await sendWfp(cb('Refunded', '2025-02-02T00:00:00Z', { amountText: '100' })), ref, 'Refunded');
    sent('wayforpay', 'UAH', -10000);
    const rows = await ledger('wayforpay', ref);
    assert.deepEqual(rows.filter((r) => r[0] === 'refund'), [['refund', 'succeeded', -10000, 'UAH', rows.find((r) => r[0] === 'refund')[4]]]);
  });

  test('a regular charge (its own orderReference, <ref>_WFPREG-<n>, and authCode) is a second charge row of the pledge', async () => {
    const email = uniqueEmail('wfpren');
    const ref = await checkout('wayforpay', email, 10000, 'UAH');
    const cb = (orderReference, authCode, iso) => wfpBody({
      orderReference, authCode, amountText: '100', currency: 'UAH', transactionStatus: 'Approved', email,
      processingDate: processed(iso),
    });
    assertAccept(await sendWfp(cb(ref, '541963', '2025-03-01T00:00:00Z')), ref, 'first');
    sent('wayforpay', 'UAH', 10000);
    const regular = `${ref}_WFPREG-1`;
    assertAccept(await sendWfp(cb(regular, '662476', '2025-04-01T00:00:00Z')), regular, 'regular charge');
    const rows = await ledger('wayforpay', ref);
    assert.deepEqual(rows.filter((r) => r[0] === 'charge' && r[1] === 'succeeded').map((r) => r[4]),
      [`${ref}:541963`, `${regular}:662476`], JSON.stringify(rows));
    assert.equal((await pledgeVia('wayforpay', ref)).status, 'active');
    // counted only once the row exists, so the totals test checks the rest on its own
    sent('wayforpay', 'UAH', 10000);
  });

  test('an Approved callback replayed with other processingDate/createdDate values changes nothing', async () => {
    const email = uniqueEmail('wfpreplay');
    const ref = await checkout('wayforpay', email, 2500, 'UAH');
    const cb = (extra) => wfpBody({
      orderReference: ref, amountText: '25', currency: 'UAH', transactionStatus: 'Approved', email,
      createdDate: processed('2025-08-01T00:00:00Z') - 5, processingDate: processed('2025-08-01T00:00:00Z'), ...extra,
    });
    assertAccept(await sendWfp(cb({})), ref, 'genuine');
    sent('wayforpay', 'UAH', 2500);
    const c0 = await counts(srv);
    const rows0 = await ledger('wayforpay', ref);
    assert.equal(rows0.length, 1, JSON.stringify(rows0));
    for (const [i, extra] of [
      { processingDate: processed('2025-09-01T00:00:00Z') },
      { processingDate: processed('2099-01-01T00:00:00Z'), createdDate: processed('2099-01-01T00:00:00Z') },
      { processingDate: 1 },
      { processingDate: undefined, createdDate: undefined },
    ].entries()) {
      assertAccept(await sendWfp(cb(extra)), ref, `replay #${i}`);
    }
    assert.deepEqual(await counts(srv), c0, 'replays write no event, ledger row or receipt');
    assert.deepEqual(await ledger('wayforpay', ref), rows0);
    assert.equal((await pledgeVia('wayforpay', ref)).status, 'active');
  });

  test('duplicate delivery → accept and no second row; forged → 401 and nothing written', async () => {
    const email = uniqueEmail('wfpdup');
    const ref = await checkout('wayforpay', email, 100, 'UAH');
    const body = wfpBody({ orderReference: ref, amountText: '1.00', currency: 'UAH', transactionStatus: 'Approved', email,
      processingDate: processed('2025-07-01T00:00:00Z') });
    assertAccept(await sendWfp(body), ref, 'first');
    sent('wayforpay', 'UAH', 100);
    const c0 = await counts(srv);
    assertAccept(await sendWfp(body), ref, 'redelivery');
    assert.deepEqual(await counts(srv), c0, 'redelivery writes nothing');

    const forgeries = [
      wfpBody({ orderReference: ref, amountText: '999', currency: 'UAH', transactionStatus: 'Refunded', email,
        processingDate: processed('2025-07-02T00:00:00Z') }, { secret: 'not-the-secret' }),
      wfpBody({ orderReference: ref, amountText: '999', currency: 'UAH', transactionStatus: 'Refunded', email,
        processingDate: processed('2025-07-02T00:00:00Z') }, { signature: '0'.repeat(32) }),
      // signed for 1.00, claims 999
      body.replace('"amount":1.00', '"amount":999').replace('"transactionStatus":"Approved"', '"transactionStatus":"Refunded"'),
      // another merchant's account, correctly signed with our secret
      wfpBody({ merchantAccount: 'someone_else', orderReference: ref, amountText: '5', currency: 'UAH',
        transactionStatus: 'Approved', email, processingDate: processed('2025-07-03T00:00:00Z') }),
    ];
    for (const [i, f] of forgeries.entries()) {
      const r = await sendWfp(f);
      assert.equal(r.status, 401, `forgery #${i} → ${r.status} ${r.text}`);
    }
    assert.deepEqual(await counts(srv), c0, 'forgeries write nothing');
  });
});

// ---------- Patreon ----------

describe('Patreon', () => {
  test('pledge:create → active; update Paid ×2 → two charges; declined → past_due; pledge:delete → canceled', async () => {
    const email = uniqueEmail('patreon');
    const member = crypto.randomUUID(), user = String(crypto.randomInt(1e6, 1e9));
    const m = (attrs) => patreonMember(member, user, email, attrs);
    const day = (n) => new Date(Date.UTC(2025, 0, 1) + n * 86400000).toISOString().replace('Z', '+00:00');
    const norm = (n) => new Date(Date.UTC(2025, 0, 1) + n * 86400000).toISOString().replace('.000Z', 'Z');

    ok200(await sendPatreon('members:pledge:create', m({ last_charge_status: null })), 'create');
    let list = (await pledges('patreon')).filter((x) => x.provider_ref === member);
    assert.equal(list.length, 1, `one pledge for the member: ${JSON.stringify(list)}`);
    const id = list[0].id;
    assert.equal(list[0].status, 'active');
    assert.equal(list[0].amount_minor, 500);
    assert.equal(list[0].currency, 'EUR');

    const paid1 = m({ last_charge_status: 'Paid', last_charge_date: day(0), next_charge_date: day(31) });
    ok200(await sendPatreon('members:update', paid1), 'paid 1');
    sent('patreon', 'EUR', 500);
    ok200(await sendPatreon('members:update', m({ last_charge_status: 'Paid', last_charge_date: day(31), next_charge_date: day(59) })), 'paid 2');
    sent('patreon', 'EUR', 500);
    assert.equal((await pledgeVia('patreon', id)).status, 'active');
    let rows = await ledger('patreon', id);
    assert.deepEqual(rows, [
      ['charge', 'succeeded', 500, 'EUR', `${member}:${norm(0)}`],
      ['charge', 'succeeded', 500, 'EUR', `${member}:${norm(31)}`],
    ]);

    // duplicate delivery: same trigger, same body
    const c0 = await counts(srv);
    ok200(await sendPatreon('members:update', paid1), 'redelivery');
    assert.deepEqual(await counts(srv), c0, 'redelivery writes nothing');

    ok200(await sendPatreon('members:update', m({ patron_status: 'declined_patron', last_charge_status: 'Declined', last_charge_date: day(59) })), 'declined');
    assert.equal((await pledgeVia('patreon', id)).status, 'past_due');
    const failed = (await payments('patreon')).find((x) => x.pledge_id === id && x.status === 'failed');
    assert.ok(failed, 'a failed charge row');
    assert.equal(failed.failure_reason, 'Patreon charge declined');
    assert.equal(failed.provider_payment_id, `${member}:failed:${norm(59)}`);

    ok200(await sendPatreon('members:pledge:delete', m({ patron_status: 'former_patron', currently_entitled_amount_cents: 0, last_charge_status: 'Declined', last_charge_date: day(59) })), 'delete');
    const p = await pledgeVia('patreon', id);
    assert.equal(p.status, 'canceled');
    assert.ok(p.canceled_at);
    rows = await ledger('patreon', id);
    assert.equal(rows.length, 3, JSON.stringify(rows));
  });

  test('the same body replayed under other X-Patreon-Event values is a duplicate and changes nothing', async () => {
    const email = uniqueEmail('patreonreplay');
    const member = crypto.randomUUID();
    const body = patreonMember(member, String(crypto.randomInt(1e6, 1e9)), email, {
      last_charge_status: 'Paid', last_charge_date: '2031-03-01T00:00:00.000+00:00', next_charge_date: '2031-04-01T00:00:00.000+00:00' });
    ok200(await sendPatreon('members:update', body), 'genuine');
    sent('patreon', 'EUR', 500);
    const key = crypto.createHash('sha256').update(body).digest('hex');
    assert.equal(await srv.psql(`SELECT status FROM webhook_events WHERE provider = 'patreon' AND event_key = '${key}'`), 'applied');
    const id = (await pledges('patreon')).find((x) => x.provider_ref === member).id;
    const rows0 = await ledger('patreon', id);
    assert.equal(rows0.length, 1, JSON.stringify(rows0));
    const c0 = await counts(srv);
    for (const trigger of ['members:pledge:delete', 'members:delete', 'members:pledge:create', 'posts:publish']) {
      ok200(await sendPatreon(trigger, body), trigger);
    }
    assert.deepEqual(await counts(srv), c0, 'replays write nothing');
    assert.equal((await pledgeVia('patreon', id)).status, 'active', 'a replayed delete does not cancel');
    assert.deepEqual(await ledger('patreon', id), rows0);
  });

  test('forged signatures → 401 and nothing written', async () => {
    const email = uniqueEmail('patreonforge');
    const body = patreonMember(crypto.randomUUID(), '42', email, {
      last_charge_status: 'Paid', last_charge_date: '2031-01-01T00:00:00.000+00:00' });
    const c0 = await counts(srv);
    for (const opts of [{ secret: 'wrong' }, { signature: '0'.repeat(32) }, { signature: '' }, { signature: 'zz' }]) {
      const r = await sendPatreon('members:pledge:create', body, opts);
      assert.equal(r.status, 401, `forged ${JSON.stringify(opts)} → ${r.status} ${r.text}`);
    }
    // signature of the body under another trigger is still valid for the body; a body change is not
    const r = await sendPatreon('members:update', body.replace('"Paid"', '"Paid" '), { signature: md5hex(PATREON_SECRET, body) });
    assert.equal(r.status, 401, `tampered body → ${r.status} ${r.text}`);
    assert.deepEqual(await counts(srv), c0, 'forgeries write nothing');
  });
});

// ---------- totals ----------

test('ledger totals per provider and currency equal the sums sent', async () => {
  for (const provider of ['liqpay', 'wayforpay', 'patreon']) {
    assert.deepEqual(await totals(provider), sentTotals[provider], provider);
  }
});
