'use strict';
// POST /v1/webhooks/standard end to end (SPEC §4 "Webhooks"), signed with
// the official `standardwebhooks` library: recording once, applying in the
// same transaction, rejecting forgeries without a trace, out-of-order
// convergence, failed events and their replay, and the admin listing.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, assertProblem, uniqueEmail, pageAll, RFC3339_Z_RE,
} = require('./lib/harness');
const {
  standardSecret, msgId, standardBody, sendStandard, counts, metricValue,
} = require('./lib/webhooks');

const OLD_SECRET = standardSecret();
const SECRET = standardSecret();
let srv;

before(async () => {
  srv = await startServer({ env: { PATROND_STANDARD_WEBHOOK_SECRET: `${OLD_SECRET},${SECRET}` } });
});
after(async () => { if (srv) await srv.stop(); });

const sub = () => `sub_${crypto.randomBytes(6).toString('hex')}`;
const pay = () => `pay_${crypto.randomBytes(6).toString('hex')}`;

function send(type, data, opts = {}) {
  return sendStandard(srv, standardBody(type, data, opts.occurred), { secret: SECRET, ...opts });
}

async function pledgeByRef(ref) {
  const rows = await srv.psqlJson(
    `SELECT pledge_json(p) || jsonb_build_object('activated', p.activated_at IS NOT NULL)
       FROM pledges p WHERE provider = 'standard' AND provider_ref = '${ref}'`);
  return rows[0];
}

async function paymentsOf(pledgeId) {
  return srv.psqlJson(
    `SELECT payment_json(p) FROM payments p WHERE pledge_id = '${pledgeId}' ORDER BY seq`);
}

function assertReceived(res, msg = '') {
  assert.equal(res.status, 200, `${msg} → ${res.status} ${res.text}`);
  assert.deepEqual(res.json, { received: true }, msg);
}

test('an activation and a payment create the patron and an active pledge with its charge', async () => {
  const email = uniqueEmail('std');
  const ref = sub();
  const base = { email, name: 'Std Reader', subscription_id: ref, amount_minor: 500, currency: 'USD', interval: 'month' };
  assertReceived(await send('pledge.activated', base));
  const periodEnd = '2031-05-01T00:00:00Z';
  assertReceived(await send('payment.succeeded', { ...base, payment_id: pay(), period_end: periodEnd }));

  const pledge = await pledgeByRef(ref);
  assert.equal(pledge.status, 'active');
  assert.equal(pledge.amount_minor, 500);
  assert.equal(pledge.current_period_end, periodEnd);
  const patron = (await srv.get(`/v1/patrons/${pledge.patron_id}`)).json;
  assert.equal(patron.email, email);
  assert.equal(patron.status, 'member');
  const payments = await paymentsOf(pledge.id);
  assert.equal(payments.length, 1);
  assert.equal(payments[0].kind, 'charge');
  assert.equal(payments[0].status, 'succeeded');
  assert.equal(payments[0].amount_minor, 500);
  const mail = await srv.psql(
    `SELECT string_agg(kind, ',' ORDER BY seq) FROM outbox WHERE to_address = '${email}'`);
  assert.equal(mail, 'welcome,receipt');
});

test('an existing patron is reused whatever the case of the address', async () => {
  const email = uniqueEmail('case');
  const created = await srv.post('/v1/patrons', { email });
  assert.equal(created.status, 201);
  const ref = sub();
  assertReceived(await send('payment.succeeded', {
    email: email.toUpperCase(), subscription_id: ref, payment_id: pay(), amount_minor: 300, currency: 'EUR',
  }));
  const pledge = await pledgeByRef(ref);
  assert.equal(pledge.patron_id, created.json.id);
  assert.equal(pledge.status, 'active');
});

test('a redelivery is acknowledged and has no second effect', async () => {
  const id = msgId();
  const body = standardBody('payment.succeeded', {
    email: uniqueEmail('dup'), subscription_id: sub(), payment_id: pay(), amount_minor: 700, currency: 'USD',
  });
  assertReceived(await sendStandard(srv, body, { id, secret: SECRET }));
  const first = await counts(srv);
  const dupBefore = await metricValue(srv, 'standard', 'duplicate');
  // a retry is signed afresh, with a new timestamp
  assertReceived(await sendStandard(srv, body, { id, secret: SECRET, when: new Date(Date.now() - 60000) }));
  assert.deepEqual(await counts(srv), first);
  assert.equal(await metricValue(srv, 'standard', 'duplicate'), dupBefore + 1);
});

