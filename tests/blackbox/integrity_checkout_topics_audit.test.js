'use strict';
// Issue 13, items 6 and 7 (SPEC §4 Checkout, Topics, Audit): checkout's
// return_url stays on our own origins; public topic reads never name a
// patron; webhook replays and admin changes to topics and rounds are in
// the audit trail and filterable by entity.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, assertInvalid, uniqueEmail, pageAll, UUID_RE, activeMember,
} = require('./lib/harness');
const { standardSecret, standardBody, sendStandard, msgId } = require('./lib/webhooks');

const PUBLIC_URL = 'https://members.example.org/support';
const LIQPAY_PRIVATE = 'sandbox_private_integrity';
const SECRET = standardSecret();
const HOUR = 3600 * 1000;
const iso = (msFromNow) => new Date(Date.now() + msFromNow).toISOString();

let s, adminKeyId;
before(async () => {
  s = await startServer({
    env: {
      PATROND_PUBLIC_URL: PUBLIC_URL,
      PATROND_CORS_ORIGINS: 'https://news.example.org, http://localhost:3000',
      PATROND_CURRENCIES: 'UAH,USD',
      PATROND_LIQPAY_PUBLIC_KEY: 'sandbox_i00000013',
      PATROND_LIQPAY_PRIVATE_KEY: LIQPAY_PRIVATE,
      PATROND_WAYFORPAY_MERCHANT: 'test_merch_n13',
      PATROND_WAYFORPAY_SECRET: 'integrity-secret',
      PATROND_STANDARD_WEBHOOK_SECRET: SECRET,
      PATROND_CHECKOUT_RATE_LIMIT: '100000',
    },
  });
  const hash = crypto.createHash('sha256').update(s.adminKey).digest('hex');
  adminKeyId = await s.psql(`SELECT id FROM api_keys WHERE key_hash = '\\x${hash}'::bytea`);
  assert.match(adminKeyId, UUID_RE);
});
after(async () => { await s?.stop(); });

describe('checkout return_url', () => {
  const order = (extra) => ({
    email: uniqueEmail('ret'), amount_minor: 5000, currency: 'UAH', interval: 'month', provider: 'liqpay', ...extra,
  });
  const pledgesOf = async (email) => Number(await s.psql(
    `SELECT count(*) FROM pledges p JOIN patrons pa ON pa.id = p.patron_id WHERE lower(pa.email) = lower('${email}')`));

  const outside = [
    'https://evil.example/thanks',
    'https://news.example.org.evil.com/thanks',
    'https://news.example.org@evil.com/thanks',
    'https://evil.com\\@news.example.org/',
    'https://news.example.org:8443/thanks',
    'http://news.example.org/thanks',
    'https://members.example.org:444/support',
    'http://localhost:3001/',
    '//evil.com/thanks',
    'javascript:alert(1)',
  ];
  for (const provider of ['liqpay', 'wayforpay']) {
    test(`${provider}: an address outside our origins is 422 on return_url, and nothing is created`, async () => {
      for (const url of outside) {
        const body = order({ provider, return_url: url });
        const r = await s.request('POST', '/v1/checkout', { body });
        assertInvalid(assert, r, 'return_url', url);
        assert.equal(r.json.errors.length, 1, `only return_url is wrong: ${r.text}`);
        assert.equal(await pledgesOf(body.email), 0, `no pledge for ${url}`);
      }
    });
  }

  test('an outside return_url is reported with the other problems at once', async () => {
    const r = await s.request('POST', '/v1/checkout', { body: order({ amount_minor: 0, return_url: 'https://evil.example/' }) });
    assertInvalid(assert, r, 'return_url');
    assert.deepEqual(r.json.errors.map((e) => e.field).sort(), ['amount_minor', 'return_url']);
  });

  test('the public URL\'s origin and each CORS origin are accepted and signed into the form', async () => {
    const allowed = [
      'https://members.example.org/donate/thanks',
      'https://news.example.org/thanks?x=1',
      'HTTPS://News.Example.ORG:443/ok',
      'http://localhost:3000/',
    ];
    for (const url of allowed) {
      const lp = await s.request('POST', '/v1/checkout', { body: order({ return_url: url }) });
      assert.equal(lp.status, 201, `${url}: ${lp.text}`);
      const data = lp.json.redirect.fields.data;
      const d = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
      assert.equal(d.result_url, url);
      assert.equal(lp.json.redirect.fields.signature,
        crypto.createHash('sha1').update(LIQPAY_PRIVATE + data + LIQPAY_PRIVATE).digest('base64'));
      const wfp = await s.request('POST', '/v1/checkout', { body: order({ provider: 'wayforpay', return_url: url }) });
      assert.equal(wfp.status, 201, `${url}: ${wfp.text}`);
      assert.equal(wfp.json.redirect.fields.returnUrl, url);
    }
    const none = await s.request('POST', '/v1/checkout', { body: order({}) });
    assert.equal(none.status, 201, none.text);
  });
});

