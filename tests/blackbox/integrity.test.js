'use strict';
// SPEC §4 integrity rules end to end: the provider's figures win over the
// form's, membership ends by the clock and by refunds, and ballots weigh
// only while their voter is a member (live tally and frozen result).
// Provider payloads are signed with the official `stripe` and
// `standardwebhooks` libraries (tests/blackbox/lib/webhooks.js).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const harness = require('./lib/harness');

const { startServer, uniqueEmail, sleep, assertProblem } = harness;
const {
  sendStripe, stripeEvent, sendStandard, standardBody, standardSecret, msgId,
} = require('./lib/webhooks');

const STRIPE_SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const STANDARD_SECRET = standardSecret();
const PATREON_SECRET = crypto.randomBytes(24).toString('hex');
const GRACE_DAYS = 3;
const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
let srv;

before(async () => {
  srv = await startServer({
    env: {
      PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      PATROND_STRIPE_PAYMENT_LINK: 'https://buy.stripe.com/test_patrond',
      PATROND_STANDARD_WEBHOOK_SECRET: STANDARD_SECRET,
      PATROND_PATREON_WEBHOOK_SECRET: PATREON_SECRET,
      PATROND_PATREON_CAMPAIGN_URL: 'https://www.patreon.com/c/patrond_test',
      PATROND_PATREON_CURRENCY: 'GBP',
      PATROND_GRACE_DAYS: String(GRACE_DAYS),
    },
  });
});
after(async () => { if (srv) await srv.stop(); });

const iso = (msFromNow) => new Date(Date.now() + msFromNow).toISOString().replace(/\.\d{3}Z$/, 'Z');
const unix = (msFromNow) => Math.floor((Date.now() + msFromNow) / 1000);
const rid = (prefix) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;

function stripe(type, object) {
  return sendStripe(srv, stripeEvent(type, object), { secret: STRIPE_SECRET });
}

async function standard(type, data) {
  const r = await sendStandard(srv, standardBody(type, data), { secret: STANDARD_SECRET, id: msgId() });
  assert.equal(r.status, 200, `${type} → ${r.status} ${r.text}`);
  return r;
}

const sessionsFor = (ids) => harness.sessionsFor(srv, ids);
const sessionFor = async (patronId) => (await sessionsFor([patronId]))[0];

async function patronByEmail(email) {
  const r = await srv.get(`/v1/patrons?q=${encodeURIComponent(email)}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.length, 1, `one patron for ${email}`);
  return r.json.data[0];
}

async function pledgeOf(patronId) {
  const r = await srv.get(`/v1/pledges?patron_id=${patronId}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.length, 1);
  return r.json.data[0];
}

async function tier(name, amount, weight, currency = 'USD') {
  const r = await srv.post('/v1/tiers', { name, amount_minor: amount, currency, vote_weight: weight });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function openRound(n, title) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const t = await srv.post('/v1/topics', { title: `${title} ${i + 1}`, description: 'why' });
    assert.equal(t.status, 201, t.text);
    ids.push(t.json.id);
  }
  const r = await srv.post('/v1/rounds', {
    title, topic_ids: ids, opens_at: iso(-60000), closes_at: iso(HOUR), max_choices: n,
  });
  assert.equal(r.status, 201, r.text);
  return { round: r.json, topics: ids };
}

const vote = (token, roundId, ids) =>
  srv.request('PUT', `/v1/rounds/${roundId}/ballot`, { key: token, body: { topic_ids: ids } });
const tally = async (roundId) => (await srv.request('GET', `/v1/rounds/${roundId}/tally`)).json;

// A member by a Standard Webhooks subscription paid now, with a session.
async function standardMember({ amount = 500, currency = 'USD', every = 'month', periodEnd = iso(30 * DAY) } = {}) {
  const email = uniqueEmail('integrity');
  const sub = rid('sub');
  await standard('payment.succeeded', {
    email, subscription_id: sub, payment_id: rid('pay'), amount_minor: amount, currency,
    interval: every, period_end: periodEnd,
  });
  const patron = await patronByEmail(email);
  return { email, sub, patron, token: await sessionFor(patron.id) };
}