test('one payment reported by two events is one ledger row', async () => {
  const ref = sub();
  const data = { email: uniqueEmail('twice'), subscription_id: ref, payment_id: pay(), amount_minor: 900, currency: 'USD' };
  assertReceived(await send('payment.succeeded', data));
  assertReceived(await send('payment.succeeded', data));
  const pledge = await pledgeByRef(ref);
  assert.equal((await paymentsOf(pledge.id)).length, 1);
  const receipts = await srv.psql(
    `SELECT count(*) FROM outbox WHERE kind = 'receipt' AND to_address = '${data.email}'`);
  assert.equal(receipts, '1');
});

test('the same event delivered 20 times at once has exactly one effect', async () => {
  const id = msgId();
  const ref = sub();
  const body = standardBody('payment.succeeded', {
    email: uniqueEmail('race'), subscription_id: ref, payment_id: pay(), amount_minor: 1200, currency: 'USD',
  });
  const before = await counts(srv);
  const results = await Promise.all(Array.from({ length: 20 }, () =>
    sendStandard(srv, body, { id, secret: SECRET })));
  for (const r of results) assertReceived(r, 'concurrent delivery');
  const after = await counts(srv);
  assert.equal(after.events - before.events, 1);
  assert.equal(after.payments - before.payments, 1);
  assert.equal(after.pledges - before.pledges, 1);
  assert.equal(after.patrons - before.patrons, 1);
  assert.equal(await srv.psql(`SELECT count(*) FROM webhook_events WHERE event_key = '${id}'`), '1');
});

test('different events about one new subscription at once make one pledge', async () => {
  const ref = sub();
  const email = uniqueEmail('burst');
  const base = { email, subscription_id: ref, amount_minor: 400, currency: 'USD' };
  const results = await Promise.all([
    send('pledge.activated', base),
    ...Array.from({ length: 6 }, () => send('payment.succeeded', { ...base, payment_id: pay() })),
  ]);
  for (const r of results) assertReceived(r, 'burst');
  assert.equal(await srv.psql(`SELECT count(*) FROM pledges WHERE provider_ref = '${ref}'`), '1');
  assert.equal(await srv.psql(
    `SELECT count(*) FROM patrons WHERE lower(email) = lower('${email}')`), '1');
  const pledge = await pledgeByRef(ref);
  assert.equal((await paymentsOf(pledge.id)).length, 6);
  assert.equal(await srv.psql(
    `SELECT count(*) FROM webhook_events WHERE event->>'subscription_ref' = '${ref}' AND status = 'applied'`), '7');
});

test('forged, wrongly keyed, stale or unsigned deliveries are 401 and write nothing', async () => {
  const body = standardBody('payment.succeeded', {
    email: uniqueEmail('forged'), subscription_id: sub(), payment_id: pay(), amount_minor: 500, currency: 'USD',
  });
  const before = await counts(srv);
  const unauthorizedBefore = await metricValue(srv, 'standard', 'unauthorized');
  const id = msgId();
  const when = new Date();
  const genuine = new (require('standardwebhooks').Webhook)(SECRET).sign(id, when, body);
  const cases = [
    ['wrong secret', sendStandard(srv, body, { secret: standardSecret() })],
    ['signature of another body', sendStandard(srv, body, {
      id, when, signature: new (require('standardwebhooks').Webhook)(SECRET).sign(id, when, body + ' '),
    })],
    ['tampered body', sendStandard(srv, body.replace('500', '501'), { id, when, signature: genuine })],
    ['another id', sendStandard(srv, body, { id: msgId(), when, signature: genuine })],
    ['stale timestamp', sendStandard(srv, body, { secret: SECRET, when: new Date(Date.now() - 10 * 60000) })],
    ['future timestamp', sendStandard(srv, body, { secret: SECRET, when: new Date(Date.now() + 10 * 60000) })],
    ['garbage signature', sendStandard(srv, body, { id, when, signature: 'v1,AAAA' })],
    ['no headers', srv.request('POST', '/v1/webhooks/standard', {
      body, headers: { 'Content-Type': 'application/json' },
    })],
  ];
  for (const [name, pending] of cases) {
    const res = await pending;
    assertProblem(assert, res, 401, name);
  }
  assert.deepEqual(await counts(srv), before);
  assert.equal(await metricValue(srv, 'standard', 'unauthorized'), unauthorizedBefore + cases.length);
});

