'use strict';
// Webhooks while the database is down (SPEC §4 "Webhooks" 4.): 503 with
// Retry-After so the provider retries, and the retry after recovery is
// applied exactly once. Runs its own cluster so it can stop it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, privateCluster, assertProblem, uniqueEmail, sleep } = require('./lib/harness');
const { standardSecret, msgId, standardBody, sendStandard } = require('./lib/webhooks');

const SECRET = standardSecret();
let cluster, s;

before(async () => {
  cluster = privateCluster('patrond-wh-outage-');
  const url = await cluster.start();
  s = await startServer({ dbUrl: url, dbName: 'patrond', env: { PATROND_STANDARD_WEBHOOK_SECRET: SECRET } });
});

after(async () => {
  try {
    await s?.stop();
  } finally {
    await cluster?.remove();
  }
});

test('a webhook during an outage is 503 + Retry-After, and its retry applies once', async () => {
  const id = msgId();
  const sub = `sub_outage_${Date.now()}`;
  const body = standardBody('payment.succeeded', {
    email: uniqueEmail('outage'), subscription_id: sub, payment_id: `pay_${sub}`, amount_minor: 500, currency: 'USD',
  });
  await cluster.stop();
  const down = await sendStandard(s, body, { id, secret: SECRET });
  assertProblem(assert, down, 503, 'webhook during outage');
  assert.match(String(down.headers['retry-after']), /^\d+$/);
  // a forgery is still refused without the database
  assertProblem(assert, await sendStandard(s, body, { id, secret: standardSecret() }), 401, 'forged during outage');

  await cluster.start();
  let res;
  const deadline = Date.now() + 15000;
  do {
    res = await sendStandard(s, body, { id, secret: SECRET });
    if (res.status === 200) break;
    await sleep(200);
  } while (Date.now() < deadline);
  assert.equal(res.status, 200, res.text);
  assert.equal((await sendStandard(s, body, { id, secret: SECRET })).status, 200);
  assert.equal(await s.psql(`SELECT count(*) FROM payments WHERE provider_payment_id = 'pay_${sub}'`), '1');
  assert.equal(await s.psql(`SELECT status FROM webhook_events WHERE event_key = '${id}'`), 'applied');
});
