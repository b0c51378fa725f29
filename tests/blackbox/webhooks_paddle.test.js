'use strict';
// POST /v1/webhooks/paddle: Paddle events carry no e-mail, so they reach
// the pledge by our id in custom_data, then by subscription. The Paddle
// SDK exposes no signer: headers follow Paddle's documented scheme with
// node:crypto and are checked with the SDK's verifier (lib/webhooks.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertProblem, uniqueEmail } = require('./lib/harness');
const { sendPaddle, paddleEvent, counts } = require('./lib/webhooks');

const SECRET = `pdl_ntfset_${crypto.randomBytes(12).toString('hex')}`;
let srv;

before(async () => {
  srv = await startServer({ env: { PATROND_PADDLE_WEBHOOK_SECRET: SECRET } });
});
after(async () => { if (srv) await srv.stop(); });

const rid = (prefix) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;

function send(type, data) {
  return sendPaddle(srv, paddleEvent(type, data), { secret: SECRET });
}

function assertReceived(res, msg = '') {
  assert.equal(res.status, 200, `${msg} → ${res.status} ${res.text}`);
}

test('a pledge is found by custom_data.pledge_id, then by subscription, and charged', async () => {
  const patron = await srv.post('/v1/patrons', { email: uniqueEmail('paddle') });
  const pledge = (await srv.post('/v1/pledges', {
    patron_id: patron.json.id, amount_minor: 1000, currency: 'EUR', interval: 'month', provider: 'paddle',
  })).json;
  const sub = rid('sub'), ctm = rid('ctm'), txn = rid('txn');
  assertReceived(await send('subscription.created', {
    id: sub, status: 'active', customer_id: ctm, currency_code: 'EUR',
    custom_data: { pledge_id: pledge.id },
    current_billing_period: { starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-02-01T00:00:00Z' },
    billing_cycle: { interval: 'month', frequency: 1 },
    items: [{ quantity: 1, price: { unit_price: { amount: '1000', currency_code: 'EUR' } } }],
  }));
  assertReceived(await send('transaction.completed', {
    id: txn, status: 'completed', origin: 'subscription_recurring', subscription_id: sub,
    customer_id: ctm, currency_code: 'EUR', details: { totals: { grand_total: '1000' } },
    billing_period: { starts_at: '2031-02-01T00:00:00Z', ends_at: '2031-03-01T00:00:00Z' },
    items: [{ price: { billing_cycle: { interval: 'month', frequency: 1 } } }],
  }));
  assertReceived(await send('adjustment.created', {
    id: rid('adj'), action: 'refund', status: 'approved', transaction_id: txn, subscription_id: sub,
    customer_id: ctm, currency_code: 'EUR', reason: 'requested', totals: { total: '400' },
  }));
  const now = (await srv.get(`/v1/pledges/${pledge.id}`)).json;
  assert.equal(now.status, 'active');
  assert.equal(now.provider_ref, sub);
  assert.equal(now.current_period_end, '2031-03-01T00:00:00Z');
  const rows = (await srv.get(`/v1/payments?pledge_id=${pledge.id}`)).json.data
    .map((p) => [p.kind, p.amount_minor, p.currency]).reverse();
  assert.deepEqual(rows, [['charge', 1000, 'EUR'], ['refund', -400, 'EUR']]);
});

test('a trialing subscription is no payment: the pledge waits until it is active', async () => {
  const patron = await srv.post('/v1/patrons', { email: uniqueEmail('paddletrial') });
  const pledge = (await srv.post('/v1/pledges', {
    patron_id: patron.json.id, amount_minor: 1000, currency: 'EUR', interval: 'month', provider: 'paddle',
  })).json;
  const sub = rid('sub');
  const subscription = (status) => ({
    id: sub, status, customer_id: rid('ctm'), currency_code: 'EUR', custom_data: { pledge_id: pledge.id },
    current_billing_period: { starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-01-15T00:00:00Z' },
    billing_cycle: { interval: 'month', frequency: 1 },
    items: [{ quantity: 1, price: { unit_price: { amount: '1000', currency_code: 'EUR' } } }],
  });
  const body = paddleEvent('subscription.created', subscription('trialing'));
  assertReceived(await sendPaddle(srv, body, { secret: SECRET }));
  const key = JSON.parse(body).event_id;
  assert.equal(await srv.psql(`SELECT status FROM webhook_events WHERE event_key = '${key}'`), 'ignored');
  assert.equal((await srv.get(`/v1/pledges/${pledge.id}`)).json.status, 'pending');
  assert.equal((await srv.get(`/v1/patrons/${patron.json.id}`)).json.status, 'none');

  assertReceived(await send('subscription.activated', subscription('active')));
  assert.equal((await srv.get(`/v1/pledges/${pledge.id}`)).json.status, 'active');
  assert.equal((await srv.get(`/v1/payments?pledge_id=${pledge.id}`)).json.data.length, 0);
});

test('a charge for an unknown subscription, with no e-mail, fails and waits for a replay', async () => {
  const sub = rid('sub');
  const body = paddleEvent('transaction.completed', {
    id: rid('txn'), status: 'completed', subscription_id: sub, customer_id: rid('ctm'),
    currency_code: 'USD', details: { totals: { grand_total: '500' } },
  });
  assertReceived(await sendPaddle(srv, body, { secret: SECRET }));
  const key = JSON.parse(body).event_id;
  assert.equal(await srv.psql(`SELECT status FROM webhook_events WHERE event_key = '${key}'`), 'failed');
});

test('forged and stale Paddle signatures are 401 and write nothing', async () => {
  const body = paddleEvent('subscription.created', { id: rid('sub') });
  const before = await counts(srv);
  const ts = Math.floor(Date.now() / 1000);
  assertProblem(assert, await sendPaddle(srv, body, { secret: `pdl_ntfset_${crypto.randomBytes(12).toString('hex')}` }), 401, 'wrong secret');
  assertProblem(assert, await sendPaddle(srv, body, { secret: SECRET, ts: ts - 400 }), 401, 'stale');
  assertProblem(assert, await sendPaddle(srv, body, { header: `ts=${ts};h1=${'0'.repeat(64)}` }), 401, 'zeros');
  assertProblem(assert, await sendPaddle(srv, body, { header: 'h1=abc' }), 401, 'no ts');
  assert.deepEqual(await counts(srv), before);
});