test('Stripe: the charged amount, not the form\'s, sets the pledge and its ballot weight', async () => {
  const small = await tier('Coffee (USD)', 1000, 1);
  await tier('Patron of honour (USD)', 50000, 10);
  const email = uniqueEmail('stripe-form');
  const co = await srv.request('POST', '/v1/checkout', {
    body: { email, amount_minor: 50000, currency: 'USD', interval: 'month', provider: 'stripe' },
  });
  assert.equal(co.status, 201, co.text);
  const { pledge_id: pledgeId, patron_id: patronId } = co.json;
  const sub = rid('sub');
  const cus = rid('cus');
  let r = await stripe('checkout.session.completed', {
    id: rid('cs'), object: 'checkout.session', mode: 'subscription', payment_status: 'paid',
    customer_details: { email, name: null }, subscription: sub, customer: cus,
    amount_total: 1000, currency: 'usd', client_reference_id: pledgeId,
  });
  assert.equal(r.status, 200, r.text);
  r = await stripe('invoice.paid', {
    id: rid('in'), object: 'invoice', customer: cus, customer_email: email, amount_paid: 1000,
    amount_due: 1000, currency: 'usd', attempt_count: 1,
    parent: { subscription_details: { subscription: sub } },
    lines: { data: [{ period: { end: unix(30 * DAY) }, price: { recurring: { interval: 'month', interval_count: 1 } } }] },
  });
  assert.equal(r.status, 200, r.text);

  const pledge = (await srv.get(`/v1/pledges/${pledgeId}`)).json;
  assert.equal(pledge.status, 'active');
  assert.equal(pledge.amount_minor, 1000, 'the amount Stripe charged');
  assert.equal(pledge.tier_id, small.id, 'the tier of the charged amount');
  const events = (await srv.get('/v1/webhook-events?provider=stripe')).json.data;
  const adjusted = events.map((e) => e.adjusted).filter(Boolean);
  assert.deepEqual(adjusted, [{
    from: { amount_minor: 50000, currency: 'USD', interval: 'month' },
    to: { amount_minor: 1000, currency: 'USD', interval: 'month' },
  }], 'the event records the form\'s figure and the provider\'s');

  const { round, topics } = await openRound(1, 'Stripe weight');
  const ballot = await vote(await sessionFor(patronId), round.id, topics);
  assert.equal(ballot.status, 200, ballot.text);
  assert.equal(ballot.json.weight, 1, 'the charged tier\'s weight, not the form\'s');
  const summary = (await srv.get('/v1/reports/summary')).json;
  const usd = summary.mrr.find((m) => m.currency === 'USD');
  assert.ok(usd && usd.amount_minor < 50000, `MRR not inflated by the form: ${JSON.stringify(summary.mrr)}`);
});

// Patreon signs the body with HMAC-MD5 (hex) in X-Patreon-Signature; it
// has no signing library on npm, so the scheme is followed with node:crypto.
function sendPatreon(body) {
  return srv.request('POST', '/v1/webhooks/patreon', {
    body,
    headers: {
      'Content-Type': 'application/json', 'X-Patreon-Event': 'members:update',
      'X-Patreon-Signature': crypto.createHmac('md5', PATREON_SECRET).update(body).digest('hex'),
    },
  });
}

