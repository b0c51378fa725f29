'use strict';
// POST /v1/webhooks/stripe end to end, signed with the official `stripe`
// library (stripe.webhooks.generateTestHeaderString): a pledge from our
// checkout followed through activation, renewals, a refund, a dispute and
// cancellation; forgeries; secret rotation.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertProblem, uniqueEmail } = require('./lib/harness');
const { sendStripe, stripeEvent, counts, metricValue } = require('./lib/webhooks');

const OLD_SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
let srv;

before(async () => {
  srv = await startServer({ env: { PATROND_STRIPE_WEBHOOK_SECRET: `${OLD_SECRET},${SECRET}` } });
});
after(async () => { if (srv) await srv.stop(); });

const rid = (prefix) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;
const unix = (iso) => Math.floor(Date.parse(iso) / 1000);

function send(type, object, opts = {}) {
  return sendStripe(srv, stripeEvent(type, object, opts.created, opts.previous), { secret: SECRET, ...opts });
}

function assertReceived(res, msg = '') {
  assert.equal(res.status, 200, `${msg} → ${res.status} ${res.text}`);
  assert.deepEqual(res.json, { received: true }, msg);
}

// A pending pledge as checkout leaves it: our id travels as client_reference_id.
async function pendingPledge(email) {
  const patron = await srv.post('/v1/patrons', { email });
  assert.equal(patron.status, 201, patron.text);
  const pledge = await srv.post('/v1/pledges', {
    patron_id: patron.json.id, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'stripe',
  });
  assert.equal(pledge.status, 201, pledge.text);
  return pledge.json;
}

function session(email, pledgeId, sub, cus) {
  return {
    id: rid('cs'), object: 'checkout.session', mode: 'subscription', payment_status: 'paid',
    customer_details: { email, name: 'Stripe Reader' }, subscription: sub, customer: cus,
    amount_total: 500, currency: 'usd', client_reference_id: pledgeId,
  };
}

function invoice(email, sub, cus, { id = rid('in'), amount = 500, periodEnd }) {
  return {
    id, object: 'invoice', customer: cus, customer_email: email, amount_paid: amount, amount_due: amount,
    currency: 'usd', billing_reason: 'subscription_cycle', attempt_count: 1,
    parent: { subscription_details: { subscription: sub } },
    lines: { data: [{ period: { end: unix(periodEnd) }, price: { recurring: { interval: 'month', interval_count: 1 } } }] },
  };
}

async function pledge(id) {
  return (await srv.get(`/v1/pledges/${id}`)).json;
}

async function ledger(pledgeId) {
  return (await srv.get(`/v1/payments?pledge_id=${pledgeId}`)).json.data
    .map((p) => [p.kind, p.status, p.amount_minor, p.provider_payment_id]).reverse();
}

