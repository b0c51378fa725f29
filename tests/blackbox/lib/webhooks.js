'use strict';
// Delivering signed webhooks to a test server. Payloads are signed only with
// the providers' official libraries (stripe, standardwebhooks); Paddle's SDK
// exposes no signer, so its scheme is followed with node:crypto and the
// result checked with the SDK's own verifier.

const crypto = require('node:crypto');
const Stripe = require('stripe');
const { Webhook } = require('standardwebhooks');
const { Webhooks: PaddleWebhooks, NodeRuntime } = require('@paddle/paddle-node-sdk');

NodeRuntime.initialize(); // what `new Paddle()` does: the verifier needs node's crypto

const stripe = Stripe('sk_test_patrond_blackbox');

function standardSecret() {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

function msgId() {
  return `msg_${crypto.randomBytes(12).toString('hex')}`;
}

// A Standard Webhooks event as patrond defines them (SPEC §4).
function standardBody(type, data, when = new Date()) {
  return JSON.stringify({ type, timestamp: when.toISOString(), data });
}

// opts: id (webhook-id), secret, when (Date signed as webhook-timestamp),
// signature (replaces the computed one)
function sendStandard(srv, body, opts) {
  const id = opts.id || msgId();
  const when = opts.when || new Date();
  const signature = opts.signature !== undefined ? opts.signature : new Webhook(opts.secret).sign(id, when, body);
  return srv.request('POST', '/v1/webhooks/standard', {
    body,
    headers: {
      'Content-Type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(when.getTime() / 1000)),
      'webhook-signature': signature,
    },
  });
}

// opts: secret, timestamp (unix seconds), header (replaces the computed one)
function sendStripe(srv, body, opts) {
  const header = opts.header !== undefined ? opts.header : stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: opts.secret,
    timestamp: opts.timestamp,
  });
  return srv.request('POST', '/v1/webhooks/stripe', {
    body,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Stripe-Signature': header },
  });
}

// previous: data.previous_attributes, as Stripe sends it with changes
function stripeEvent(type, object, created = Math.floor(Date.now() / 1000), previous = undefined) {
  return JSON.stringify({
    id: `evt_${crypto.randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2025-03-31.basil',
    created,
    livemode: false,
    type,
    data: previous ? { object, previous_attributes: previous } : { object },
  });
}

// Paddle-Signature per Paddle's documented scheme (ts=..;h1=hex HMAC-SHA256
// of "ts:body"), checked with the SDK's own verifier before use so a
// mistake here cannot pass as a server bug. The SDK accepts only a 5 s old
// ts, so only fresh headers are checked.
async function paddleHeader(body, secret, ts = Math.floor(Date.now() / 1000)) {
  const h1 = crypto.createHmac('sha256', secret).update(`${ts}:${body}`).digest('hex');
  const header = `ts=${ts};h1=${h1}`;
  const fresh = Math.floor(Date.now() / 1000) - ts <= 1;
  if (fresh && !(await new PaddleWebhooks().isSignatureValid(body, secret, header))) {
    throw new Error('the Paddle SDK rejects our test signature');
  }
  return header;
}

// opts: secret, ts, header (replaces the computed one)
async function sendPaddle(srv, body, opts) {
  const header = opts.header !== undefined ? opts.header : await paddleHeader(body, opts.secret, opts.ts);
  return srv.request('POST', '/v1/webhooks/paddle', {
    body,
    headers: { 'Content-Type': 'application/json', 'Paddle-Signature': header },
  });
}

function paddleEvent(type, data, occurred = new Date()) {
  return JSON.stringify({
    event_id: `evt_${crypto.randomBytes(12).toString('hex')}`,
    event_type: type,
    occurred_at: occurred.toISOString(),
    notification_id: `ntf_${crypto.randomBytes(12).toString('hex')}`,
    data,
  });
}

// Row counts of everything a webhook may write, to show that nothing was.
async function counts(srv) {
  const row = await srv.psql(
    'SELECT (SELECT count(*) FROM webhook_events), (SELECT count(*) FROM payments),' +
    ' (SELECT count(*) FROM pledges), (SELECT count(*) FROM patrons), (SELECT count(*) FROM outbox)');
  const [events, payments, pledges, patrons, outbox] = row.split('|').map(Number);
  return { events, payments, pledges, patrons, outbox };
}

async function metricValue(srv, provider, outcome) {
  const r = await srv.request('GET', '/metrics');
  const line = r.text.split('\n').find((l) =>
    l.startsWith(`patrond_webhook_events_total{provider="${provider}",outcome="${outcome}"} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

module.exports = {
  stripe, standardSecret, msgId, standardBody, sendStandard, sendStripe, stripeEvent, paddleHeader,
  sendPaddle, paddleEvent, counts, metricValue,
};