test('Patreon: the entitled amount Patreon charged, not the form\'s, sets the pledge and its ballot weight', async () => {
  const small = await tier('Coffee (GBP)', 300, 2, 'GBP');
  await tier('Patron of honour (GBP)', 20000, 9, 'GBP');
  const email = uniqueEmail('patreon-form');
  const co = await srv.request('POST', '/v1/checkout', {
    body: { email, amount_minor: 20000, currency: 'GBP', interval: 'month', provider: 'patreon' },
  });
  assert.equal(co.status, 201, co.text);
  const member = crypto.randomUUID();
  const user = String(Date.now());
  const body = JSON.stringify({
    data: {
      type: 'member', id: member,
      attributes: {
        email, full_name: 'Patreon Reader', currently_entitled_amount_cents: 500, pledge_cadence: 1,
        patron_status: 'active_patron', last_charge_status: 'Paid',
        last_charge_date: new Date(Date.now() - 60000).toISOString(), next_charge_date: iso(30 * DAY),
      },
      relationships: { user: { data: { type: 'user', id: user } }, campaign: { data: { type: 'campaign', id: '1' } } },
    },
    included: [{ type: 'user', id: user, attributes: { email, full_name: 'Patreon Reader' } }],
  });
  const r = await sendPatreon(body);
  assert.equal(r.status, 200, r.text);
  const pledge = (await srv.get(`/v1/pledges/${co.json.pledge_id}`)).json;
  assert.equal(pledge.status, 'active');
  assert.equal(pledge.amount_minor, 500, 'the amount Patreon charged');
  assert.equal(pledge.tier_id, small.id);
  const { round, topics } = await openRound(1, 'Patreon weight');
  const ballot = await vote(await sessionFor(co.json.patron_id), round.id, topics);
  assert.equal(ballot.status, 200, ballot.text);
  assert.equal(ballot.json.weight, 2, 'the charged tier\'s weight, not the form\'s');
});

test('Stripe: a refund of a one-off gift names its payment_intent; the gift then pays for nothing', async () => {
  const email = uniqueEmail('stripe-refund');
  const co = await srv.request('POST', '/v1/checkout', {
    body: { email, amount_minor: 800, currency: 'USD', interval: 'once', provider: 'stripe' },
  });
  assert.equal(co.status, 201, co.text);
  const pi = rid('pi');
  let r = await stripe('checkout.session.completed', {
    id: rid('cs'), object: 'checkout.session', mode: 'payment', payment_status: 'paid',
    customer_details: { email }, amount_total: 800, currency: 'usd',
    client_reference_id: co.json.pledge_id, payment_intent: pi,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await patronByEmail(email)).status, 'member');
  // the charge object carries no e-mail and no customer: only payment_intent links it
  r = await sendStripe(srv, stripeEvent('charge.refunded', {
    id: rid('ch'), object: 'charge', payment_intent: pi, amount: 800, amount_refunded: 800, currency: 'usd',
    refunds: { data: [{ id: rid('re'), amount: 800, currency: 'usd' }] },
  }), { secret: STRIPE_SECRET });
  assert.equal(r.status, 200, r.text);
  const refunds = (await srv.get(`/v1/payments?pledge_id=${co.json.pledge_id}&kind=refund`)).json.data;
  assert.equal(refunds.length, 1, 'the refund is booked against the gift\'s pledge');
  assert.equal(refunds[0].amount_minor, -800);
  assert.equal((await patronByEmail(email)).status, 'lapsed');
});

test('Stripe: a monthly form paid through a one-time Payment Link is a one-off pledge', async () => {
  const email = uniqueEmail('stripe-once');
  const co = await srv.request('POST', '/v1/checkout', {
    body: { email, amount_minor: 700, currency: 'USD', interval: 'month', provider: 'stripe' },
  });
  assert.equal(co.status, 201, co.text);
  const r = await stripe('checkout.session.completed', {
    id: rid('cs'), object: 'checkout.session', mode: 'payment', payment_status: 'paid',
    customer_details: { email }, amount_total: 700, currency: 'usd',
    client_reference_id: co.json.pledge_id, payment_intent: rid('pi'),
  });
  assert.equal(r.status, 200, r.text);
  const pledge = (await srv.get(`/v1/pledges/${co.json.pledge_id}`)).json;
  assert.equal(pledge.interval, 'once');
  assert.equal(pledge.status, 'active');
});