test('a checkout pledge is activated, renewed, refunded, disputed and canceled', async () => {
  const email = uniqueEmail('stripe');
  const p = await pendingPledge(email);
  const sub = rid('sub'), cus = rid('cus');

  assertReceived(await send('checkout.session.completed', session(email, p.id, sub, cus)));
  let now = await pledge(p.id);
  assert.equal(now.status, 'active');
  assert.equal(now.provider_ref, sub);

  const inv = rid('in');
  assertReceived(await send('invoice.paid', invoice(email, sub, cus, { id: inv, periodEnd: '2031-02-01T00:00:00Z' })));
  // Stripe reports the same payment again under another event type
  assertReceived(await send('invoice.payment_succeeded', invoice(email, sub, cus, { id: inv, periodEnd: '2031-02-01T00:00:00Z' })));
  now = await pledge(p.id);
  assert.equal(now.current_period_end, '2031-02-01T00:00:00Z');
  assert.deepEqual(await ledger(p.id), [['charge', 'succeeded', 500, inv]]);

  const inv2 = rid('in');
  assertReceived(await send('invoice.paid', invoice(email, sub, cus, { id: inv2, periodEnd: '2031-03-01T00:00:00Z' })));
  assert.equal((await pledge(p.id)).current_period_end, '2031-03-01T00:00:00Z');

  // a refund names only the charge and the customer
  const re = rid('re');
  assertReceived(await send('charge.refunded', {
    id: rid('ch'), object: 'charge', customer: cus, currency: 'usd', amount_refunded: 200,
    billing_details: { email }, refunds: { data: [{ id: re, amount: 200 }] },
  }));
  const dp = rid('dp');
  assertReceived(await send('charge.dispute.created', {
    id: dp, object: 'dispute', amount: 500, currency: 'usd', reason: 'fraudulent',
    evidence: { customer_email_address: email },
  }));
  assertReceived(await send('charge.dispute.closed', {
    id: dp, object: 'dispute', amount: 500, currency: 'usd', reason: 'fraudulent', status: 'won',
    evidence: { customer_email_address: email },
  }));
  assertReceived(await send('customer.subscription.deleted', {
    id: sub, object: 'subscription', customer: cus, currency: 'usd', status: 'canceled',
    items: { data: [{ quantity: 1, current_period_end: unix('2031-03-01T00:00:00Z'), price: { unit_amount: 500, recurring: { interval: 'month', interval_count: 1 } } }] },
    cancellation_details: { reason: 'cancellation_requested' },
  }));
  now = await pledge(p.id);
  assert.equal(now.status, 'canceled');
  assert.ok(now.canceled_at);
  assert.deepEqual(await ledger(p.id), [
    ['charge', 'succeeded', 500, inv],
    ['charge', 'succeeded', 500, inv2],
    ['refund', 'succeeded', -200, re],
    ['dispute', 'succeeded', -500, dp],
    ['dispute_won', 'succeeded', 500, `${dp}:won`],
  ]);

  // a late renewal after the cancel records the money, not a revival
  assertReceived(await send('invoice.paid', invoice(email, sub, cus, { periodEnd: '2031-04-01T00:00:00Z' })));
  assert.equal((await pledge(p.id)).status, 'canceled');
});

test('an unpaid subscription session waits; its async payment activates the pledge', async () => {
  const email = uniqueEmail('stripeasync');
  const p = await pendingPledge(email);
  const sub = rid('sub'), cus = rid('cus');
  const unpaid = { ...session(email, p.id, sub, cus), payment_status: 'unpaid' };
  assertReceived(await send('checkout.session.completed', unpaid));
  assert.equal((await pledge(p.id)).status, 'pending', 'an unpaid session is not a payment');
  const recorded = await srv.psql(`SELECT status FROM webhook_events
    WHERE provider = 'stripe' AND convert_from(payload, 'UTF8') LIKE '%${unpaid.id}%'`);
  assert.equal(recorded, 'ignored');

  assertReceived(await send('checkout.session.async_payment_succeeded', { ...unpaid, payment_status: 'paid' }));
  const now = await pledge(p.id);
  assert.equal(now.status, 'active');
  assert.equal(now.provider_ref, sub);
  assert.deepEqual(await ledger(p.id), [], 'a subscription session is no charge: its invoice is');
});

test('two partial refunds of one charge without its refunds list are two ledger rows', async () => {
  const email = uniqueEmail('striperefund');
  const sub = rid('sub'), cus = rid('cus');
  assertReceived(await send('invoice.paid', invoice(email, sub, cus, { periodEnd: '2031-02-01T00:00:00Z' })));
  const id = await srv.psql(`SELECT id FROM pledges WHERE provider = 'stripe' AND provider_ref = '${sub}'`);
  const ch = rid('ch');
  const charge = (total) => ({ id: ch, object: 'charge', customer: cus, currency: 'usd', amount_refunded: total, billing_details: { email } });
  assertReceived(await send('charge.refunded', charge(300), { previous: { amount_refunded: 0, refunded: false } }));
  assertReceived(await send('charge.refunded', charge(500), { previous: { amount_refunded: 300 } }));
  const refunds = (await srv.get(`/v1/payments?pledge_id=${id}`)).json.data
    .filter((x) => x.kind === 'refund').map((x) => [x.amount_minor, x.provider_payment_id]).sort();
  assert.deepEqual(refunds, [[-200, `${ch}:refund:500`], [-300, `${ch}:refund:300`]]);
  // a total that does not grow is refused, not recorded as a refund of nothing
  assertReceived(await send('charge.refunded', charge(500), { previous: { amount_refunded: 500 } }));
  const failed = await srv.psql(`SELECT status || ': ' || reason FROM webhook_events
    WHERE convert_from(payload, 'UTF8') LIKE '%${ch}%' AND status <> 'applied'`);
  assert.match(failed, /^failed: .*previous amount_refunded is not below amount_refunded/);
});