test('both secrets of a rotation are accepted', async () => {
  const email = uniqueEmail('rot');
  const r1 = await sendStandard(srv, standardBody('pledge.activated', {
    email, subscription_id: sub(), amount_minor: 500, currency: 'USD',
  }), { secret: OLD_SECRET });
  assertReceived(r1, 'old secret');
  const r2 = await sendStandard(srv, standardBody('pledge.activated', {
    email, subscription_id: sub(), amount_minor: 500, currency: 'USD',
  }), { secret: SECRET });
  assertReceived(r2, 'new secret');
});

test('unknown or unconfigured providers are 404', async () => {
  const before = await counts(srv);
  for (const provider of ['stripe', 'paddle', 'monobank', 'nosuch']) {
    const res = await srv.request('POST', `/v1/webhooks/${provider}`, {
      body: '{}', headers: { 'Content-Type': 'application/json' },
    });
    assertProblem(assert, res, 404, provider);
  }
  assert.deepEqual(await counts(srv), before);
});

// The final state of a subscription after its events, in any order.
async function finalState(ref) {
  const p = await pledgeByRef(ref);
  const payments = await paymentsOf(p.id);
  return {
    status: p.status,
    current_period_end: p.current_period_end,
    canceled: p.canceled_at !== null,
    payments: payments.map((x) => `${x.kind}:${x.status}:${x.amount_minor}`).sort(),
  };
}

// Delivers [type, fields] events about one subscription; `occurred` is the
// event's own time.
async function deliver(ref, events, email = uniqueEmail('order')) {
  for (const [type, { occurred, ...fields }] of events) {
    assertReceived(await send(type, {
      email, subscription_id: ref, amount_minor: 500, currency: 'USD', ...fields,
    }, { occurred }), type);
  }
}

test('out-of-order events converge to the state of in-order delivery', async () => {
  const t = (m) => new Date(Date.UTC(2030, 0, 1, 0, m));
  const scenario = (paymentId) => ({
    activated: ['pledge.activated', { occurred: t(0) }],
    paid: ['payment.succeeded', { occurred: t(1), payment_id: paymentId, period_end: '2030-02-01T00:00:00Z' }],
    failed: ['payment.failed', { occurred: t(2), payment_id: `${paymentId}_f`, reason: 'card declined' }],
    canceled: ['pledge.canceled', { occurred: t(3) }],
  });

  // payment before activation
  const a = sub(), b = sub();
  const ea = scenario(pay()), eb = scenario(pay());
  await deliver(a, [ea.activated, ea.paid]);
  await deliver(b, [eb.paid, eb.activated]);
  const inOrder = await finalState(a);
  assert.equal(inOrder.status, 'active');
  assert.deepEqual(await finalState(b), inOrder);

  // a failed renewal delivered before the older success
  const c = sub(), d = sub();
  const ec = scenario(pay()), ed = scenario(pay());
  await deliver(c, [ec.activated, ec.paid, ec.failed]);
  await deliver(d, [ed.failed, ed.activated, ed.paid]);
  const failedLast = await finalState(c);
  assert.equal(failedLast.status, 'past_due');
  assert.deepEqual(await finalState(d), failedLast);

  // a cancel before the payment and the activation still ends canceled
  const e = sub(), f = sub();
  const ee = scenario(pay()), ef = scenario(pay());
  await deliver(e, [ee.activated, ee.paid, ee.canceled]);
  await deliver(f, [ef.canceled, ef.paid, ef.activated]);
  const canceled = await finalState(e);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.canceled, true);
  assert.deepEqual(canceled.payments, ['charge:succeeded:500']);
  assert.deepEqual(await finalState(f), canceled);
});

