'use strict';
// POST /v1/webhooks/monobank and /v1/webhooks/paypal end to end (SPEC §4
// "Webhooks"; provider schemes in the webhooks reference §4, §6). Monobank
// bodies are signed with a P-256 key made here (X-Sign = base64 DER ECDSA
// over the raw body); PayPal deliveries with an RSA key and a self-signed
// certificate made by openssl (SHA256withRSA over
// "transmission_id|transmission_time|webhook_id|crc32(body)").

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const { startServer, assertProblem, uniqueEmail } = require('./lib/harness');
const { counts } = require('./lib/webhooks');

// ---- crypto material ----

const mono = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const MONO_PUBKEY = Buffer.from(mono.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
const otherMono = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-paypal-'));
const CERT_FILE = path.join(tmp, 'cert.pem');
const KEY_FILE = path.join(tmp, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=test', '-days', '2',
  '-keyout', KEY_FILE, '-out', CERT_FILE], { stdio: 'ignore' });
const PAYPAL_KEY = crypto.createPrivateKey(fs.readFileSync(KEY_FILE));
const FORGER_KEY = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const WEBHOOK_ID = `WH-${crypto.randomBytes(8).toString('hex').toUpperCase()}`;

// zlib's CRC-32; node's own when it has one, checked against the table version
function crc32Table(buf) {
  let crc = 0xffffffff;
  for (const b of buf) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function crc32(buf) {
  const mine = crc32Table(buf);
  if (typeof zlib.crc32 === 'function') assert.equal(zlib.crc32(buf), mine, 'crc32 implementations agree');
  return mine;
}
assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);

let srv;

before(async () => {
  srv = await startServer({
    env: {
      PATROND_MONOBANK_PUBKEY: MONO_PUBKEY,
      PATROND_PAYPAL_WEBHOOK_ID: WEBHOOK_ID,
      PATROND_PAYPAL_CERT_FILE: CERT_FILE,
    },
  });
});
after(async () => {
  try { if (srv) await srv.stop(); } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
});

function assertOk(res, msg = '') {
  assert.ok(res.status >= 200 && res.status < 300, `${msg} → ${res.status} ${res.text}`);
}

async function pendingPledge(provider, providerRef, { amount = 5000, currency = 'UAH' } = {}) {
  const p = await srv.post('/v1/patrons', { email: uniqueEmail(provider) });
  assert.equal(p.status, 201, p.text);
  const body = { patron_id: p.json.id, amount_minor: amount, currency, interval: 'month', provider };
  if (providerRef) body.provider_ref = providerRef;
  const r = await srv.post('/v1/pledges', body);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.status, 'pending');
  return r.json;
}