// Since API 2025-03-31 an invoice names no payment intent and a charge no
// invoice: the refund's charge is known by when it was made. Before, a
// refund arriving ahead of its invoice voided the month before, and the
// refunded month, booked later, paid for a period.
test('a refund delivered before its invoice waits for it, then voids that month, not the one before', async () => {
  const email = uniqueEmail('stripeearly');
  const sub = rid('sub'), cus = rid('cus');
  const day = 86400, now = Math.floor(Date.now() / 1000);
  const june = rid('in'), july = rid('in'), re = rid('re');
  assertReceived(await send('invoice.paid', invoice(email, sub, cus, {
    id: june, periodEnd: new Date((now - 10 * day) * 1000).toISOString(),
  }), { created: now - 40 * day }));
  const id = await srv.psql(`SELECT id FROM pledges WHERE provider = 'stripe' AND provider_ref = '${sub}'`);
  const charge = {
    id: rid('ch'), object: 'charge', customer: cus, payment_intent: rid('pi'), created: now - 10 * day - 30,
    amount: 500, amount_refunded: 500, currency: 'usd', paid: true, status: 'succeeded',
    billing_details: { email }, refunds: { data: [{ id: re, amount: 500 }] },
  };
  assertReceived(await send('charge.refunded', charge));
  const waiting = await srv.get('/v1/webhook-events?status=failed&provider=stripe&limit=100');
  const held = waiting.json.data.filter((e) => e.reason && e.reason.includes(charge.payment_intent));
  assert.equal(held.length, 1, 'the refund is kept, waiting for its charge');
  assert.match(held[0].reason, /has not arrived yet/);
  assert.deepEqual(await ledger(id), [['charge', 'succeeded', 500, june]], 'June is not voided in its place');

  assertReceived(await send('invoice.paid', invoice(email, sub, cus, {
    id: july, periodEnd: new Date((now + 20 * day) * 1000).toISOString(),
  }), { created: now - 10 * day }));
  assert.equal((await srv.get(`/v1/webhook-events/${held[0].id}`)).json.status, 'applied');
  assert.deepEqual(await ledger(id), [
    ['charge', 'succeeded', 500, june],
    ['charge', 'succeeded', 500, july],
    ['refund', 'succeeded', -500, re],
  ]);
  assert.equal(await srv.psql(`SELECT c.provider_payment_id FROM payments r JOIN payments c
    ON c.id = r.refunds_payment_id WHERE r.provider_payment_id = '${re}'`), july);
  const p = await pledge(id);
  assert.equal(p.status, 'past_due');
  assert.ok(Date.parse(p.current_period_end) <= Date.now(), `the refunded July pays for nothing: ${p.current_period_end}`);
  const patron = (await srv.get(`/v1/patrons/${p.patron_id}`)).json;
  assert.equal(patron.status, 'lapsed', 'no longer a member');
});

test('a refund and its invoice delivered at the same moment converge, every time', async () => {
  const day = 86400, now = Math.floor(Date.now() / 1000);
  const pairs = await Promise.all(Array.from({ length: 20 }, async () => {
    const email = uniqueEmail('stripepair');
    const sub = rid('sub'), cus = rid('cus'), july = rid('in'), re = rid('re');
    assertReceived(await send('invoice.paid', invoice(email, sub, cus, {
      periodEnd: new Date((now - 10 * day) * 1000).toISOString(),
    }), { created: now - 40 * day }));
    const refund = send('charge.refunded', {
      id: rid('ch'), object: 'charge', customer: cus, payment_intent: rid('pi'), created: now - 10 * day - 30,
      amount: 500, amount_refunded: 500, currency: 'usd', billing_details: { email },
      refunds: { data: [{ id: re, amount: 500 }] },
    });
    const paid = send('invoice.paid', invoice(email, sub, cus, {
      id: july, periodEnd: new Date((now + 20 * day) * 1000).toISOString(),
    }), { created: now - 10 * day });
    for (const r of await Promise.all([refund, paid])) assertReceived(r);
    return { july, re };
  }));
  for (const { july, re } of pairs) {
    assert.equal(await srv.psql(`SELECT c.provider_payment_id FROM payments r JOIN payments c
      ON c.id = r.refunds_payment_id WHERE r.provider_payment_id = '${re}'`), july, `refund ${re} voids July`);
  }
});

