'use strict';
// SPEC §4 "Webhooks" step 2 and §5: a redelivered event has no second
// effect "however many instances receive it at once". Two patrond
// processes share one database; the same signed Standard Webhooks event is
// delivered 50 times at once, split across both.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, uniqueEmail } = require('./lib/harness');
const { standardSecret, msgId, standardBody, sendStandard, sendStripe, stripeEvent, counts } = require('./lib/webhooks');

const SECRET = standardSecret();
const STRIPE_SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const ENV = { PATROND_STANDARD_WEBHOOK_SECRET: SECRET, PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_SECRET };
let a, b;

before(async () => {
  a = await startServer({ env: ENV });
  b = await startServer({
    env: ENV,
    dbName: a.dbName, dbUrl: a.dbUrl, skipMigrate: true, adminKey: a.adminKey, readKey: a.readKey,
  });
});
after(async () => {
  // b first: a drops the shared database when it stops
  try { if (b) await b.stop(); } finally { if (a) await a.stop(); }
});

test('both processes serve the same database', async () => {
  const p = await a.post('/v1/patrons', { email: uniqueEmail('shared') });
  assert.equal(p.status, 201, p.text);
  const r = await b.get(`/v1/patrons/${p.json.id}`);
  assert.equal(r.status, 200, r.text);
});

// One new event row, payment, pledge and patron since `beforeCounts`.
async function assertOneOfEach(beforeCounts) {
  const afterCounts = await counts(a);
  assert.equal(afterCounts.events - beforeCounts.events, 1, 'one webhook_events row');
  assert.equal(afterCounts.payments - beforeCounts.payments, 1, 'one payments row');
  assert.equal(afterCounts.pledges - beforeCounts.pledges, 1, 'one pledge');
  assert.equal(afterCounts.patrons - beforeCounts.patrons, 1, 'one patron');
}

test('one event delivered 50 times at once to two processes has exactly one effect', async () => {
  const id = msgId();
  const ref = `sub_${crypto.randomBytes(6).toString('hex')}`;
  const paymentId = `pay_${crypto.randomBytes(6).toString('hex')}`;
  const email = uniqueEmail('twoproc');
  const body = standardBody('payment.succeeded', {
    email, subscription_id: ref, payment_id: paymentId, amount_minor: 1500, currency: 'USD', interval: 'month',
  });
  const beforeCounts = await counts(a);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    sendStandard(i % 2 ? b : a, body, { id, secret: SECRET })));
  results.forEach((r, i) => {
    assert.ok(r.status >= 200 && r.status < 300, `delivery ${i} to ${i % 2 ? 'b' : 'a'} → ${r.status} ${r.text}`);
  });
  await assertOneOfEach(beforeCounts);
  assert.equal(await a.psql(
    `SELECT count(*) FROM webhook_events WHERE provider = 'standard' AND event_key = '${id}'`), '1');
  assert.equal(await a.psql(`SELECT status FROM webhook_events WHERE event_key = '${id}'`), 'applied');
  assert.equal(await a.psql(
    `SELECT count(*) FROM payments WHERE provider = 'standard' AND provider_payment_id = '${paymentId}'`), '1');
  assert.equal(await a.psql(
    `SELECT amount_minor || ' ' || currency || ' ' || kind FROM payments WHERE provider_payment_id = '${paymentId}'`),
  '1500 USD charge');
  assert.equal(await a.psql(
    `SELECT count(*) FROM outbox WHERE kind = 'receipt' AND to_address = '${email}'`), '1', 'one receipt');
});

test('distinct events for one new subscription raced across both processes make one pledge', async () => {
  const ref = `sub_${crypto.randomBytes(6).toString('hex')}`;
  const email = uniqueEmail('twoburst');
  const base = { email, subscription_id: ref, amount_minor: 400, currency: 'USD', interval: 'month' };
  const bodies = Array.from({ length: 10 }, () =>
    standardBody('payment.succeeded', { ...base, payment_id: `pay_${crypto.randomBytes(6).toString('hex')}` }));
  const results = await Promise.all(bodies.map((body, i) =>
    sendStandard(i % 2 ? b : a, body, { id: msgId(), secret: SECRET })));
  results.forEach((r, i) => assert.ok(r.status >= 200 && r.status < 300, `delivery ${i} → ${r.status} ${r.text}`));
  assert.equal(await a.psql(`SELECT count(*) FROM pledges WHERE provider_ref = '${ref}'`), '1');
  assert.equal(await a.psql(`SELECT count(*) FROM patrons WHERE lower(email) = lower('${email}')`), '1');
  assert.equal(await a.psql(
    `SELECT count(*) FROM payments p JOIN pledges l ON l.id = p.pledge_id WHERE l.provider_ref = '${ref}'`), '10');
});

test('one Stripe event delivered 50 times at once to two processes has exactly one effect', async () => {
  const sub = `sub_${crypto.randomBytes(6).toString('hex')}`;
  const inv = `in_${crypto.randomBytes(6).toString('hex')}`;
  const email = uniqueEmail('twostripe');
  const body = stripeEvent('invoice.paid', {
    id: inv, object: 'invoice', customer: `cus_${crypto.randomBytes(6).toString('hex')}`, customer_email: email,
    amount_paid: 900, amount_due: 900, currency: 'usd', billing_reason: 'subscription_create', attempt_count: 1,
    parent: { subscription_details: { subscription: sub } },
    lines: { data: [{ period: { end: Math.floor(Date.now() / 1000) + 30 * 86400 },
      price: { recurring: { interval: 'month', interval_count: 1 } } }] },
  });
  const eventId = JSON.parse(body).id;
  const beforeCounts = await counts(a);
  // each delivery signed on its own, as Stripe's retries are
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    sendStripe(i % 2 ? b : a, body, { secret: STRIPE_SECRET })));
  results.forEach((r, i) => assert.equal(r.status, 200, `delivery ${i} → ${r.status} ${r.text}`));
  await assertOneOfEach(beforeCounts);
  assert.equal(await a.psql(
    `SELECT count(*) || ' ' || min(status) FROM webhook_events WHERE provider = 'stripe' AND event_key = '${eventId}'`),
  '1 applied');
  assert.equal(await a.psql(
    `SELECT count(*) || ' ' || sum(amount_minor) FROM payments WHERE provider = 'stripe' AND provider_payment_id = '${inv}'`),
  '1 900');
  assert.equal(await a.psql(`SELECT count(*) FROM pledges WHERE provider_ref = '${sub}'`), '1');
});