test('membership ends by the clock: period end plus PATROND_GRACE_DAYS, no job needed', async () => {
  const { round, topics } = await openRound(1, 'Clock');
  const inGrace = await standardMember({ periodEnd: iso(-(GRACE_DAYS - 1) * DAY) });
  const lapsed = await standardMember({ periodEnd: iso(-(GRACE_DAYS + 1) * DAY) });
  assert.equal((await patronByEmail(inGrace.email)).status, 'member');
  assert.equal((await patronByEmail(lapsed.email)).status, 'lapsed');
  assert.equal((await vote(inGrace.token, round.id, topics)).status, 200, 'within the grace period');
  assertProblem(assert, await vote(lapsed.token, round.id, topics), 403);
  const me = (await srv.request('GET', '/v1/me', { key: lapsed.token })).json;
  assert.equal(me.member, false);
  const lapsedList = (await srv.get(`/v1/patrons?status=lapsed&q=${encodeURIComponent(lapsed.email)}`)).json;
  assert.equal(lapsedList.data.length, 1);
});

test('a recurring pledge whose period ran out turns past_due and its ballot leaves the tally within a minute', async () => {
  const { round, topics } = await openRound(1, 'Sweep');
  const m = await standardMember();
  assert.equal((await vote(m.token, round.id, topics)).status, 200);
  assert.equal((await tally(round.id)).voters, 1);
  const pledge = await pledgeOf(m.patron.id);
  // The clock passes the end of the paid period and its grace: a minute
  // ago, so the job's look-back window is what must find it (no tier
  // change or restart sweeps every ballot).
  await srv.psql(`UPDATE pledges SET current_period_end = now() - interval '${GRACE_DAYS} days 1 minute'
                  WHERE id = '${pledge.id}'`);
  let t;
  for (let i = 0; i < 90; i++) {
    t = await tally(round.id);
    if (t.voters === 0) break;
    await sleep(1000);
  }
  assert.equal(t.voters, 0, 'the job took the ballot out of the live tally');
  assert.equal(t.total_weight, 0);
  assert.equal((await srv.get(`/v1/pledges/${pledge.id}`)).json.status, 'past_due');
});

test('a fully refunded one-off pays for nothing; a partial refund keeps the membership', async () => {
  const full = await standardMember({ every: 'once', amount: 500, periodEnd: undefined });
  const partial = await standardMember({ every: 'once', amount: 500, periodEnd: undefined });
  assert.equal((await patronByEmail(full.email)).status, 'member');
  await standard('payment.refunded', { email: full.email, subscription_id: full.sub, payment_id: rid('re'), amount_minor: 500, currency: 'USD' });
  await standard('payment.refunded', { email: partial.email, subscription_id: partial.sub, payment_id: rid('re'), amount_minor: 200, currency: 'USD' });
  assert.equal((await patronByEmail(full.email)).status, 'lapsed');
  assert.equal((await patronByEmail(partial.email)).status, 'member');
  const { round, topics } = await openRound(1, 'Refund');
  assertProblem(assert, await vote(full.token, round.id, topics), 403);
});

test('a refunded first charge of a subscription: past_due, no longer a member', async () => {
  const m = await standardMember();
  await standard('payment.refunded', { email: m.email, subscription_id: m.sub, payment_id: rid('re'), amount_minor: 500, currency: 'USD' });
  const pledge = await pledgeOf(m.patron.id);
  assert.equal(pledge.status, 'past_due');
  assert.equal((await patronByEmail(m.email)).status, 'lapsed');
});

test('a member who votes and is then canceled leaves the live tally and the frozen result', async () => {
  const { round, topics } = await openRound(2, 'Cancel');
  const stays = await standardMember();
  // in the grace after its paid period: a canceled pledge counts only until
  // the end of what was paid, so this cancel ends the membership
  const leaves = await standardMember({ periodEnd: iso(-DAY) });
  assert.equal((await vote(stays.token, round.id, [topics[0]])).status, 200);
  assert.equal((await vote(leaves.token, round.id, [topics[1]])).status, 200);
  const before = await srv.request('GET', `/v1/rounds/${round.id}/tally`);
  assert.equal(before.json.voters, 2);
  await standard('pledge.canceled', { email: leaves.email, subscription_id: leaves.sub });
  const afterCancel = await srv.request('GET', `/v1/rounds/${round.id}/tally`);
  assert.notEqual(afterCancel.headers.etag, before.headers.etag, 'the ETag moved with the tally');
  assert.equal(afterCancel.json.voters, 1, 'at once, in the webhook\'s transaction');
  assert.deepEqual(afterCancel.json.topics.map((x) => [x.topic_id, x.votes]), [[topics[0], 1], [topics[1], 0]]);
  const closed = await srv.post(`/v1/rounds/${round.id}/close`, {});
  assert.equal(closed.status, 200, closed.text);
  const result = closed.json.result;
  assert.equal(result.voters, 1);
  assert.ok(result.voters <= result.eligible, JSON.stringify(result));
  assert.deepEqual(result.winners, [topics[0]]);
});