test('a failed renewal makes the pledge past_due with the reason on the ledger', async () => {
  const email = uniqueEmail('stripefail');
  const sub = rid('sub'), cus = rid('cus');
  assertReceived(await send('invoice.paid', invoice(email, sub, cus, { periodEnd: '2031-02-01T00:00:00Z' })));
  const inv = invoice(email, sub, cus, { periodEnd: '2031-03-01T00:00:00Z' });
  inv.attempt_count = 2;
  inv.last_finalization_error = { message: 'Your card was declined.' };
  assertReceived(await send('invoice.payment_failed', inv, { created: Math.floor(Date.now() / 1000) + 1 }));
  const id = await srv.psql(`SELECT id FROM pledges WHERE provider = 'stripe' AND provider_ref = '${sub}'`);
  assert.equal((await pledge(id)).status, 'past_due');
  const failed = (await srv.get(`/v1/payments?pledge_id=${id}`)).json.data.find((x) => x.status === 'failed');
  assert.equal(failed.failure_reason, 'Your card was declined.');
  assert.equal(failed.provider_payment_id, `${inv.id}:failed:2`);
});

test('redelivery, concurrent delivery and a second rotated secret', async () => {
  const email = uniqueEmail('stripedup');
  const body = stripeEvent('invoice.paid', invoice(email, rid('sub'), rid('cus'), { periodEnd: '2031-02-01T00:00:00Z' }));
  const before = await counts(srv);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    sendStripe(srv, body, { secret: i % 2 ? OLD_SECRET : SECRET })));
  for (const r of results) assertReceived(r, 'concurrent');
  const after = await counts(srv);
  assert.equal(after.events - before.events, 1);
  assert.equal(after.payments - before.payments, 1);
  assert.equal(after.pledges - before.pledges, 1);
  // a retry an hour later is signed afresh
  assertReceived(await sendStripe(srv, body, { secret: SECRET }));
  assert.deepEqual(await counts(srv), after);
  assert.ok(await metricValue(srv, 'stripe', 'duplicate') >= 20);
});

test('forged, stale and wrongly keyed deliveries are 401 and write nothing', async () => {
  const body = stripeEvent('invoice.paid', invoice(uniqueEmail('forge'), rid('sub'), rid('cus'), { periodEnd: '2031-02-01T00:00:00Z' }));
  const before = await counts(srv);
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['wrong secret', { secret: `whsec_${crypto.randomBytes(24).toString('hex')}` }],
    ['stale timestamp', { secret: SECRET, timestamp: now - 301 - 60 }],
    ['no v1', { header: `t=${now}` }],
    ['garbage', { header: 'nonsense' }],
    ['empty', { header: '' }],
  ];
  for (const [name, opts] of cases) assertProblem(assert, await sendStripe(srv, body, opts), 401, name);
  // a genuine header over another body
  const header = require('./lib/webhooks').stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
  assertProblem(assert, await sendStripe(srv, body.replace('"amount_paid":500', '"amount_paid":5'), { header }), 401, 'tampered');
  assert.deepEqual(await counts(srv), before);
});

test('events patrond does not act on are recorded as ignored', async () => {
  const body = stripeEvent('customer.created', { id: rid('cus'), object: 'customer' });
  assertReceived(await sendStripe(srv, body, { secret: SECRET }));
  const id = JSON.parse(body).id;
  assert.equal(await srv.psql(`SELECT status FROM webhook_events WHERE provider = 'stripe' AND event_key = '${id}'`), 'ignored');
});
