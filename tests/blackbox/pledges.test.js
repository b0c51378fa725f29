'use strict';
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertProblem, assertInvalid, uniqueEmail, pageAll, UUID_RE, RFC3339_Z_RE } = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const PLEDGE_KEYS = ['amount_minor', 'canceled_at', 'created_at', 'currency', 'current_period_end', 'id', 'interval',
  'patron_id', 'provider', 'provider_ref', 'status', 'tier_id', 'updated_at'];

async function patron() {
  const r = await s.post('/v1/patrons', { email: uniqueEmail('pl') });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function pledge(body = {}) {
  const patronId = body.patron_id || (await patron()).id;
  const full = { patron_id: patronId, amount_minor: 5000, currency: 'UAH', interval: 'month', provider: 'manual', ...body };
  const r = await s.post('/v1/pledges', full);
  assert.equal(r.status, 201, `create pledge ${JSON.stringify(full)} → ${r.status} ${r.text}`);
  return r.json;
}

const setStatus = (id, status) => s.patch(`/v1/pledges/${id}`, { status });

describe('create', () => {
  test('POST /v1/pledges → 201 pending by default', async () => {
    const p = await patron();
    const r = await s.post('/v1/pledges', {
      patron_id: p.id, amount_minor: 5000, currency: 'UAH', interval: 'month', provider: 'manual', provider_ref: 'bank-1',
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), PLEDGE_KEYS);
    assert.match(r.json.id, UUID_RE);
    assert.equal(r.json.patron_id, p.id);
    assert.equal(r.json.amount_minor, 5000);
    assert.equal(r.json.currency, 'UAH');
    assert.equal(r.json.interval, 'month');
    assert.equal(r.json.provider, 'manual');
    assert.equal(r.json.provider_ref, 'bank-1');
    assert.equal(r.json.status, 'pending');
    assert.equal(r.json.canceled_at, null);
    assert.match(r.json.created_at, RFC3339_Z_RE);
    const g = await s.get(`/v1/pledges/${r.json.id}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, r.json);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'none', 'a pending pledge is not membership');
  });

  test('status may be given as active; current_period_end is normalised to UTC Z', async () => {
    const r = await pledge({ status: 'active', current_period_end: '2031-03-04T05:06:07+02:00', interval: 'year' });
    assert.equal(r.status, 'active');
    assert.equal(r.current_period_end, '2031-03-04T03:06:07Z');
  });

  test('unknown or malformed patron_id → 422 naming patron_id', async () => {
    for (const id of [crypto.randomUUID(), 'nope', 42, null]) {
      const r = await s.post('/v1/pledges', { patron_id: id, amount_minor: 100, currency: 'UAH', interval: 'month', provider: 'manual' });
      assertInvalid(assert, r, 'patron_id', `patron_id ${JSON.stringify(id)}`);
    }
  });

  test('amount_minor: 0, negative, too large, non-integer → 422', async () => {
    const p = await patron();
    for (const a of [0, -1, 100000001, 1.5, '100', null, 1e300]) {
      const r = await s.post('/v1/pledges', { patron_id: p.id, amount_minor: a, currency: 'UAH', interval: 'month', provider: 'manual' });
      assertInvalid(assert, r, 'amount_minor', `amount_minor ${JSON.stringify(a)}`);
    }
    assert.equal((await pledge({ patron_id: p.id, amount_minor: 100000000 })).amount_minor, 100000000);
    assert.equal((await pledge({ patron_id: p.id, amount_minor: 1 })).amount_minor, 1);
    assert.equal(await s.psql(`SELECT count(*) FROM pledges WHERE patron_id = '${p.id}'`), '2');
  });

  test('an integer literal beyond int64 is valid JSON that fails validation → 422, not 400', async () => {
    const p = await patron();
    const r = await s.request('POST', '/v1/pledges', {
      key: s.adminKey, headers: { 'Content-Type': 'application/json' },
      body: `{"patron_id":"${p.id}","amount_minor":9223372036854775808,"currency":"UAH","interval":"month","provider":"manual"}`,
    });
    assertInvalid(assert, r, 'amount_minor', 'amount_minor 2^63');
  });

  test('currency: unknown, lower case, or not configured (JPY) → 422', async () => {
    const p = await patron();
    for (const c of ['XYZ', 'uah', 'JPY', 'EURO', '', 5]) {
      const r = await s.post('/v1/pledges', { patron_id: p.id, amount_minor: 100, currency: c, interval: 'month', provider: 'manual' });
      assertInvalid(assert, r, 'currency', `currency ${JSON.stringify(c)}`);
    }
  });

  test('interval, provider, status, current_period_end, tier_id and unknown fields are validated', async () => {
    const p = await patron();
    const base = { patron_id: p.id, amount_minor: 100, currency: 'USD', interval: 'month', provider: 'manual' };
    const cases = [
      [{ interval: 'week' }, 'interval'],
      [{ interval: null }, 'interval'],
      [{ provider: undefined }, 'provider'],
      [{ provider: '' }, 'provider'],
      [{ provider: 7 }, 'provider'],
      [{ status: 'canceled' }, 'status'],
      [{ status: 'past_due' }, 'status'],
      [{ status: 'bogus' }, 'status'],
      [{ current_period_end: 'tomorrow' }, 'current_period_end'],
      [{ current_period_end: '2030-02-30T00:00:00Z' }, 'current_period_end'],
      [{ current_period_end: 1893456000 }, 'current_period_end'],
      [{ tier_id: crypto.randomUUID() }, 'tier_id'],
      [{ tier_id: 'nope' }, 'tier_id'],
      [{ discount: 5 }, 'discount'],
      [{ canceled_at: '2030-01-01T00:00:00Z' }, 'canceled_at'],
    ];
    for (const [patch, field] of cases) {
      const body = { ...base, ...patch };
      if (patch.provider === undefined && 'provider' in patch) delete body.provider;
      assertInvalid(assert, await s.post('/v1/pledges', body), field, JSON.stringify(patch));
    }
    assert.equal(await s.psql(`SELECT count(*) FROM pledges WHERE patron_id = '${p.id}'`), '0');
  });

  test('the same provider_ref twice for one provider is a 409', async () => {
    const ref = `sub_${crypto.randomBytes(4).toString('hex')}`;
    await pledge({ provider_ref: ref });
    const p = await patron();
    const r = await s.post('/v1/pledges', { patron_id: p.id, amount_minor: 100, currency: 'UAH', interval: 'month', provider: 'manual', provider_ref: ref });
    assertProblem(assert, r, 409, 'duplicate provider_ref', 'duplicate_provider_ref');
  });

  test('a pledge for an erased patron cannot be created', async () => {
    const p = await patron();
    assert.equal((await s.del(`/v1/patrons/${p.id}`)).status, 204);
    const r = await s.post('/v1/pledges', { patron_id: p.id, amount_minor: 100, currency: 'UAH', interval: 'month', provider: 'manual' });
    assert.ok(r.status === 422 || r.status === 409, `pledge for erased patron → ${r.status} ${r.text}`);
  });
});

describe('status transitions', () => {
  const ALL = ['pending', 'active', 'past_due', 'canceled', 'expired'];
  const LEGAL = {
    pending: ['active', 'expired', 'canceled'],
    active: ['past_due', 'canceled'],
    past_due: ['active', 'canceled'],
    canceled: [],
    expired: [],
  };
  const PATH_TO = {
    pending: [],
    active: ['active'],
    past_due: ['active', 'past_due'],
    canceled: ['canceled'],
    expired: ['expired'],
  };

  for (const from of ALL) {
    test(`from ${from}`, async () => {
      for (const to of ALL) {
        if (to === from) continue;
        const pl = await pledge();
        for (const step of PATH_TO[from]) {
          const r = await setStatus(pl.id, step);
          assert.equal(r.status, 200, `setup ${step}: ${r.text}`);
        }
        const r = await setStatus(pl.id, to);
        if (LEGAL[from].includes(to)) {
          assert.equal(r.status, 200, `${from} → ${to} should be allowed: ${r.status} ${r.text}`);
          assert.equal(r.json.status, to);
        } else {
          assertProblem(assert, r, 409, `${from} → ${to} should be 409`, 'invalid_transition');
          const g = await s.get(`/v1/pledges/${pl.id}`);
          assert.equal(g.json.status, from, `${from} → ${to} refused but status changed`);
        }
      }
    });
  }

  test('canceling sets canceled_at; other transitions do not', async () => {
    const pl = await pledge();
    const a = await setStatus(pl.id, 'active');
    assert.equal(a.json.canceled_at, null);
    const pd = await setStatus(pl.id, 'past_due');
    assert.equal(pd.json.canceled_at, null);
    const c = await setStatus(pl.id, 'canceled');
    assert.equal(c.status, 200, c.text);
    assert.match(String(c.json.canceled_at), RFC3339_Z_RE);
    assert.ok(Math.abs(Date.now() - Date.parse(c.json.canceled_at)) < 120000);
    const again = await setStatus(pl.id, 'active');
    assertProblem(assert, again, 409, 'canceled → active', 'invalid_transition');
    assert.equal((await s.get(`/v1/pledges/${pl.id}`)).json.canceled_at, c.json.canceled_at);
  });

  test('an unknown status value is 422, unknown fields are 422', async () => {
    const pl = await pledge();
    assertInvalid(assert, await setStatus(pl.id, 'paused'), 'status', 'status paused');
    assertInvalid(assert, await setStatus(pl.id, 5), 'status', 'status 5');
    assertInvalid(assert, await s.patch(`/v1/pledges/${pl.id}`, { colour: 'red' }), 'colour', 'unknown field');
  });

  test('PATCH on an unknown pledge → 404', async () => {
    assertProblem(assert, await setStatus(crypto.randomUUID(), 'active'), 404);
  });

  test('10 parallel cancels: no 5xx, canceled exactly once', async () => {
    const pl = await pledge({ status: 'active' });
    const rs = await Promise.all(Array.from({ length: 10 }, () => setStatus(pl.id, 'canceled')));
    const statuses = rs.map((r) => r.status);
    assert.ok(statuses.every((x) => x === 200 || x === 409), `statuses ${statuses}`);
    assert.ok(statuses.includes(200), `one cancel succeeded: ${statuses}`);
    const oks = rs.filter((r) => r.status === 200).map((r) => r.json.canceled_at);
    assert.equal(new Set(oks).size, 1, `canceled_at set once: ${oks}`);
    const n = await s.psql(`SELECT count(*) FROM audit_log WHERE entity_id = '${pl.id}' AND after->>'status' = 'canceled' AND before->>'status' <> 'canceled'`);
    assert.equal(n, '1', 'exactly one active→canceled write audited');
  });

  test('parallel conflicting transitions leave a consistent state', async () => {
    const pl = await pledge();
    const rs = await Promise.all(['active', 'expired', 'canceled', 'active', 'expired', 'canceled']
      .map((st) => setStatus(pl.id, st)));
    assert.ok(rs.every((r) => r.status === 200 || r.status === 409), `statuses ${rs.map((r) => r.status)}`);
    const final = (await s.get(`/v1/pledges/${pl.id}`)).json;
    assert.ok(['active', 'expired', 'canceled'].includes(final.status));
    // the audit trail is a valid chain of transitions from pending
    const chain = (await s.psql(`SELECT before->>'status' || '>' || (after->>'status') FROM audit_log
      WHERE entity_id = '${pl.id}' AND action = 'update' ORDER BY seq`)).split('\n').filter(Boolean);
    let cur = 'pending';
    for (const link of chain) {
      const [b, a] = link.split('>');
      assert.equal(b, cur, `audit chain ${chain}`);
      if (a !== b) assert.ok(LEGAL[b].includes(a), `illegal transition recorded: ${link}`);
      cur = a;
    }
    assert.equal(cur, final.status);
  });
});

describe('patron membership', () => {
  test('none → member (active) → lapsed (canceled)', async () => {
    const p = await patron();
    const pl = await pledge({ patron_id: p.id });
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'none');
    assert.equal((await setStatus(pl.id, 'active')).status, 200);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'member');
    const members = await pageAll(s, '/v1/patrons?status=member', { limit: 500 });
    assert.ok(members.some((x) => x.id === p.id), 'listed under status=member');
    assert.equal((await setStatus(pl.id, 'canceled')).status, 200);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'lapsed');
    const lapsed = await pageAll(s, '/v1/patrons?status=lapsed', { limit: 500 });
    assert.ok(lapsed.some((x) => x.id === p.id), 'listed under status=lapsed');
  });

  test('past_due within grace is still a member', async () => {
    const p = await patron();
    const pl = await pledge({ patron_id: p.id, status: 'active', current_period_end: new Date(Date.now() + 86400e3).toISOString() });
    assert.equal((await setStatus(pl.id, 'past_due')).status, 200);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'member');
  });

  test('an expired never-paid pledge does not make the patron lapsed', async () => {
    const p = await patron();
    const pl = await pledge({ patron_id: p.id });
    assert.equal((await setStatus(pl.id, 'expired')).status, 200);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'none');
  });

  test('one active pledge among canceled ones keeps membership', async () => {
    const p = await patron();
    const a = await pledge({ patron_id: p.id, status: 'active' });
    await pledge({ patron_id: p.id, status: 'active' });
    assert.equal((await setStatus(a.id, 'canceled')).status, 200);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.status, 'member');
  });
});

describe('tier derivation', () => {
  let tiers;
  before(async () => {
    tiers = {};
    for (const [k, amount, currency] of [['a', 5000, 'GBP'], ['b', 10000, 'GBP'], ['c', 20000, 'GBP'], ['usd', 100, 'USD']]) {
      const r = await s.post('/v1/tiers', { name: `T-${k}`, amount_minor: amount, currency });
      assert.equal(r.status, 201, r.text);
      tiers[k] = r.json.id;
    }
  });

  const cases = [
    ['month 4999 → none', { amount_minor: 4999, interval: 'month' }, null],
    ['month 5000 → a (boundary)', { amount_minor: 5000, interval: 'month' }, 'a'],
    ['month 12000 → b', { amount_minor: 12000, interval: 'month' }, 'b'],
    ['month 10000 → b (boundary)', { amount_minor: 10000, interval: 'month' }, 'b'],
    ['month 99999 → c', { amount_minor: 99999, interval: 'month' }, 'c'],
    ['year 240000 (20000/month) → c', { amount_minor: 240000, interval: 'year' }, 'c'],
    ['year 119999 (9999.9/month) → a', { amount_minor: 119999, interval: 'year' }, 'a'],
    ['year 120000 (10000/month) → b', { amount_minor: 120000, interval: 'year' }, 'b'],
    ['year 59999 (<5000/month) → none', { amount_minor: 59999, interval: 'year' }, null],
  ];
  for (const [name, body, want] of cases) {
    test(name, async () => {
      const pl = await pledge({ currency: 'GBP', ...body });
      assert.equal(pl.tier_id, want ? tiers[want] : null);
      const g = await s.get(`/v1/pledges/${pl.id}`);
      assert.equal(g.json.tier_id, want ? tiers[want] : null);
    });
  }

  test('tiers of another currency are never used', async () => {
    const pl = await pledge({ currency: 'EUR', amount_minor: 1000000 });
    assert.equal(pl.tier_id, null);
    const usd = await pledge({ currency: 'USD', amount_minor: 1000000 });
    assert.equal(usd.tier_id, tiers.usd);
  });

  test('an explicit tier_id wins', async () => {
    const pl = await pledge({ currency: 'GBP', amount_minor: 100000, tier_id: tiers.a });
    assert.equal(pl.tier_id, tiers.a);
  });
});

describe('list', () => {
  test('filters patron_id, status, provider; newest first; pages once each', async () => {
    const p = await patron();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await pledge({ patron_id: p.id, provider: i % 2 ? 'manual' : 'stripe', status: i < 2 ? 'active' : 'pending' }));
    const mine = await pageAll(s, `/v1/pledges?patron_id=${p.id}`, { limit: 2 });
    assert.deepEqual(mine.map((x) => x.id), made.map((x) => x.id).reverse(), 'newest first, all once');

    const active = await pageAll(s, `/v1/pledges?patron_id=${p.id}&status=active`);
    assert.deepEqual(active.map((x) => x.id).sort(), [made[0].id, made[1].id].sort());
    const stripe = await pageAll(s, `/v1/pledges?patron_id=${p.id}&provider=stripe`);
    assert.deepEqual(stripe.map((x) => x.id).sort(), [made[0].id, made[2].id, made[4].id].sort());
    const allActive = await pageAll(s, '/v1/pledges?status=active', { limit: 500 });
    assert.ok(allActive.every((x) => x.status === 'active'));
    const none = await s.get(`/v1/pledges?patron_id=${crypto.randomUUID()}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.json, { data: [], next_cursor: null });
  });

  test('invalid filters are 422', async () => {
    assertInvalid(assert, await s.get('/v1/pledges?status=paused'), 'status', 'status=paused');
    const r = await s.get('/v1/pledges?patron_id=nope');
    assert.ok(r.status === 422 || r.status === 400, `patron_id=nope → ${r.status}`);
    assertInvalid(assert, await s.get('/v1/pledges?limit=0'), 'limit');
  });
});

describe('configuration', () => {
  test('PATROND_MAX_AMOUNT_MINOR and PATROND_CURRENCIES are honoured', async () => {
    const c = await startServer({ env: { PATROND_MAX_AMOUNT_MINOR: '1000', PATROND_CURRENCIES: 'JPY,USD' } });
    try {
      const p = await c.post('/v1/patrons', { email: uniqueEmail() });
      assert.equal(p.status, 201);
      const mk = (amount_minor, currency) => c.post('/v1/pledges', { patron_id: p.json.id, amount_minor, currency, interval: 'month', provider: 'manual' });
      assert.equal((await mk(1000, 'JPY')).status, 201, 'JPY configured');
      assertInvalid(assert, await mk(1001, 'USD'), 'amount_minor', 'over configured max');
      assertInvalid(assert, await mk(100, 'UAH'), 'currency', 'UAH not configured');
    } finally {
      await c.stop();
    }
  });
});