test('the frozen result recounts members at the close, even before any job ran', async () => {
  const { round, topics } = await openRound(1, 'Recount');
  const a = await standardMember();
  const b = await standardMember();
  assert.equal((await vote(a.token, round.id, topics)).status, 200);
  assert.equal((await vote(b.token, round.id, topics)).status, 200);
  const pledge = await pledgeOf(b.patron.id);
  // The clock passes the end of the paid period and its grace: a minute
  // ago, so the job's look-back window is what must find it (no tier
  // change or restart sweeps every ballot).
  await srv.psql(`UPDATE pledges SET current_period_end = now() - interval '${GRACE_DAYS} days 1 minute'
                  WHERE id = '${pledge.id}'`);
  const closed = await srv.post(`/v1/rounds/${round.id}/close`, {});
  assert.equal(closed.status, 200, closed.text);
  assert.equal(closed.json.result.voters, 1);
  assert.equal(closed.json.result.topics[0].votes, 1);
  assert.ok(closed.json.result.voters <= closed.json.result.eligible);
});

test('a tier change re-weighs the voter\'s ballot at once; a manual pledge takes its figures from an admin, a provider\'s does not', async () => {
  const big = await tier('Big (EUR)', 2000, 4, 'EUR');
  const { round, topics } = await openRound(1, 'Reweigh');
  const m = await standardMember({ currency: 'EUR', amount: 500 });
  assert.equal((await vote(m.token, round.id, topics)).json.weight, 1);
  await standard('payment.succeeded', {
    email: m.email, subscription_id: m.sub, payment_id: rid('pay'), amount_minor: 2000, currency: 'EUR',
    interval: 'month', period_end: iso(60 * DAY),
  });
  const pledge = await pledgeOf(m.patron.id);
  assert.equal(pledge.amount_minor, 2000);
  assert.equal(pledge.tier_id, big.id);
  const t = await tally(round.id);
  assert.equal(t.total_weight, 4, 'the upgrade re-weighed the ballot in the same transaction');
  const refused = await srv.patch(`/v1/pledges/${pledge.id}`, { amount_minor: 100000 });
  assertProblem(assert, refused, 422);
  assert.equal(refused.json.errors[0].field, 'amount_minor');
});