test('a refund adds a negative ledger row; a failed payment keeps its reason', async () => {
  const ref = sub();
  const email = uniqueEmail('refund');
  const paymentId = pay();
  await deliver(ref, [['payment.succeeded', { email, payment_id: paymentId }]]);
  assertReceived(await send('payment.refunded', {
    email, subscription_id: ref, payment_id: `${paymentId}_r`, amount_minor: 200, currency: 'USD',
  }));
  assertReceived(await send('payment.failed', {
    email, subscription_id: ref, payment_id: `${paymentId}_f`, reason: 'insufficient funds',
  }));
  const pledge = await pledgeByRef(ref);
  assert.equal(pledge.status, 'past_due');
  const rows = (await srv.get(`/v1/payments?pledge_id=${pledge.id}`)).json.data;
  const refund = rows.find((x) => x.kind === 'refund');
  assert.equal(refund.amount_minor, -200);
  assert.equal(refund.provider_payment_id, `${paymentId}_r`);
  const failed = rows.find((x) => x.status === 'failed');
  assert.equal(failed.kind, 'charge');
  assert.equal(failed.failure_reason, 'insufficient funds');
});

// A sender may report "payment X was refunded" under X's own id. Before, the
// refund collided with the charge's ledger row: applied, and nothing changed.
test('a refund carrying the refunded payment\'s own id voids that payment', async () => {
  const ref = sub();
  const email = uniqueEmail('refundsame');
  const paymentId = pay();
  await deliver(ref, [['payment.succeeded', { email, payment_id: paymentId, interval: 'month' }]]);
  const pledge = await pledgeByRef(ref);
  assert.equal(pledge.status, 'active');
  const id = msgId();
  const body = standardBody('payment.refunded', {
    email, subscription_id: ref, payment_id: paymentId, amount_minor: 500, currency: 'USD',
  });
  assertReceived(await sendStandard(srv, body, { secret: SECRET, id }));
  assertReceived(await sendStandard(srv, body, { secret: SECRET, id }), 'the sender retries');
  const rows = await paymentsOf(pledge.id);
  assert.deepEqual(rows.map((x) => [x.kind, x.amount_minor, x.provider_payment_id]), [
    ['charge', 500, paymentId],
    ['refund', -500, `${paymentId}:refund:${id}`],
  ]);
  const now = await pledgeByRef(ref);
  assert.equal(now.status, 'past_due', 'the refunded payment pays for nothing');
  assert.equal((await srv.get(`/v1/patrons/${now.patron_id}`)).json.status, 'lapsed');
});

test('that refund delivered before its payment: the payment is booked, not taken for a duplicate', async () => {
  const ref = sub();
  const email = uniqueEmail('refundfirst');
  const paymentId = pay();
  const id = msgId();
  assertReceived(await sendStandard(srv, standardBody('payment.refunded', {
    email, subscription_id: ref, payment_id: paymentId, amount_minor: 500, currency: 'USD',
  }), { secret: SECRET, id }));
  await deliver(ref, [['payment.succeeded', { email, payment_id: paymentId, interval: 'month' }]], email);
  const pledge = await pledgeByRef(ref);
  const rows = await paymentsOf(pledge.id);
  assert.deepEqual(rows.map((x) => [x.kind, x.amount_minor]).sort(), [['charge', 500], ['refund', -500]]);
  assert.equal(rows.find((x) => x.kind === 'charge').provider_payment_id, paymentId);
  assert.equal(pledge.status, 'past_due', 'the refunded payment pays for nothing, as in order');
});

