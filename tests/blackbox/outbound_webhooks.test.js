'use strict';
// SPEC §4b outbound webhooks, against a real receiver: a Node HTTP server in
// this file that checks every delivery with the official `standardwebhooks`
// library. Every event type arrives after the change that causes it and
// never for a rolled-back one; a 500 is retried with the same webhook-id; a
// rotated secret's deliveries verify with both secrets during the overlap; a
// killed instance loses nothing; two instances deliver each event once; and
// without PATROND_WEBHOOK_ALLOW_PRIVATE no loopback or private target is
// accepted, at creation or (for an address that only turns up when the
// sender connects) at send time. Waits that the SPEC measures in minutes
// (the retry schedule, a killed sender's 60 s lease) are skipped by moving
// next_attempt_at / locked_until in the database, as if that time had passed.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const crypto = require('node:crypto');
const { Webhook } = require('standardwebhooks');
const harness = require('./lib/harness');

const { startServer, uniqueEmail, dropDatabase } = harness;
// deliveries wait on retries and leases: a longer default than the harness's
const waitFor = (what, fn, timeoutMs = 30000) => harness.waitFor(what, fn, timeoutMs);
const { standardSecret, msgId, standardBody, sendStandard } = require('./lib/webhooks');

const IN_SECRET = standardSecret();
const ENV = {
  PATROND_WEBHOOK_ALLOW_PRIVATE: '1', PATROND_STANDARD_WEBHOOK_SECRET: IN_SECRET, PATROND_ADMIN_EMAIL: 'ops@example.org',
};
const { sleep } = harness;

// One receiver for every endpoint of this file, told apart by path. A path's
// `plan` lists the statuses to answer in turn ('hang': never answer), 200
// once it runs out.
function startReceiver() {
  const received = [];
  const plans = new Map();
  const hung = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    if (req.socket.connNo === undefined) req.socket.connNo = ++connections;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        path: req.url, method: req.method, headers: { ...req.headers }, conn: req.socket.connNo,
        body: Buffer.concat(chunks).toString('utf8'), at: Date.now(),
      };
      received.push(entry);
      const plan = plans.get(req.url) || [];
      const next = plan.length ? plan.shift() : 200;
      if (next === 'hang') { hung.push(res); return; }
      if (typeof next === 'object') {
        res.writeHead(next.status, next.headers || {});
        res.end(next.body || '');
        return;
      }
      res.writeHead(next, { 'Content-Type': 'text/plain' });
      res.end(next === 200 ? 'ok' : 'no');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        base, received, plans,
        at: (path) => received.filter((e) => e.path === path),
        releaseHung() { while (hung.length) hung.shift().destroy(); },
        close() { this.releaseHung(); server.closeAllConnections(); return new Promise((r) => server.close(r)); },
      });
    });
  });
}

// The official library verifies a delivery (throws when it does not) and
// returns the parsed body.
function verify(entry, secret) {
  return new Webhook(secret).verify(entry.body, entry.headers);
}