// SPEC §4 Ballots under concurrency: 200 ballots while 50 of the voters'
// memberships end (25, by signed webhooks) or change tier (25, by admin
// patches) at the same moment. The live tally must equal a recount of the
// ballots of current members, and closing must freeze exactly that.
test('200 ballots racing 50 membership changes: live tally equals a recount, and the close freezes it', async () => {
  const heavy = await tier('Concurrency heavy (PLN)', 100000, 7, 'PLN');
  const { round, topics } = await openRound(3, 'Race');
  const tag = crypto.randomBytes(4).toString('hex');
  const rows = (await srv.psql(
    `WITH p AS (INSERT INTO patrons (email)
                SELECT 'race-' || g || '-${tag}@example.org' FROM generate_series(1, 200) g
                RETURNING id, email)
     INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref,
                          status, activated_at, current_period_end)
     SELECT id, 500, 'PLN', 'month', 'standard', 'race-' || email, 'active', now(),
            now() + interval '20 days' FROM p RETURNING patron_id, id, provider_ref`,
  )).split('\n').filter((l) => l.includes('|')).map((l) => l.split('|'));
  assert.equal(rows.length, 200);
  const tokens = await sessionsFor(rows.map(([patronId]) => patronId));
  const voters = rows.map(([patronId, pledgeId, ref], i) =>
    ({ patronId, pledgeId, ref, email: ref.slice('race-'.length), token: tokens[i] }));
  // those whose pledge is canceled below are in the grace after their paid
  // period, so the cancel ends their membership (a canceled pledge counts
  // only until the end of what was paid)
  await srv.psql(`UPDATE pledges SET current_period_end = now() - interval '1 day'
                   WHERE id IN (${voters.slice(75, 125).filter((v, i) => !(i % 2)).map((v) => `'${v.pledgeId}'`).join(',')})`);
  const half = async (v, i) => vote(v.token, round.id, [topics[i % 3]]);
  // a first ballot from half of them, so changes also meet existing ballots
  await Promise.all(voters.slice(0, 100).map(half));
  const changes = voters.slice(75, 125).map((v, i) => (i % 2
    ? srv.patch(`/v1/pledges/${v.pledgeId}`, { tier_id: heavy.id })
    : sendStandard(srv, standardBody('pledge.canceled', { email: v.email, subscription_id: v.ref }),
      { secret: STANDARD_SECRET, id: msgId() })));
  const ballots = voters.map((v, i) => vote(v.token, round.id, [topics[(i + 1) % 3]]));
  const done = await Promise.all([...changes, ...ballots]);
  for (const r of done) assert.ok([200, 403].includes(r.status), `${r.status} ${r.text}`);

  const recount = JSON.parse(await srv.psql(
    `SELECT json_build_object('voters', count(*), 'weight', coalesce(sum(w), 0))
       FROM (SELECT patron_member_weight(b.patron_id) AS w FROM ballots b
              WHERE b.round_id = '${round.id}') x WHERE w IS NOT NULL`));
  assert.ok(recount.voters > 100 && recount.voters < 200, JSON.stringify(recount));
  const perTopic = JSON.parse(await srv.psql(
    `SELECT json_object_agg(t, json_build_array(n, w)) FROM (
       SELECT u.t, count(*) AS n, sum(x.w) AS w
         FROM (SELECT b.topic_ids, patron_member_weight(b.patron_id) AS w FROM ballots b
                WHERE b.round_id = '${round.id}') x, unnest(x.topic_ids) AS u(t)
        WHERE x.w IS NOT NULL GROUP BY u.t) y`));
  const live = await tally(round.id);
  assert.equal(live.voters, recount.voters, 'live voters = recount');
  assert.equal(live.total_weight, recount.weight, 'live weight = recount');
  for (const x of live.topics) {
    assert.deepEqual([x.votes, x.weight], perTopic[x.topic_id] || [0, 0], `topic ${x.title}`);
  }
  const closed = await srv.post(`/v1/rounds/${round.id}/close`, {});
  assert.equal(closed.status, 200, closed.text);
  assert.equal(closed.json.result.voters, recount.voters);
  assert.equal(closed.json.result.total_weight, recount.weight);
  assert.ok(closed.json.result.voters <= closed.json.result.eligible);
});

test('reports: churn counts lapses, not only cancellations; MRR counts members only', async () => {
  const before = (await srv.get('/v1/reports/summary')).json;
  const m = await standardMember({ currency: 'GBP', amount: 900 });
  const withMember = (await srv.get('/v1/reports/summary')).json;
  const pledge = await pledgeOf(m.patron.id);
  // a member at the month's start whose paid period (plus grace) ran out since
  const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
  const sinceStart = Date.now() - monthStart.getTime();
  const end = new Date(monthStart.getTime() - GRACE_DAYS * DAY + sinceStart / 2).toISOString();
  await srv.psql(`UPDATE pledges SET current_period_end = '${end}', activated_at = '${monthStart.toISOString()}'::timestamptz - interval '40 days'
                  WHERE id = '${pledge.id}'`);
  const now = (await srv.get('/v1/reports/summary')).json;
  assert.equal(now.churned_members_this_month, before.churned_members_this_month + 1);
  const gbp = (s) => (s.mrr.find((x) => x.currency === 'GBP') || { amount_minor: 0 }).amount_minor;
  assert.equal(gbp(now), gbp(withMember) - 900, 'the lapsed pledge left MRR');
});