test('an event that cannot be applied is kept as failed, listed, and replayed later', async () => {
  const ref = sub();
  const paymentId = pay();
  const id = msgId();
  // a refund for a subscription patrond has not seen, with no e-mail to go by
  const res = await sendStandard(srv, standardBody('payment.refunded', {
    subscription_id: ref, payment_id: paymentId, amount_minor: 250, currency: 'USD',
  }), { id, secret: SECRET });
  assertReceived(res, 'a failed apply is still acknowledged');
  assert.equal(await srv.psql(`SELECT count(*) FROM payments WHERE provider_payment_id = '${paymentId}'`), '0');

  const failed = await pageAll(srv, '/v1/webhook-events?status=failed&provider=standard');
  const listed = failed.find((e) => e.event_key === id);
  assert.ok(listed, 'listed among the failed events');
  assert.equal(listed.status, 'failed');
  assert.equal(listed.type, 'payment.refunded');
  assert.match(listed.reason, /No pledge matches/);
  assert.equal(listed.attempts, 1);
  assert.match(listed.received_at, RFC3339_Z_RE);
  assert.equal(listed.applied_at, null);
  assert.equal(listed.payload, undefined, 'the list never carries the payload');
  assert.equal(listed.event, undefined);

  const one = await srv.get(`/v1/webhook-events/${listed.id}`);
  assert.equal(one.status, 200);
  assert.equal(one.json.event.kind, 'payment_refunded');
  assert.equal(one.json.event.subscription_ref, ref);

  // replaying before the pledge exists fails again, and says so
  const early = await srv.post(`/v1/webhook-events/${listed.id}/replay`);
  assert.equal(early.status, 200, early.text);
  assert.equal(early.json.status, 'failed');
  assert.equal(early.json.attempts, 2);

  // the admin links the subscription to a pledge, then replays
  const pledge = await linkedPledge('replay', ref, 250);
  const replayed = await srv.post(`/v1/webhook-events/${listed.id}/replay`);
  assert.equal(replayed.status, 200, replayed.text);
  assert.equal(replayed.json.status, 'applied');
  assert.equal(replayed.json.reason, null);
  assert.equal(replayed.json.attempts, 3);
  assert.equal(replayed.json.pledge_id, pledge.json.id);
  assert.match(replayed.json.applied_at, RFC3339_Z_RE);
  const rows = await paymentsOf(pledge.json.id);
  assert.deepEqual(rows.map((x) => [x.kind, x.amount_minor]), [['refund', -250]]);

  assertProblem(assert, await srv.post(`/v1/webhook-events/${listed.id}/replay`), 409, 'replay of an applied event');
  assertProblem(assert, await srv.post(`/v1/webhook-events/${crypto.randomUUID()}/replay`), 404, 'unknown event');
  assertProblem(assert, await srv.post('/v1/webhook-events/not-a-uuid/replay'), 404, 'malformed id');
  assertProblem(assert, await srv.request('POST', `/v1/webhook-events/${listed.id}/replay`, { key: srv.readKey }), 403, 'read key');
  assertProblem(assert, await srv.request('GET', '/v1/webhook-events'), 401, 'no key');
});

// What an admin does before replaying an event that found no pledge: a new
// patron's active monthly USD pledge on the subscription the event names.
async function linkedPledge(tag, ref, amount) {
  const patron = await srv.post('/v1/patrons', { email: uniqueEmail(tag) });
  const pledge = await srv.post('/v1/pledges', {
    patron_id: patron.json.id, amount_minor: amount, currency: 'USD', interval: 'month',
    provider: 'standard', provider_ref: ref, status: 'active',
  });
  assert.equal(pledge.status, 201, pledge.text);
  return pledge;
}

test('a replay parses the stored bytes as received: every byte of a non-ASCII reason survives', async () => {
  // U+00C0..U+00FF are C3 80..C3 BF in UTF-8: every continuation byte
  // 0x80-0xBF; then lead bytes of two-, three- and four-byte sequences.
  let reason = '';
  for (let c = 0xC0; c <= 0xFF; c++) reason += String.fromCodePoint(c);
  reason += ' ҐЇ߿ࠀ€\uFFFD𐀀😀';
  const bytes = Buffer.from(reason, 'utf8');
  assert.ok(bytes.length < 256 && bytes.includes(0x80) && bytes.includes(0xBF) && bytes.includes(0xF0));
  const ref = sub();
  const paymentId = pay();
  const id = msgId();
  const body = standardBody('payment.failed', { subscription_id: ref, payment_id: paymentId, reason });
  assertReceived(await sendStandard(srv, body, { id, secret: SECRET }), 'no pledge yet: kept as failed');
  const [event] = await srv.psqlJson(
    `SELECT jsonb_build_object('id', id, 'status', status, 'digest', encode(sha256(payload), 'hex'))
       FROM webhook_events WHERE provider = 'standard' AND event_key = '${id}'`);
  assert.equal(event.status, 'failed');
  assert.equal(event.digest, crypto.createHash('sha256').update(body, 'utf8').digest('hex'), 'stored byte for byte');

  const pledge = await linkedPledge('replaybytes', ref, 300);
  const replayed = await srv.post(`/v1/webhook-events/${event.id}/replay`);
  assert.equal(replayed.status, 200, replayed.text);
  assert.equal(replayed.json.status, 'applied', replayed.text);
  assert.equal(replayed.json.event.reason, reason, 'the re-parsed event');
  const rows = (await srv.get(`/v1/payments?pledge_id=${pledge.json.id}`)).json.data;
  assert.equal(rows.length, 1);
  assert.equal(rows[0].provider_payment_id, paymentId);
  assert.equal(rows[0].failure_reason, reason, 'the recorded reason, byte for byte');
});