async function pledge(id) {
  const r = await srv.get(`/v1/pledges/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function payments(pledgeId) {
  const r = await srv.get(`/v1/payments?pledge_id=${pledgeId}&limit=100`);
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

// Every event a lifecycle sent was applied (a 200 may hide a `failed` event).
async function assertNoFailedEvents(provider) {
  const bad = await srv.psql(
    `SELECT string_agg(status || ': ' || coalesce(reason, ''), '; ') FROM webhook_events
      WHERE provider = '${provider}' AND status = 'failed'`);
  assert.equal(bad, '', `${provider} events kept as failed`);
}

// ---- Monobank ----

function monoBody(fields) {
  return JSON.stringify({
    ccy: 980,
    createdDate: '2031-01-01T10:00:00Z',
    ...fields,
  });
}

function sendMono(body, { key = mono.privateKey, sign } = {}) {
  const xsign = sign !== undefined ? sign : crypto.sign('sha256', Buffer.from(body), key).toString('base64');
  const headers = { 'Content-Type': 'application/json' };
  if (xsign !== null) headers['X-Sign'] = xsign;
  return srv.request('POST', '/v1/webhooks/monobank', { body, headers });
}

test('monobank: success, a stale failure, a newer failure and a reversal', async () => {
  const inv = `inv${crypto.randomBytes(8).toString('hex')}`;
  const pl = await pendingPledge('monobank', inv);

  // success → active with one charge in kopiykas
  const success = monoBody({
    invoiceId: inv, status: 'success', amount: 5000, finalAmount: 5000,
    modifiedDate: '2031-01-01T10:05:00Z',
  });
  assertOk(await sendMono(success), 'success');
  assert.equal((await pledge(pl.id)).status, 'active');
  let rows = await payments(pl.id);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].kind, 'charge');
  assert.equal(rows[0].amount_minor, 5000);
  assert.equal(rows[0].currency, 'UAH');
  assert.equal(rows[0].provider, 'monobank');
  assert.equal(rows[0].provider_payment_id, inv);

  // the same delivery again: acknowledged, nothing new
  const before = await counts(srv);
  assertOk(await sendMono(success), 'redelivery');
  assert.deepEqual(await counts(srv), before);
  assert.equal((await payments(pl.id)).length, 1);

  // a processing event older than the success is stale: still active
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'processing', amount: 5000, modifiedDate: '2031-01-01T10:01:00Z',
  })), 'stale processing');
  assert.equal((await pledge(pl.id)).status, 'active');

  // a failure older than the success does not overrule it
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'failure', amount: 5000, failureReason: 'stale decline',
    modifiedDate: '2031-01-01T10:02:00Z',
  })), 'stale failure');
  assert.equal((await pledge(pl.id)).status, 'active', 'a stale failure must not move the pledge');

  // a newer failure (a renewal invoice naming the pledge by reference) → past_due
  const inv2 = `inv${crypto.randomBytes(8).toString('hex')}`;
  assertOk(await sendMono(monoBody({
    invoiceId: inv2, reference: pl.id, status: 'failure', amount: 5000, failureReason: 'Insufficient funds',
    modifiedDate: '2031-02-01T10:00:00Z',
  })), 'renewal failure');
  assert.equal((await pledge(pl.id)).status, 'past_due');
  const failed = (await payments(pl.id)).filter((p) => p.failure_reason);
  assert.ok(failed.some((p) => p.failure_reason === 'Insufficient funds'), JSON.stringify(failed));

  // reversal of the first invoice → a negative refund row
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'reversed', amount: 5000, finalAmount: 0,
    modifiedDate: '2031-02-02T10:00:00Z',
  })), 'reversed');
  rows = await payments(pl.id);
  const refunds = rows.filter((p) => p.kind === 'refund');
  assert.equal(refunds.length, 1, JSON.stringify(rows));
  assert.equal(refunds[0].amount_minor, -5000);
  assert.equal(refunds[0].currency, 'UAH');
  assert.equal(rows.filter((p) => p.kind === 'charge' && p.provider_payment_id === inv).length, 1);
  await assertNoFailedEvents('monobank');
});

// One refund of an invoice's cancelList, as Monobank reports it.
const monoRefund = (amount, when, extRef) => ({
  status: 'success', amount, ccy: 980, createdDate: when, modifiedDate: when,
  approvalCode: '662476', rrn: `rrn${extRef}`, extRef,
});
// The invoice paid in full (50.00 UAH).
const monoPaid = (inv, when) => monoBody({
  invoiceId: inv, status: 'success', amount: 5000, finalAmount: 5000, modifiedDate: when,
});

test('monobank: two partial refunds of one invoice are two refund rows', async () => {
  const inv = `inv${crypto.randomBytes(8).toString('hex')}`;
  const pl = await pendingPledge('monobank', inv);
  const first = monoRefund(1000, '2031-05-02T10:00:00Z', 'refund-a');
  const second = monoRefund(4000, '2031-05-03T10:00:00Z', 'refund-b');
  assertOk(await sendMono(monoPaid(inv, '2031-05-01T10:00:00Z')), 'paid');
  // a partial refund leaves the invoice a success; the list grows with each
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'success', amount: 5000, finalAmount: 4000, modifiedDate: '2031-05-02T10:00:01Z',
    cancelList: [first],
  })), 'first refund');
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'reversed', amount: 5000, finalAmount: 0, modifiedDate: '2031-05-03T10:00:01Z',
    cancelList: [first, second],
  })), 'second refund');
  const refunds = (await payments(pl.id)).filter((p) => p.kind === 'refund')
    .map((p) => [p.amount_minor, p.currency, p.provider_payment_id]).sort();
  assert.deepEqual(refunds, [
    [-1000, 'UAH', `${inv}:refund:refund-a`],
    [-4000, 'UAH', `${inv}:refund:refund-b`],
  ]);
  assert.equal((await payments(pl.id)).filter((p) => p.kind === 'charge').length, 1);
  await assertNoFailedEvents('monobank');
});

test('monobank: a refund whose own delivery was lost is booked from the next one, once', async () => {
  const inv = `inv${crypto.randomBytes(8).toString('hex')}`;
  const pl = await pendingPledge('monobank', inv);
  const first = monoRefund(1500, '2031-06-02T10:00:00Z', 'refund-a');
  const second = monoRefund(3500, '2031-06-03T10:00:00Z', 'refund-b');
  assertOk(await sendMono(monoPaid(inv, '2031-06-01T10:00:00Z')), 'paid');
  // the delivery that reported the first refund never arrives
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'reversed', amount: 5000, finalAmount: 0, modifiedDate: '2031-06-03T10:00:01Z',
    cancelList: [first, second],
  })), 'second refund, listing both');
  const booked = async () => (await payments(pl.id)).filter((p) => p.kind === 'refund')
    .map((p) => [p.provider_payment_id, p.amount_minor]).sort();
  const want = [[`${inv}:refund:refund-a`, -1500], [`${inv}:refund:refund-b`, -3500]];
  assert.deepEqual(await booked(), want);
  // ... and then arrives late, after the one that listed it: nothing twice
  assertOk(await sendMono(monoBody({
    invoiceId: inv, status: 'success', amount: 5000, finalAmount: 3500, modifiedDate: '2031-06-02T10:00:01Z',
    cancelList: [first],
  })), 'first refund, late');
  assert.deepEqual(await booked(), want);
  await assertNoFailedEvents('monobank');
});

test('monobank: a refund whose charge\'s own delivery was lost books that charge, then voids it', async () => {
  const inv0 = `inv${crypto.randomBytes(8).toString('hex')}`;
  const inv1 = `inv${crypto.randomBytes(8).toString('hex')}`;
  const pl = await pendingPledge('monobank', inv0);
  assertOk(await sendMono(monoPaid(inv0, '2031-06-01T10:00:00Z')), 'June paid');
  // July's renewal: its success never arrives, its full reversal does
  const reversal = monoBody({
    invoiceId: inv1, reference: pl.id, status: 'reversed', amount: 5000, finalAmount: 0,
    createdDate: '2031-07-01T10:00:00Z', modifiedDate: '2031-07-05T10:00:01Z',
    cancelList: [monoRefund(5000, '2031-07-05T10:00:00Z', 'refund-x')],
  });
  assertOk(await sendMono(reversal), 'July reversed');
  const charges = async () => (await payments(pl.id)).filter((p) => p.kind === 'charge')
    .map((p) => [p.provider_payment_id, p.amount_minor, p.occurred_at])
    .sort((x, y) => x[2].localeCompare(y[2]));
  const want = [[inv0, 5000, '2031-06-01T10:00:00Z'], [inv1, 5000, '2031-07-01T10:00:00Z']];
  assert.deepEqual(await charges(), want);
  // the refund voids July's charge, not June's (the pledge's latest before)
  assert.equal(await srv.psql(
    `SELECT c.provider_payment_id FROM payments r JOIN payments c ON c.id = r.refunds_payment_id
      WHERE r.provider_payment_id = '${inv1}:refund:refund-x'`), inv1);
  // as if both had arrived: June paid up to July's charge, July's paid nothing
  let p = await pledge(pl.id);
  assert.equal(p.status, 'past_due');
  assert.equal(p.current_period_end, '2031-07-01T10:00:00Z');
  // the lost success arrives late after all: nothing twice, nothing undone
  assertOk(await sendMono(monoBody({
    invoiceId: inv1, reference: pl.id, status: 'success', amount: 5000, finalAmount: 5000,
    createdDate: '2031-07-01T10:00:00Z', modifiedDate: '2031-07-01T10:05:00Z',
  })), 'July paid, late');
  assert.deepEqual(await charges(), want);
  p = await pledge(pl.id);
  assert.equal(p.status, 'past_due');
  assert.equal(p.current_period_end, '2031-07-01T10:00:00Z');
  await assertNoFailedEvents('monobank');
});

test('monobank: the pledge id as a 32-hex reference links a pledge without provider_ref', async () => {
  const pl = await pendingPledge('monobank', null, { amount: 12345 });
  const inv = `inv${crypto.randomBytes(8).toString('hex')}`;
  assertOk(await sendMono(monoBody({
    invoiceId: inv, reference: pl.id.replace(/-/g, ''), status: 'success', amount: 12345,
    modifiedDate: '2031-03-01T10:00:00.250Z',
  })));
  assert.equal((await pledge(pl.id)).status, 'active');
  const rows = await payments(pl.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].amount_minor, 12345);
});

test('monobank: forged, tampered or unsigned deliveries are 401 and write nothing', async () => {
  const inv = `inv${crypto.randomBytes(8).toString('hex')}`;
  await pendingPledge('monobank', inv);
  const body = monoBody({ invoiceId: inv, status: 'success', amount: 5000, modifiedDate: '2031-04-01T10:00:00Z' });
  const genuine = crypto.sign('sha256', Buffer.from(body), mono.privateKey).toString('base64');
  const before = await counts(srv);
  const cases = [
    ['another key', sendMono(body, { key: otherMono.privateKey })],
    ['tampered body', sendMono(body.replace('5000', '5001'), { sign: genuine })],
    ['garbage signature', sendMono(body, { sign: 'AAAA' })],
    ['no X-Sign', sendMono(body, { sign: null })],
  ];
  for (const [name, pending] of cases) assertProblem(assert, await pending, 401, name);
  assert.deepEqual(await counts(srv), before);
});

// ---- PayPal ----

function paypalEvent(type, resource, created = new Date()) {
  return JSON.stringify({
    id: `WH-${crypto.randomBytes(10).toString('hex').toUpperCase()}`,
    event_version: '1.0',
    create_time: created.toISOString(),
    resource_type: type.startsWith('PAYMENT.SALE') ? 'sale' : 'subscription',
    event_type: type,
    summary: type,
    resource,
  });
}

function sendPaypal(body, opts = {}) {
  const tid = opts.tid || crypto.randomUUID();
  const time = opts.time || new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const whid = opts.webhookId || WEBHOOK_ID;
  const text = `${tid}|${time}|${whid}|${crc32(Buffer.from(body))}`;
  const sig = opts.sig !== undefined ? opts.sig
    : crypto.sign('sha256', Buffer.from(text), opts.key || PAYPAL_KEY).toString('base64');
  return srv.request('POST', '/v1/webhooks/paypal', {
    body,
    headers: {
      'Content-Type': 'application/json',
      'PAYPAL-TRANSMISSION-ID': tid,
      'PAYPAL-TRANSMISSION-TIME': time,
      'PAYPAL-TRANSMISSION-SIG': sig,
      'PAYPAL-AUTH-ALGO': opts.algo || 'SHA256withRSA',
      'PAYPAL-CERT-URL': 'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270',
    },
  });
}

function subscription(id, pledgeId, extra = {}) {
  return {
    id,
    status: 'ACTIVE',
    custom_id: pledgeId,
    plan_id: 'P-TEST',
    subscriber: {
      email_address: 'buyer@example.com',
      payer_id: 'PAYER1',
      name: { given_name: 'Pay', surname: 'Pal' },
    },
    billing_info: {
      next_billing_time: '2031-06-01T10:00:00Z',
      last_payment: { amount: { value: '5.00', currency_code: 'USD' }, time: '2031-05-01T10:00:00Z' },
    },
    ...extra,
  };
}

function sale(id, subId, total = '5.00', extra = {}) {
  return { id, state: 'completed', billing_agreement_id: subId, amount: { total, currency: 'USD' }, ...extra };
}

test('paypal: activation, payments, a failure, cancellation and a refund', async () => {
  const pl = await pendingPledge('paypal', null, { amount: 500, currency: 'USD' });
  const subId = `I-${crypto.randomBytes(6).toString('hex').toUpperCase()}`;

  assertOk(await sendPaypal(paypalEvent('BILLING.SUBSCRIPTION.ACTIVATED', subscription(subId, pl.id))), 'activated');
  let p = await pledge(pl.id);
  assert.equal(p.status, 'active');
  assert.equal(p.provider_ref, subId, 'the subscription id becomes the provider_ref');

  const sale1 = `SALE${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
  assertOk(await sendPaypal(paypalEvent('PAYMENT.SALE.COMPLETED', sale(sale1, subId))), 'sale 1');
  let rows = await payments(pl.id);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].kind, 'charge');
  assert.equal(rows[0].amount_minor, 500);
  assert.equal(rows[0].currency, 'USD');
  assert.equal(rows[0].provider, 'paypal');
  assert.equal(rows[0].provider_payment_id, sale1);

  // renewal
  const sale2 = `SALE${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
  assertOk(await sendPaypal(paypalEvent('PAYMENT.SALE.COMPLETED', sale(sale2, subId))), 'renewal');
  rows = await payments(pl.id);
  assert.equal(rows.filter((r) => r.kind === 'charge' && r.amount_minor === 500).length, 2, JSON.stringify(rows));
  assert.equal((await pledge(pl.id)).status, 'active');

  // the same renewal redelivered (same event, a new transmission) has no second effect
  const dupBody = paypalEvent('PAYMENT.SALE.COMPLETED', sale(sale2, subId));
  const before = await counts(srv);
  assertOk(await sendPaypal(dupBody), 'one more event for sale 2');
  assertOk(await sendPaypal(dupBody), 'its redelivery');
  const afterDup = await counts(srv);
  assert.equal(afterDup.payments, before.payments, 'no second row for one sale');
  assert.equal(afterDup.events, before.events + 1, 'the event is recorded once');

  // a failed renewal → past_due
  const failed = subscription(subId, pl.id);
  failed.billing_info.last_failed_payment = {
    amount: { value: '5.00', currency_code: 'USD' }, reason_code: 'PAYMENT_DENIED', time: new Date().toISOString(),
  };
  assertOk(await sendPaypal(paypalEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', failed)), 'payment failed');
  assert.equal((await pledge(pl.id)).status, 'past_due');
  rows = await payments(pl.id);
  assert.ok(rows.some((r) => r.failure_reason === 'PAYMENT_DENIED'), JSON.stringify(rows));

  // cancelled → canceled
  assertOk(await sendPaypal(paypalEvent('BILLING.SUBSCRIPTION.CANCELLED',
    subscription(subId, pl.id, { status: 'CANCELLED' }))), 'cancelled');
  p = await pledge(pl.id);
  assert.equal(p.status, 'canceled');
  assert.ok(p.canceled_at, 'canceled_at set');

  // a refund of the first sale → a negative refund row
  const refundId = `REF${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
  assertOk(await sendPaypal(paypalEvent('PAYMENT.SALE.REFUNDED',
    { id: refundId, state: 'completed', sale_id: sale1, billing_agreement_id: subId, amount: { total: '5.00', currency: 'USD' } })),
  'refunded');
  rows = await payments(pl.id);
  const refunds = rows.filter((r) => r.kind === 'refund');
  assert.equal(refunds.length, 1, JSON.stringify(rows));
  assert.equal(refunds[0].amount_minor, -500);
  assert.equal(refunds[0].currency, 'USD');
  assert.equal(refunds[0].provider_payment_id, refundId);
  await assertNoFailedEvents('paypal');
});