// A patron with a session and an active manual pledge.
const member = () => activeMember(s, uniqueEmail('prop'));

function assertPublicTopic(t, proposedByMember, where) {
  assert.equal(t.proposed_by_member, proposedByMember, `${where}: proposed_by_member`);
  assert.ok(!('proposed_by' in t), `${where}: no proposed_by in ${JSON.stringify(t)}`);
}

describe('topics privacy', () => {
  let m, proposed, newsroom;
  before(async () => {
    m = await member();
    const r = await s.request('POST', '/v1/topics', { key: m.token, body: { title: 'Our street\'s trees' } });
    assert.equal(r.status, 201, r.text);
    proposed = r.json;
    const n = await s.post('/v1/topics', { title: 'City budget' });
    assert.equal(n.status, 201, n.text);
    newsroom = n.json;
  });

  test('the proposer\'s answer and every public topic read carry proposed_by_member, never a patron id', async () => {
    assertPublicTopic(proposed, true, 'the proposal');
    const one = await s.request('GET', `/v1/topics/${proposed.id}`);
    assert.equal(one.status, 200, one.text);
    assertPublicTopic(one.json, true, 'GET one');
    assert.ok(!one.text.includes(m.id), 'no patron id in GET one');
    assertPublicTopic((await s.request('GET', `/v1/topics/${newsroom.id}`)).json, false, 'newsroom topic');

    const list = await s.request('GET', '/v1/topics?limit=500');
    assert.equal(list.status, 200, list.text);
    assert.ok(!list.text.includes(m.id), 'no patron id in the list');
    for (const t of list.json.data) assertPublicTopic(t, t.id === proposed.id, `list ${t.id}`);
    assert.ok(list.json.data.some((t) => t.id === proposed.id));

    // a patron's session or an unknown token reads like anyone
    for (const key of [m.token, 'not-a-key']) {
      const r = await s.request('GET', `/v1/topics/${proposed.id}`, { key });
      assert.equal(r.status, 200, r.text);
      assertPublicTopic(r.json, true, `with token ${key.slice(0, 6)}`);
      const l = await s.request('GET', '/v1/topics?limit=500', { key });
      assert.ok(!l.text.includes(m.id), 'no patron id in the list for a non-admin token');
    }
  });

  test('admin and read keys also see proposed_by', async () => {
    for (const key of [s.adminKey, s.readKey]) {
      const one = await s.request('GET', `/v1/topics/${proposed.id}`, { key });
      assert.equal(one.status, 200, one.text);
      assert.equal(one.json.proposed_by, m.id);
      assert.equal(one.json.proposed_by_member, true);
      const list = await s.request('GET', '/v1/topics?limit=500', { key });
      // What a reader sees depends on the key: no shared cache may hand an
      // admin's answer to the public.
      for (const res of [one, list]) assert.match(res.headers.vary ?? '', /authorization/i);
      const mine = list.json.data.find((t) => t.id === proposed.id);
      assert.equal(mine.proposed_by, m.id);
      const theirs = list.json.data.find((t) => t.id === newsroom.id);
      assert.equal(theirs.proposed_by, null);
      assert.equal(theirs.proposed_by_member, false);
    }
    const patched = await s.patch(`/v1/topics/${proposed.id}`, { status: 'open' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.proposed_by, m.id);
    assert.equal(patched.json.proposed_by_member, true);
  });

  test('rounds and tallies, open and frozen, name no patron', async () => {
    const round = await s.post('/v1/rounds', {
      title: 'Privacy round', topic_ids: [proposed.id, newsroom.id], opens_at: iso(-60000), closes_at: iso(HOUR),
    });
    assert.equal(round.status, 201, round.text);
    const ballot = await s.request('PUT', `/v1/rounds/${round.json.id}/ballot`,
      { key: m.token, body: { topic_ids: [proposed.id] } });
    assert.equal(ballot.status, 200, ballot.text);
    const reads = [`/v1/rounds/${round.json.id}`, '/v1/rounds/current', '/v1/rounds?limit=500',
      `/v1/rounds/${round.json.id}/tally`, '/v1/rounds/current/tally'];
    for (const path of reads) {
      const r = await s.request('GET', path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.ok(!r.text.includes(m.id), `no patron id in ${path}`);
    }
    const tally = await s.request('GET', `/v1/rounds/${round.json.id}/tally`);
    assert.equal(tally.json.topics.find((t) => t.topic_id === proposed.id).votes, 1, 'the ballot counts');
    assert.equal((await s.post(`/v1/rounds/${round.json.id}/close`)).status, 200);
    for (const path of [`/v1/rounds/${round.json.id}`, `/v1/rounds/${round.json.id}/tally`]) {
      const r = await s.request('GET', path);
      assert.equal(r.status, 200, r.text);
      assert.ok(!r.text.includes(m.id), `no patron id in frozen ${path}`);
    }
  });
});

describe('audit', () => {
  const auditOf = async (entity, id) => {
    const r = await s.get(`/v1/audit?entity=${entity}&entity_id=${id}&limit=500`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.every((a) => a.entity === entity && a.entity_id === id), r.text);
    return r.json.data.reverse(); // oldest first
  };

  test('admin creates, patches and deletes of topics are listed under entity=topics', async () => {
    const t = await s.post('/v1/topics', { title: 'Audited topic' }, { headers: { 'X-Request-Id': 'topic-create-13' } });
    assert.equal(t.status, 201, t.text);
    assert.equal((await s.patch(`/v1/topics/${t.json.id}`, { title: 'Audited topic, renamed' })).status, 200);
    assert.equal((await s.del(`/v1/topics/${t.json.id}`)).status, 204);
    const rows = await auditOf('topics', t.json.id);
    assert.deepEqual(rows.map((a) => a.action), ['create', 'update', 'delete']);
    assert.ok(rows.every((a) => a.actor === adminKeyId), 'actor is the admin key id');
    assert.equal(rows[0].request_id, 'topic-create-13');
    assert.equal(rows[0].before, null);
    assert.equal(rows[0].after.title, 'Audited topic');
    assert.equal(rows[1].before.title, 'Audited topic');
    assert.equal(rows[1].after.title, 'Audited topic, renamed');
    assert.equal(rows[2].after, null);

    const all = await pageAll(s, '/v1/audit?entity=topics', { limit: 500 });
    assert.ok(all.length >= 3 && all.every((a) => a.entity === 'topics'));
  });

  test('admin creates, patches and closes of rounds are listed under entity=rounds', async () => {
    const topic = await s.post('/v1/topics', { title: 'Round audit topic' });
    const r = await s.post('/v1/rounds', {
      title: 'Audited round', topic_ids: [topic.json.id], opens_at: iso(HOUR), closes_at: iso(2 * HOUR),
    });
    assert.equal(r.status, 201, r.text);
    assert.equal((await s.patch(`/v1/rounds/${r.json.id}`, { title: 'Audited round, renamed' })).status, 200);
    assert.equal((await s.post(`/v1/rounds/${r.json.id}/close`)).status, 200);
    const rows = await auditOf('rounds', r.json.id);
    assert.deepEqual(rows.map((a) => a.action).slice(0, 2), ['create', 'update']);
    assert.ok(rows.length >= 3, `the close is audited: ${JSON.stringify(rows)}`);
    assert.ok(rows.every((a) => a.actor === adminKeyId));
    assert.equal(rows[1].after.title, 'Audited round, renamed');
    const closing = rows.slice(2);
    assert.ok(closing.some((a) => a.before.closed_at === null && a.after.closed_at !== null),
      `the close is an entry: ${JSON.stringify(closing)}`);
    assert.ok(closing.some((a) => a.before.result === null && a.after.result), 'so is the frozen result');

    const all = await pageAll(s, '/v1/audit?entity=rounds', { limit: 500 });
    assert.ok(all.some((a) => a.entity_id === r.json.id) && all.every((a) => a.entity === 'rounds'));
  });

  test('a webhook replay is audited as replay, without the payload; a refused one is not', async () => {
    const email = uniqueEmail('replayed');
    // an event that failed: a refund for a subscription nobody has
    const orphan = `sub_${crypto.randomBytes(6).toString('hex')}`;
    const failedSend = await sendStandard(s, standardBody('payment.refunded', {
      email, name: 'Private Name', subscription_id: orphan, payment_id: `re_${orphan}`, amount_minor: 700, currency: 'USD',
    }), { id: msgId(), secret: SECRET });
    assert.equal(failedSend.status, 200, failedSend.text);
    const failed = (await s.get('/v1/webhook-events?status=failed&limit=500')).json.data[0];
    assert.ok(failed, 'a failed event to replay');

    const first = await s.post(`/v1/webhook-events/${failed.id}/replay`, undefined, { headers: { 'X-Request-Id': 'replay-13' } });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.status, 'failed');
    let rows = await auditOf('webhook_events', failed.id);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const [row] = rows;
    assert.equal(row.action, 'replay');
    assert.equal(row.actor, adminKeyId);
    assert.equal(row.request_id, 'replay-13');
    assert.equal(row.before.id, failed.id);
    assert.equal(row.before.status, 'failed');
    assert.equal(row.after.attempts, row.before.attempts + 1);
    for (const side of [row.before, row.after]) {
      for (const k of ['payload', 'event', 'headers']) assert.ok(!(k in side), `no ${k} in ${JSON.stringify(side)}`);
    }
    const text = JSON.stringify(row);
    assert.ok(!text.includes(email), 'no e-mail address in the audit entry');

    // once the pledge exists the replay applies it, and says so
    const p = await s.post('/v1/patrons', { email: uniqueEmail('owner') });
    const pl = await s.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 700, currency: 'USD', interval: 'month', provider: 'standard',
      provider_ref: orphan, status: 'active',
    });
    assert.equal(pl.status, 201, pl.text);
    const second = await s.post(`/v1/webhook-events/${failed.id}/replay`);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.status, 'applied');
    rows = await auditOf('webhook_events', failed.id);
    assert.deepEqual(rows.map((a) => a.action), ['replay', 'replay']);
    assert.equal(rows[1].after.status, 'applied');
    assert.equal(rows[1].after.pledge_id, pl.json.id);

    // an applied event cannot be replayed, and the refusal leaves no entry
    const refused = await s.post(`/v1/webhook-events/${failed.id}/replay`);
    assert.equal(refused.status, 409, refused.text);
    assert.equal((await auditOf('webhook_events', failed.id)).length, 2);

    const all = await pageAll(s, '/v1/audit?entity=webhook_events', { limit: 500 });
    assert.ok(all.length >= 2 && all.every((a) => a.entity === 'webhook_events' && a.action === 'replay'));
    assert.ok(!JSON.stringify(all).includes(email) && !JSON.stringify(all).includes('Private Name'));
  });
});
