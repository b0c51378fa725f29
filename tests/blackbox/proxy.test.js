'use strict';
// PATROND_TRUSTED_PROXIES: behind a trusted proxy the client address (rate
// limits, access log) comes from X-Forwarded-For; from anyone else the
// header is ignored.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, run, BIN, assertProblem, uniqueEmail, sleep } = require('./lib/harness');

const PATREON_URL = 'https://www.patreon.com/c/example';

const order = () => ({
  email: uniqueEmail('px'), amount_minor: 500, currency: 'USD', interval: 'month', provider: 'patreon',
});

function accessLines(srv) {
  return srv.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .filter((l) => l.path === '/v1/checkout' && l.status !== undefined);
}

function startWith(trusted) {
  return startServer({
    env: {
      PATROND_CHECKOUT_RATE_LIMIT: '2',
      PATROND_PATREON_CAMPAIGN_URL: PATREON_URL,
      ...(trusted === null ? {} : { PATROND_TRUSTED_PROXIES: trusted }),
    },
  });
}

describe('peer 127.0.0.1 is a trusted proxy', () => {
  let s;
  before(async () => { s = await startWith('10.0.0.0/8, 127.0.0.1,::1'); });
  after(async () => { await s?.stop(); });

  const post = (xff) => s.request('POST', '/v1/checkout', {
    body: order(), headers: xff === undefined ? {} : { 'X-Forwarded-For': xff },
  });

  test('the per-address limit keys on the forwarded address', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await post('203.0.113.1')).status, 201);
    const limited = await post('203.0.113.1');
    assertProblem(assert, limited, 429);
    assert.match(String(limited.headers['retry-after']), /^[1-9]\d*$/);
    // another client behind the same proxy has its own allowance
    assert.equal((await post('203.0.113.2')).status, 201);
    // what the client wrote left of the proxy's entry changes nothing
    assertProblem(assert, await post('198.51.100.77, 203.0.113.1'), 429);
    // a chain of trusted proxies: the right-most untrusted entry is the client
    assertProblem(assert, await post('203.0.113.1, 10.1.2.3'), 429);
    assert.equal((await post('203.0.113.3, 10.1.2.3')).status, 201);
  });

  test('several X-Forwarded-For lines count in order; garbage falls back to the trusted hop', async () => {
    assert.equal((await post(['203.0.113.50', '198.51.100.9'])).status, 201);
    assert.equal((await post(['203.0.113.51', '198.51.100.9'])).status, 201);
    assertProblem(assert, await post(['203.0.113.52', '198.51.100.9']), 429);
    // no header, or one that names no address: the proxy's own address
    assert.equal((await post(undefined)).status, 201);
    assert.equal((await post('not-an-address')).status, 201);
    assertProblem(assert, await post('203.0.113.60:443'), 429);
  });

  test('the access log names the forwarded client', async () => {
    await post('192.0.2.44');
    // the access line is written once the response is done, a moment after it arrives
    let lines = accessLines(s);
    for (let i = 0; i < 100 && !lines.some((l) => l.client === '192.0.2.44'); i++) {
      await sleep(20);
      lines = accessLines(s);
    }
    assert.ok(lines.some((l) => l.client === '192.0.2.44'), JSON.stringify(lines.slice(-3)));
    assert.ok(lines.some((l) => l.client === '127.0.0.1'), 'requests without the header log the peer');
    assert.ok(!lines.some((l) => l.client === 'not-an-address'));
  });
});

describe('no trusted proxies (the default)', () => {
  let s;
  before(async () => { s = await startWith(null); });
  after(async () => { await s?.stop(); });

  test('X-Forwarded-For is ignored: the limit keys on the peer', async () => {
    const post = (xff) => s.request('POST', '/v1/checkout', { body: order(), headers: { 'X-Forwarded-For': xff } });
    assert.equal((await post('203.0.113.1')).status, 201);
    assert.equal((await post('203.0.113.2')).status, 201);
    assertProblem(assert, await post('203.0.113.3'), 429);
    let lines = accessLines(s);
    for (let i = 0; i < 100 && lines.length < 3; i++) {
      await sleep(20);
      lines = accessLines(s);
    }
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.client === '127.0.0.1'), JSON.stringify(lines));
  });
});

describe('a peer outside the trusted list', () => {
  let s;
  before(async () => { s = await startWith('10.0.0.0/8,2001:db8::/32'); });
  after(async () => { await s?.stop(); });

  test('its X-Forwarded-For is not believed', async () => {
    const post = (xff) => s.request('POST', '/v1/checkout', { body: order(), headers: { 'X-Forwarded-For': xff } });
    assert.equal((await post('203.0.113.1')).status, 201);
    assert.equal((await post('203.0.113.2')).status, 201);
    assertProblem(assert, await post('203.0.113.3'), 429);
  });
});

test('a bad PATROND_TRUSTED_PROXIES stops start-up naming the variable and the entry', async () => {
  const r = await run(BIN, ['serve'], {
    env: { PATROND_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/33', DATABASE_URL: 'host=/nonexistent dbname=x' },
    timeout: 10000,
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /PATROND_TRUSTED_PROXIES/);
  assert.match(r.stderr, /10\.0\.0\.0\/33/);
});