test('paypal: a suspended subscription is past_due, and re-activated it is active again', async () => {
  const pl = await pendingPledge('paypal', null, { amount: 500, currency: 'USD' });
  const subId = `I-${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
  assertOk(await sendPaypal(paypalEvent('BILLING.SUBSCRIPTION.ACTIVATED', subscription(subId, pl.id))), 'activated');
  assert.equal((await pledge(pl.id)).status, 'active');

  assertOk(await sendPaypal(paypalEvent('BILLING.SUBSCRIPTION.SUSPENDED',
    subscription(subId, pl.id, { status: 'SUSPENDED', status_change_note: 'Too many failed payments' }))), 'suspended');
  let p = await pledge(pl.id);
  assert.equal(p.status, 'past_due', 'suspended is not a final cancel');
  assert.equal(p.canceled_at, null);
  assert.deepEqual(await payments(pl.id), [], 'a suspension moves no money');

  assertOk(await sendPaypal(paypalEvent('BILLING.SUBSCRIPTION.RE-ACTIVATED', subscription(subId, pl.id))), 're-activated');
  p = await pledge(pl.id);
  assert.equal(p.status, 'active');
  assert.equal(p.canceled_at, null);
  await assertNoFailedEvents('paypal');
});

test('paypal: forged, tampered or mis-addressed deliveries are 401 and write nothing', async () => {
  const pl = await pendingPledge('paypal', null, { amount: 500, currency: 'USD' });
  const subId = `I-${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
  const body = paypalEvent('PAYMENT.SALE.COMPLETED', sale(`SALE${crypto.randomBytes(6).toString('hex')}`, subId, '5.00', { custom: pl.id }));
  const tid = crypto.randomUUID();
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const genuineText = `${tid}|${time}|${WEBHOOK_ID}|${crc32(Buffer.from(body))}`;
  const genuine = crypto.sign('sha256', Buffer.from(genuineText), PAYPAL_KEY).toString('base64');
  const before = await counts(srv);
  const cases = [
    ['another key', sendPaypal(body, { key: FORGER_KEY })],
    ['another webhook id', sendPaypal(body, { webhookId: 'WH-SOMEONE-ELSE' })],
    ['tampered body', sendPaypal(body.replace('5.00', '9.00'), { tid, time, sig: genuine })],
    ['another transmission id', sendPaypal(body, { tid: crypto.randomUUID(), time, sig: genuine })],
    ['garbage signature', sendPaypal(body, { sig: 'AAAA' })],
    ['unsupported algorithm', sendPaypal(body, { algo: 'SHA1withRSA' })],
    ['stale transmission time', sendPaypal(body, { time: new Date(Date.now() - 5 * 86400000).toISOString() })],
    ['no headers', srv.request('POST', '/v1/webhooks/paypal', { body, headers: { 'Content-Type': 'application/json' } })],
  ];
  for (const [name, pending] of cases) assertProblem(assert, await pending, 401, name);
  assert.deepEqual(await counts(srv), before);
  assert.equal((await pledge(pl.id)).status, 'pending');
});