test('a payload that verifies but cannot be parsed is kept as failed under its digest', async () => {
  const body = '{"type": "payment.succeeded", "timestamp": "2030-01-01T00:00:00Z", "data": {"amount_minor": "lots"}}';
  const res = await sendStandard(srv, body, { secret: SECRET });
  assertReceived(res);
  const digest = crypto.createHash('sha256').update(body).digest('hex');
  const rows = await srv.psqlJson(
    `SELECT webhook_event_json(e) FROM webhook_events e WHERE provider = 'standard' AND event_key = '${digest}'`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].status, 'failed');
  assert.ok(rows[0].reason && rows[0].reason.length > 0);
  // stored byte for byte
  assert.equal(await srv.psql(
    `SELECT encode(payload, 'hex') FROM webhook_events WHERE event_key = '${digest}'`),
  Buffer.from(body).toString('hex'));
});

test('unhandled event types are recorded as ignored', async () => {
  const id = msgId();
  assertReceived(await sendStandard(srv, standardBody('customer.note', { email: uniqueEmail('ign') }), { id, secret: SECRET }));
  const rows = await srv.psqlJson(
    `SELECT webhook_event_json(e) FROM webhook_events e WHERE event_key = '${id}'`);
  assert.equal(rows[0].status, 'ignored');
  const ignored = await pageAll(srv, '/v1/webhook-events?status=ignored', { limit: 1 });
  assert.ok(ignored.some((e) => e.event_key === id));
  assertProblem(assert, await srv.post(`/v1/webhook-events/${rows[0].id}/replay`), 409, 'ignored');
});

test('list filters are validated', async () => {
  assert.equal((await srv.get('/v1/webhook-events?limit=2')).json.data.length, 2);
  assert.equal((await srv.get('/v1/webhook-events', { key: srv.readKey })).status, 200);
  for (const q of ['status=done', 'provider=manual', 'limit=0', 'after=nope']) {
    const res = await srv.get(`/v1/webhook-events?${q}`);
    assertProblem(assert, res, 422, q);
  }
  assertProblem(assert, await srv.get(`/v1/webhook-events/${crypto.randomUUID()}`), 404, 'unknown');
});

test('metrics count webhook outcomes by provider', async () => {
  const r = await srv.request('GET', '/metrics');
  assert.match(r.text, /# TYPE patrond_webhook_events_total counter/);
  assert.ok(await metricValue(srv, 'standard', 'applied') > 0);
  assert.ok(await metricValue(srv, 'standard', 'failed') > 0);
  assert.ok(await metricValue(srv, 'standard', 'ignored') > 0);
});

// Monobank stamps each status change (modifiedDate, in ms); no official
// signer exists, so webhook_apply() is driven directly with parsed events.
test('an event older than the provider stamp already applied records its money, not its state', async () => {
  const email = uniqueEmail('mono');
  const patron = await srv.post('/v1/patrons', { email });
  const inv = sub();
  const created = await srv.post('/v1/pledges', {
    patron_id: patron.json.id, amount_minor: 5000, currency: 'UAH', interval: 'month',
    provider: 'monobank', provider_ref: inv,
  });
  assert.equal(created.status, 201, created.text);
  const apply = async (ev) => JSON.parse(
    await srv.psql(`SELECT webhook_apply('monobank', '${JSON.stringify(ev)}'::jsonb)`));
  const base = { subscription_ref: inv, amount_minor: 5000, currency: 'UAH', occurred_at: '2030-01-01T00:00:01Z' };
  // within one second: paid at .100, a later charge failed at .900, delivered the other way round
  assert.equal((await apply({
    ...base, kind: 'payment_failed', payment_id: `${inv}:failure`, reason: 'limit exceeded', sequence: 1893456001900,
  })).status, 'applied');
  assert.equal((await apply({
    ...base, kind: 'payment_succeeded', payment_id: inv, sequence: 1893456001100,
  })).status, 'applied');
  const now = (await srv.get(`/v1/pledges/${created.json.id}`)).json;
  assert.equal(now.status, 'past_due', 'as if delivered in order: paid, then failed');
  const rows = (await srv.get(`/v1/payments?pledge_id=${created.json.id}`)).json.data
    .map((p) => [p.status, p.amount_minor]).sort();
  assert.deepEqual(rows, [['failed', 5000], ['succeeded', 5000]]);
});