async function addEndpoint(srv, path, events, extra = {}) {
  const r = await srv.post('/v1/webhook-endpoints', { url: `${rx.base}${path}`, events, ...extra });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

let rx, a;
before(async () => {
  rx = await startReceiver();
  a = await startServer({ env: ENV });
});
after(async () => {
  try { if (a) await a.stop(); } finally { if (rx) await rx.close(); }
});

test('endpoints: the secret is shown once, lists page, bad input is 422', async () => {
  const ep = await addEndpoint(a, '/crud', ['topic.proposed'], { description: 'editors chat' });
  assert.match(ep.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(ep.enabled, true);
  assert.deepEqual(ep.events, ['topic.proposed']);
  const got = await a.get(`/v1/webhook-endpoints/${ep.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.json.secret, undefined, 'GET never shows the secret');
  assert.equal(got.json.description, 'editors chat');
  const second = await addEndpoint(a, '/crud2', ['*']);
  const page = await a.get('/v1/webhook-endpoints?limit=1');
  assert.equal(page.status, 200);
  assert.equal(page.json.data.length, 1);
  assert.equal(page.json.data[0].id, second.id, 'newest first');
  const rest = await a.get(`/v1/webhook-endpoints?limit=1&after=${page.json.next_cursor}`);
  assert.equal(rest.json.data[0].id, ep.id);
  assert.equal(rest.json.data[0].secret, undefined);

  for (const [body, field] of [
    [{ url: `${rx.base}/x`, events: ['pledge.exploded'] }, 'events'],
    [{ url: `${rx.base}/x`, events: [] }, 'events'],
    [{ url: `${rx.base}/x` }, 'events'],
    [{ url: 'ftp://example.org/x', events: ['*'] }, 'url'],
    [{ url: 'not a url', events: ['*'] }, 'url'],
    [{ url: 'https://user:pw@example.org/x', events: ['*'] }, 'url'],
    [{ url: `${rx.base}/x`, events: ['*'], secret: 'mine' }, 'secret'],
  ]) {
    const r = await a.post('/v1/webhook-endpoints', body);
    assert.equal(r.status, 422, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
    assert.ok(r.json.errors.some((e) => e.field === field), `${JSON.stringify(body)}: ${r.text}`);
  }
  const unknown = await a.patch(`/v1/webhook-endpoints/${ep.id}`, { colour: 'red' });
  assert.equal(unknown.status, 422, unknown.text);
  const patched = await a.patch(`/v1/webhook-endpoints/${ep.id}`,
    { events: ['topic.updated', 'topic.proposed'], enabled: false, description: null });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.json.events, ['topic.proposed', 'topic.updated']);
  assert.equal(patched.json.enabled, false);
  assert.equal(patched.json.description, null);
  assert.equal((await a.del(`/v1/webhook-endpoints/${second.id}`)).status, 204);
  assert.equal((await a.get(`/v1/webhook-endpoints/${second.id}`)).status, 404);
  assert.equal((await a.get(`/v1/webhook-endpoints/${second.id}/deliveries`)).status, 404);
  assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
  const audit = await a.get(`/v1/audit?entity=webhook_endpoints&entity_id=${ep.id}`);
  assert.equal(audit.status, 200, audit.text);
  assert.deepEqual(audit.json.data.map((e) => e.action), ['delete', 'update', 'create'], 'endpoint changes are audited');
  const everything = await a.get('/v1/audit?limit=500');
  assert.ok(!everything.text.includes(ep.secret), 'the audit trail never holds a secret');
});

test('a create or rotation retried with its Idempotency-Key replays the first reply: one endpoint, one rotation', async () => {
  const key = { headers: { 'Idempotency-Key': `ep-${crypto.randomUUID()}` } };
  const body = { url: `${rx.base}/idem`, events: ['*'] };
  const first = await a.post('/v1/webhook-endpoints', body, key);
  assert.equal(first.status, 201, first.text);
  const again = await a.post('/v1/webhook-endpoints', body, key);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.json.id, first.json.id);
  assert.equal(again.json.secret, first.json.secret, 'the secret the lost reply carried');
  assert.equal(await a.psql(`SELECT count(*) FROM webhook_endpoints WHERE url = '${rx.base}/idem'`), '1');

  const rot = { headers: { 'Idempotency-Key': `rot-${crypto.randomUUID()}` } };
  const r1 = await a.post(`/v1/webhook-endpoints/${first.json.id}/rotate-secret`, undefined, rot);
  assert.equal(r1.status, 200, r1.text);
  const r2 = await a.post(`/v1/webhook-endpoints/${first.json.id}/rotate-secret`, undefined, rot);
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.secret, r1.json.secret, 'rotated once');
  assert.notEqual(r1.json.secret, first.json.secret);
  assert.equal(await a.psql(`SELECT previous_secret FROM webhook_endpoints WHERE id = '${first.json.id}'`),
    first.json.secret, 'the previous secret is the first one, not the first rotation\'s');
  assert.equal((await a.del(`/v1/webhook-endpoints/${first.json.id}`)).status, 204);
});

test('every event type is delivered after its change, signed, and never for a rolled-back change', async () => {
  const ep = await addEndpoint(a, '/all', ['*']);
  const types = () => rx.at('/all').map((e) => JSON.parse(e.body).type);
  const arrived = (type, pred = () => true) => waitFor(`${type}`, () =>
    rx.at('/all').map((e) => JSON.parse(e.body)).find((m) => m.type === type && pred(m.data)));

  // A provider's pledge, by the standard webhook: created, activated, paid,
  // and its patron a member.
  const email = uniqueEmail('out');
  const ref = `sub_${crypto.randomBytes(6).toString('hex')}`;
  const data = { email, name: 'Outbound Reader', subscription_id: ref, amount_minor: 1500, currency: 'USD', interval: 'month' };
  let r = await sendStandard(a, standardBody('payment.succeeded', { ...data, payment_id: `pay_${crypto.randomBytes(6).toString('hex')}` }), { secret: IN_SECRET });
  assert.equal(r.status, 200, r.text);
  const pledge = (await arrived('pledge.created')).data;
  assert.equal(pledge.provider_ref, ref);
  assert.equal((await arrived('pledge.activated', (d) => d.id === pledge.id)).data.status, 'active');
  const paid = (await arrived('payment.succeeded', (d) => d.pledge_id === pledge.id)).data;
  assert.equal(paid.amount_minor, 1500);
  const started = (await arrived('member.started', (d) => d.email === email)).data;
  assert.equal(started.id, pledge.patron_id);
  assert.equal(started.member, true);
  const admin = await a.get(`/v1/pledges/${pledge.id}`);
  assert.deepEqual(Object.keys(pledge).sort(), Object.keys(admin.json).sort(),
    'data is the pledge as the admin API shows it');
  assert.equal(pledge.patron_id, admin.json.patron_id);

  // A changed price (a confirming event overwrites the amount): pledge.updated.
  r = await sendStandard(a, standardBody('payment.succeeded', { ...data, amount_minor: 2500, payment_id: `pay_${crypto.randomBytes(6).toString('hex')}` }), { secret: IN_SECRET });
  assert.equal(r.status, 200, r.text);
  assert.equal((await arrived('pledge.updated', (d) => d.id === pledge.id)).data.amount_minor, 2500);
  // A failed renewal: payment.failed, and the pledge past_due.
  r = await sendStandard(a, standardBody('payment.failed', { ...data, amount_minor: 2500, payment_id: `pay_${crypto.randomBytes(6).toString('hex')}`, reason: 'card_declined' }), { secret: IN_SECRET });
  assert.equal(r.status, 200, r.text);
  assert.equal((await arrived('payment.failed', (d) => d.pledge_id === pledge.id)).data.status, 'failed');
  await arrived('pledge.past_due', (d) => d.id === pledge.id);
  // A refund of the first charge.
  r = await sendStandard(a, standardBody('payment.refunded', { ...data, payment_id: `${paid.provider_payment_id}_r`, amount_minor: 1500 }), { secret: IN_SECRET });
  assert.equal(r.status, 200, r.text);
  assert.equal((await arrived('payment.refunded', (d) => d.pledge_id === pledge.id)).data.kind, 'refund');

  // A manual pledge an admin cancels: pledge.canceled, and the membership ends.
  const p2 = await a.post('/v1/patrons', { email: uniqueEmail('manual'), name: 'Bank Transfer' });
  const m = await a.post('/v1/pledges', { patron_id: p2.json.id, amount_minor: 900, currency: 'EUR', interval: 'month', provider: 'manual', status: 'active' });
  assert.equal(m.status, 201, m.text);
  await arrived('member.started', (d) => d.id === p2.json.id);
  // A write that fails half-way (the amount is set, then the tier's key
  // fails) changes nothing, and announces nothing.
  const bad = await a.patch(`/v1/pledges/${m.json.id}`, { amount_minor: 901, tier_id: crypto.randomUUID() });
  assert.equal(bad.status, 422, bad.text);
  assert.equal((await a.patch(`/v1/pledges/${m.json.id}`, { status: 'canceled' })).status, 200);
  await arrived('pledge.canceled', (d) => d.id === m.json.id);
  assert.equal((await arrived('member.ended', (d) => d.id === p2.json.id)).data.member, false);

  // Topics and a round, closed with its frozen result.
  const t = await a.post('/v1/topics', { title: 'Who owns the riverbank', description: 'a map' });
  assert.equal(t.status, 201, t.text);
  await arrived('topic.proposed', (d) => d.id === t.json.id);
  assert.equal((await a.patch(`/v1/topics/${t.json.id}`, { title: 'Who owns the riverbank, and who pays' })).status, 200);
  assert.equal((await arrived('topic.updated', (d) => d.id === t.json.id)).data.title, 'Who owns the riverbank, and who pays');
  const round = await a.post('/v1/rounds', {
    title: 'Next month', topic_ids: [t.json.id],
    opens_at: new Date(Date.now() - 60000).toISOString(), closes_at: new Date(Date.now() + 86400000).toISOString(),
  });
  assert.equal(round.status, 201, round.text);
  assert.deepEqual((await arrived('round.opened', (d) => d.id === round.json.id)).data.topic_ids, [t.json.id]);
  assert.equal((await a.post(`/v1/rounds/${round.json.id}/close`)).status, 200);
  const closed = (await arrived('round.closed', (d) => d.id === round.json.id)).data;
  assert.equal(closed.status, 'closed');
  assert.ok(closed.result && Array.isArray(closed.result.topics), 'round.closed carries the frozen result');
  // A round whose opening time comes later is announced by the clock.
  const later = await a.post('/v1/rounds', {
    title: 'In a moment', topic_ids: [t.json.id],
    opens_at: new Date(Date.now() + 3000).toISOString(), closes_at: new Date(Date.now() + 86400000).toISOString(),
  });
  assert.equal(later.status, 201, later.text);
  const opened = await arrived('round.opened', (d) => d.id === later.json.id);
  assert.ok(Date.parse(opened.timestamp) >= Date.parse(later.json.opens_at) - 1000, 'not before it opened');

  // An event a provider sent that cannot be applied rolls back whatever it
  // began: a refund of a payment nobody knows.
  const stray = `pay_${crypto.randomBytes(6).toString('hex')}`;
  r = await sendStandard(a, standardBody('payment.refunded', { subscription_id: `sub_${crypto.randomBytes(6).toString('hex')}`, payment_id: stray, amount_minor: 250, currency: 'USD' }), { secret: IN_SECRET });
  assert.equal(r.status, 200, r.text);
  assert.equal(await a.psql(`SELECT status FROM webhook_events WHERE convert_from(payload, 'UTF8') LIKE '%${stray}%'`), 'failed');

  // A sentinel after everything above: once it is in, the queue before it was sent.
  const sentinel = await a.post('/v1/topics', { title: 'sentinel' });
  await arrived('topic.proposed', (d) => d.id === sentinel.json.id);
  await waitFor('an empty queue', async () =>
    (await a.psql(`SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '${ep.id}' AND status <> 'delivered'`)) === '0');

  const all = rx.at('/all');
  for (const e of all) verify(e, ep.secret);
  const seen = new Set(types());
  for (const type of ['member.started', 'member.ended', 'pledge.created', 'pledge.activated', 'pledge.updated',
    'pledge.past_due', 'pledge.canceled', 'payment.succeeded', 'payment.failed', 'payment.refunded',
    'round.opened', 'round.closed', 'topic.proposed', 'topic.updated']) {
    assert.ok(seen.has(type), `${type} was delivered`);
  }
  const bodies = all.map((e) => JSON.parse(e.body));
  assert.ok(!bodies.some((b) => b.data.id === m.json.id && b.data.amount_minor === 901),
    'the failed write announced nothing');
  // Not a text match on '901': a uuid or a timestamp of another test holds those digits.
  assert.equal(await a.psql(`SELECT count(*) FROM webhook_deliveries WHERE event_type LIKE 'pledge.%'
    AND payload->'data'->>'id' = '${m.json.id}' AND payload->'data'->>'amount_minor' = '901'`), '0');
  assert.ok(!all.some((e) => e.body.includes(stray)), 'the event that failed to apply announced nothing');
  assert.equal(new Set(all.map((e) => e.headers['webhook-id'])).size, all.length, 'one webhook-id per delivery');
  const conns = new Set(all.map((e) => e.conn)).size;
  assert.ok(conns < all.length / 2, `the endpoint's connection is reused: ${all.length} deliveries over ${conns} connections`);
  for (const b of bodies) {
    assert.deepEqual(Object.keys(b).sort(), ['data', 'timestamp', 'type']);
    assert.match(b.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }

  // The log and the metrics.
  const log = await a.get(`/v1/webhook-endpoints/${ep.id}/deliveries?status=delivered&limit=500`);
  assert.equal(log.status, 200, log.text);
  assert.equal(log.json.data.length, all.length);
  assert.ok(log.json.data.every((d) => d.attempts === 1 && d.last_status_code === 200 && d.next_attempt_at === null));
  const metrics = (await a.request('GET', '/metrics')).text;
  const delivered = Number((metrics.match(/^patrond_outbound_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m) || [])[1]);
  assert.ok(delivered >= all.length, metrics);
  assert.match(metrics, /^# TYPE patrond_outbound_webhook_deliveries_total counter$/m);
  assert.match(metrics, /^patrond_outbound_webhook_backlog \d+$/m);
  assert.match(metrics, /^patrond_outbound_webhook_oldest_pending_seconds \d+$/m);
  assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
});

test('a receiver answering 500 twice then 200 gets the event on the third attempt, with the same webhook-id', async () => {
  rx.plans.set('/flaky', [500, 500]);
  const ep = await addEndpoint(a, '/flaky', ['topic.proposed']);
  const t = await a.post('/v1/topics', { title: 'Flaky receiver' });
  assert.equal(t.status, 201, t.text);
  await waitFor('the first attempt', () => rx.at('/flaky').length === 1);
  // the receiver has answered; the sender records it a moment later
  const d = await waitFor('the first outcome', async () => {
    const pending = await a.get(`/v1/webhook-endpoints/${ep.id}/deliveries?status=pending`);
    return pending.json.data.find((x) => x.attempts === 1);
  });
  assert.equal(d.attempts, 1);
  assert.equal(d.last_status_code, 500);
  const wait = Date.parse(d.next_attempt_at) - Date.parse(d.last_attempt_at);
  assert.ok(wait >= 4000 && wait <= 6000, `retried after about 5 s, not ${wait} ms`);
  // the second attempt comes by itself after 5 s
  await waitFor('the second attempt', () => rx.at('/flaky').length === 2);
  await waitFor('the second outcome', async () =>
    (await a.psql(`SELECT attempts FROM webhook_deliveries WHERE id = '${d.id}'`)) === '2');
  const second = await a.psqlJson(`SELECT jsonb_build_object('wait', extract(epoch FROM next_attempt_at - last_attempt_at)) FROM webhook_deliveries WHERE id = '${d.id}'`);
  assert.ok(Math.abs(second[0].wait - 300) < 2, `then after 5 minutes: ${second[0].wait}`);
  // ... which the test does not wait for
  await a.psql(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = '${d.id}'`);
  await waitFor('the third attempt', () => rx.at('/flaky').length === 3);
  const got = rx.at('/flaky');
  assert.equal(new Set(got.map((e) => e.headers['webhook-id'])).size, 1, 'one webhook-id for every attempt');
  assert.equal(got[0].headers['webhook-id'], d.id);
  for (const e of got) assert.equal(verify(e, ep.secret).data.id, t.json.id);
  await waitFor('delivered', async () =>
    (await a.get(`/v1/webhook-endpoints/${ep.id}/deliveries?status=delivered`)).json.data.length === 1);
  const done = (await a.get(`/v1/webhook-endpoints/${ep.id}/deliveries`)).json.data[0];
  assert.equal(done.status, 'delivered');
  assert.equal(done.attempts, 3);
  assert.equal(done.last_status_code, 200);

  // A manual retry sends it again, still under the same id.
  const retry = await a.post(`/v1/webhook-deliveries/${d.id}/retry`);
  assert.equal(retry.status, 200, retry.text);
  await waitFor('the manual retry', () => rx.at('/flaky').length === 4);
  assert.equal(rx.at('/flaky')[3].headers['webhook-id'], d.id);
  // an admin write, so audited (without the payload and its patron data)
  const audit = (await a.get(`/v1/audit?entity=webhook_deliveries&entity_id=${d.id}`)).json.data;
  assert.deepEqual(audit.map((e) => [e.action, e.before.status, e.after.status]),
    [['retry', 'delivered', 'pending']]);
  assert.ok(!('payload' in audit[0].after), 'the audit entry leaves the payload out');
  assert.equal((await a.post(`/v1/webhook-deliveries/${crypto.randomUUID()}/retry`)).status, 404);
  assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
});

test('redirects are not followed; a 2xx with a 1 MiB body (read to 64 KiB) is delivered', async () => {
  rx.plans.set('/moved', [{ status: 302, headers: { Location: `${rx.base}/moved-here` } }]);
  rx.plans.set('/big', [{ status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(1 << 20) }]);
  const moved = await addEndpoint(a, '/moved', ['topic.proposed']);
  const big = await addEndpoint(a, '/big', ['topic.proposed']);
  await a.post('/v1/topics', { title: 'Moved or big' });
  const d = await waitFor('the redirect recorded', async () =>
    (await a.get(`/v1/webhook-endpoints/${moved.id}/deliveries`)).json.data.find((x) => x.attempts === 1));
  assert.equal(d.status, 'pending', 'a 3xx is a failed attempt');
  assert.equal(d.last_status_code, 302);
  assert.equal(rx.at('/moved-here').length, 0, 'the Location was not followed');
  await waitFor('the large answer delivered', async () =>
    (await a.get(`/v1/webhook-endpoints/${big.id}/deliveries?status=delivered`)).json.data.length === 1);
  for (const ep of [moved, big]) assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
});

test('a rotated secret signs beside the new one for 24 h: deliveries verify with both', async () => {
  const ep = await addEndpoint(a, '/rotate', ['topic.proposed']);
  const rot = await a.post(`/v1/webhook-endpoints/${ep.id}/rotate-secret`);
  assert.equal(rot.status, 200, rot.text);
  assert.match(rot.json.secret, /^whsec_/);
  assert.notEqual(rot.json.secret, ep.secret);
  const until = Date.parse(rot.json.previous_secret_expires_at) - Date.now();
  assert.ok(Math.abs(until - 86400000) < 60000, rot.text);
  await a.post('/v1/topics', { title: 'During the overlap' });
  const e = await waitFor('a delivery', () => rx.at('/rotate')[0]);
  assert.equal(e.headers['webhook-signature'].split(' ').length, 2, 'one signature per active secret');
  assert.equal(verify(e, ep.secret).type, 'topic.proposed', 'the old secret verifies');
  assert.equal(verify(e, rot.json.secret).type, 'topic.proposed', 'the new secret verifies');
  assert.throws(() => verify(e, standardSecret()), 'another secret does not');

  // Once the 24 h are over (moved, not waited for), only the new one signs.
  await a.psql(`UPDATE webhook_endpoints SET previous_expires_at = now() - interval '1 second' WHERE id = '${ep.id}'`);
  await a.post('/v1/topics', { title: 'After the overlap' });
  const e2 = await waitFor('a second delivery', () => rx.at('/rotate')[1]);
  assert.equal(e2.headers['webhook-signature'].split(' ').length, 1);
  verify(e2, rot.json.secret);
  assert.throws(() => verify(e2, ep.secret), 'the old secret no longer verifies');
  assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
});

test('an endpoint failing every attempt for 5 days is disabled, and the admins are mailed', async () => {
  rx.plans.set('/down', [503]);
  const ep = await addEndpoint(a, '/down', ['topic.proposed']);
  // it has been failing for 5 days (moved, not waited for)
  await a.psql(`UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = '${ep.id}'`);
  await a.post('/v1/topics', { title: 'Into the void' });
  const off = await waitFor('the endpoint disabled', async () => {
    const r = await a.get(`/v1/webhook-endpoints/${ep.id}`);
    return r.json.enabled === false && r.json;
  });
  assert.match(off.disabled_reason, /every delivery attempt failed since/);
  assert.equal(await a.psql(`SELECT count(*) FROM outbox WHERE kind = 'webhook_endpoint_disabled' AND to_address = 'ops@example.org' AND body LIKE '%${ep.id}%'`), '1');
  await a.post('/v1/topics', { title: 'Nobody listening' });
  assert.equal(await a.psql(`SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '${ep.id}'`), '1',
    'a disabled endpoint is queued nothing');
  const [d] = (await a.get(`/v1/webhook-endpoints/${ep.id}/deliveries`)).json.data;
  assert.equal((await a.post(`/v1/webhook-deliveries/${d.id}/retry`)).status, 409, 'no retry while disabled');
  const on = await a.patch(`/v1/webhook-endpoints/${ep.id}`, { enabled: true });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.failing_since, null);
  assert.equal(on.json.disabled_reason, null);
  assert.equal((await a.post(`/v1/webhook-deliveries/${d.id}/retry`)).status, 200);
  await waitFor('the retried delivery', () => rx.at('/down').length === 2);
  await waitFor('delivered', async () =>
    (await a.get(`/v1/webhook-endpoints/${ep.id}/deliveries?status=delivered`)).json.data.length === 1);
  assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
});

test('erasing a patron scrubs their personal data from undelivered payloads', async () => {
  rx.plans.set('/erase', [500]);
  const ep = await addEndpoint(a, '/erase', ['member.started']);
  const p = await a.post('/v1/patrons', { email: uniqueEmail('gone'), name: 'Soon Gone' });
  await a.post('/v1/pledges', { patron_id: p.json.id, amount_minor: 900, currency: 'EUR', interval: 'month', provider: 'manual', status: 'active' });
  await waitFor('the failed first attempt', async () => rx.at('/erase').length === 1 &&
    (await a.psql(`SELECT attempts FROM webhook_deliveries WHERE endpoint_id = '${ep.id}'`)) === '1');
  assert.ok(rx.at('/erase')[0].body.includes('Soon Gone'));
  assert.equal((await a.del(`/v1/patrons/${p.json.id}`)).status, 204);
  await a.psql(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = '${ep.id}'`);
  await waitFor('the retry', () => rx.at('/erase').length === 2);
  const body = verify(rx.at('/erase')[1], ep.secret);
  assert.equal(body.data.email, null);
  assert.equal(body.data.name, null);
  assert.equal(await a.psql(`SELECT count(*) FROM webhook_deliveries WHERE payload::text LIKE '%Soon Gone%'`), '0');
  assert.equal((await a.del(`/v1/webhook-endpoints/${ep.id}`)).status, 204);
});

test('kill -9 while deliveries are pending loses none: they are delivered after the restart', async () => {
  const d = await startServer({ env: ENV });
  let d2;
  try {
    rx.plans.set('/crash', ['hang', 'hang', 'hang', 'hang']);
    const r = await d.post('/v1/webhook-endpoints', { url: `${rx.base}/crash`, events: ['topic.proposed'] });
    assert.equal(r.status, 201, r.text);
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await d.post('/v1/topics', { title: `crash ${i}` })).json.id);
    await waitFor('sends in flight', () => rx.at('/crash').length >= 1);
    await d.kill('SIGKILL');
    rx.releaseHung();
    assert.equal(await d.psql('SELECT count(*) FROM webhook_deliveries WHERE status = \'pending\''), '6',
      'all still pending after the crash');
    assert.ok(Number(await d.psql('SELECT count(*) FROM webhook_deliveries WHERE locked_until > now()')) >= 1,
      'some were in flight, leased to the dead instance');
    d2 = await startServer({ env: ENV, dbName: d.dbName, dbUrl: d.dbUrl, skipMigrate: true, adminKey: d.adminKey, readKey: d.readKey });
    // The dead instance's 60 s lease runs out (moved, not waited for).
    await d2.psql('UPDATE webhook_deliveries SET locked_until = now() WHERE locked_until > now()');
    await waitFor('every delivery', async () =>
      (await d2.psql('SELECT count(*) FROM webhook_deliveries WHERE status = \'delivered\'')) === '6', 20000);
    const delivered = rx.at('/crash').filter((e, i, all) => all.findIndex((x) => x.headers['webhook-id'] === e.headers['webhook-id']) === i);
    const topics = delivered.map((e) => JSON.parse(e.body).data.id).sort();
    assert.deepEqual(topics, [...ids].sort(), 'every topic announced');
  } finally {
    if (d2) await d2.stop();
    await dropDatabase(d.dbName);
  }
});

test('two instances deliver each event once to a healthy receiver', async () => {
  const b = await startServer({ env: ENV, dbName: a.dbName, dbUrl: a.dbUrl, skipMigrate: true, adminKey: a.adminKey, readKey: a.readKey });
  try {
    const ep = await addEndpoint(a, '/twice', ['topic.proposed']);
    const n = 40;
    await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? b : a).post('/v1/topics', { title: `two ${i}` })));
    await waitFor(`${n} deliveries`, () => new Set(rx.at('/twice').map((e) => e.headers['webhook-id'])).size === n, 20000);
    await sleep(1500);
    const got = rx.at('/twice');
    assert.equal(got.length, n, 'no event twice');
    for (const e of got) verify(e, ep.secret);
    assert.equal(await a.psql(`SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '${ep.id}' AND status = 'delivered' AND attempts = 1`), String(n));
  } finally {
    await b.stop();
  }
});

test('without PATROND_WEBHOOK_ALLOW_PRIVATE no loopback, private or link-local target is accepted', async () => {
  const c = await startServer();
  let connections = 0;
  const trap = net.createServer((s) => { connections++; s.destroy(); });
  await new Promise((r) => trap.listen(0, '127.0.0.1', r));
  try {
    for (const url of [
      `${rx.base}/private`, 'http://example.org/hook', 'https://127.0.0.1/hook', 'https://127.1.2.3:8443/hook',
      'https://[::1]/hook', 'https://[::ffff:127.0.0.1]/hook', 'https://10.0.0.7/hook', 'https://172.16.5.4/hook',
      'https://192.168.1.1/hook', 'https://169.254.169.254/latest/meta-data', 'https://[fe80::1]/hook',
      'https://[fd00::1]/hook', 'https://localhost/hook', 'https://0.0.0.0/hook', 'https://100.64.0.1/hook',
    ]) {
      const r = await c.post('/v1/webhook-endpoints', { url, events: ['*'] });
      assert.equal(r.status, 422, `${url} → ${r.status} ${r.text}`);
      assert.equal(r.json.errors[0].field, 'url', url);
    }
    const ok = await c.post('/v1/webhook-endpoints', { url: 'https://hooks.example.org/patrond', events: ['*'] });
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await c.patch(`/v1/webhook-endpoints/${ok.json.id}`, { url: 'https://10.1.1.1/x' })).status, 422);
    assert.equal((await c.del(`/v1/webhook-endpoints/${ok.json.id}`)).status, 204);

    // A target that turns out private only when the sender connects (here
    // stored directly, as a host name resolving to 127.0.0.1 would be) is
    // refused at send time, before a connection is made.
    const port = trap.address().port;
    await c.psql(`INSERT INTO webhook_endpoints (url, events, secret) VALUES ('https://127.0.0.1:${port}/x', '{*}', '${standardSecret()}')`);
    await c.post('/v1/topics', { title: 'To nowhere private' });
    const err = await waitFor('a refused attempt', () =>
      c.psql('SELECT last_error FROM webhook_deliveries WHERE attempts >= 1'));
    assert.match(err, /refused to connect to 127\.0\.0\.1/);
    assert.equal(connections, 0, 'no connection was made');
  } finally {
    trap.close();
    await c.stop();
  }
});
