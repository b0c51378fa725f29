'use strict';
// Topics, rounds, ballots and the tally (SPEC §4): membership rules, tally
// order and ties, conditional GETs, freezing, and ballots under concurrency.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, assertProblem, assertInvalid, uniqueEmail, sleep, UUID_RE, RFC3339_Z_RE,
} = require('./lib/harness');
const harness = require('./lib/harness');

let srv;

before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.stop(); });

const iso = (msFromNow) => new Date(Date.now() + msFromNow).toISOString();
const HOUR = 3600 * 1000;

const sessionsFor = (ids) => harness.sessionsFor(srv, ids);

// A patron with a session; `pledge` (fields of POST /v1/pledges) makes a member.
async function patron({ pledge } = {}) {
  const p = await srv.post('/v1/patrons', { email: uniqueEmail('voter') });
  assert.equal(p.status, 201, p.text);
  if (pledge) {
    const pl = await srv.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 500, currency: 'USD', interval: 'month',
      provider: 'manual', status: 'active', ...pledge,
    });
    assert.equal(pl.status, 201, pl.text);
  }
  const [token] = await sessionsFor([p.json.id]);
  return { id: p.json.id, token };
}
const member = (pledge = {}) => patron({ pledge });

// `count` members in two statements, for the load test.
async function bulkMembers(count) {
  const tag = crypto.randomBytes(4).toString('hex');
  const ids = (await srv.psql(
    `WITH p AS (INSERT INTO patrons (email)
                SELECT 'bulk-' || g || '-${tag}@example.org' FROM generate_series(1, ${count}) g
                RETURNING id)
     INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
     SELECT id, 500, 'USD', 'month', 'manual', 'active', now() FROM p RETURNING patron_id`,
  )).split('\n').filter((l) => UUID_RE.test(l)); // psql adds the command tag
  assert.equal(ids.length, count);
  const tokens = await sessionsFor(ids);
  return ids.map((id, i) => ({ id, token: tokens[i] }));
}

const as = (who, method, path, body) => srv.request(method, path, { key: who.token, body });
const vote = (who, roundId, topicIds) => as(who, 'PUT', `/v1/rounds/${roundId}/ballot`, { topic_ids: topicIds });
const tally = (roundId, headers = {}) => srv.request('GET', `/v1/rounds/${roundId}/tally`, { headers });

async function topics(n, prefix = 'Topic') {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = await srv.post('/v1/topics', { title: `${prefix} ${i + 1}`, description: 'why it matters' });
    assert.equal(t.status, 201, t.text);
    out.push(t.json.id);
  }
  return out;
}

async function openRound(topicIds, extra = {}) {
  const r = await srv.post('/v1/rounds', {
    title: 'What next?', topic_ids: topicIds, opens_at: iso(-60000), closes_at: iso(HOUR), ...extra,
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const byTopic = (t) => Object.fromEntries(t.topics.map((x) => [x.topic_id, x]));

test('topics: admin CRUD, validation and public reads', async () => {
  const created = await srv.post('/v1/topics', { title: 'Housing costs', description: 'Rents doubled' });
  assert.equal(created.status, 201, created.text);
  const t = created.json;
  assert.match(t.id, UUID_RE);
  assert.equal(t.status, 'open');
  assert.equal(t.proposed_by, null);
  assert.equal(t.proposed_by_member, false);
  assert.equal(t.covered_url, null);
  assert.match(t.created_at, RFC3339_Z_RE);
  assert.deepEqual(Object.keys(t).sort(), ['covered_url', 'created_at', 'description', 'id',
    'proposed_by', 'proposed_by_member', 'status', 'title', 'updated_at']);

  assertInvalid(assert, await srv.post('/v1/topics', { title: '' }), 'title');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x'.repeat(201) }), 'title');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x', description: 'd'.repeat(5001) }), 'description');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x', status: 'maybe' }), 'status');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x', status: 'covered' }), 'covered_url');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x', covered_url: 'https://n.example/a' }), 'covered_url');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x', status: 'covered', covered_url: 'ftp://x' }), 'covered_url');
  assertInvalid(assert, await srv.post('/v1/topics', { title: 'x', colour: 'red' }), 'colour');

  const pub = await srv.request('GET', `/v1/topics/${t.id}`);
  assert.equal(pub.status, 200);
  const { proposed_by: _admins, ...publicView } = t; // only admins see who proposed it
  assert.deepEqual(pub.json, publicView);
  assertProblem(assert, await srv.request('GET', '/v1/topics/not-a-uuid'), 404);
  assertProblem(assert, await srv.request('GET', `/v1/topics/${crypto.randomUUID()}`), 404);

  let p = await srv.patch(`/v1/topics/${t.id}`, { status: 'covered' });
  assertInvalid(assert, p, 'covered_url');
  p = await srv.patch(`/v1/topics/${t.id}`, { status: 'covered', covered_url: 'https://news.example/housing' });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.covered_url, 'https://news.example/housing');
  p = await srv.patch(`/v1/topics/${t.id}`, { title: 'Housing' });
  assert.equal(p.json.covered_url, 'https://news.example/housing', 'kept while covered');
  p = await srv.patch(`/v1/topics/${t.id}`, { status: 'open' });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.covered_url, null, 'dropped with the covered status');
  assertInvalid(assert, await srv.patch(`/v1/topics/${t.id}`, { covered_url: 'https://n.example/b' }), 'covered_url');
  assertProblem(assert, await srv.patch(`/v1/topics/${crypto.randomUUID()}`, { title: 'y' }), 404);

  const covered = await srv.post('/v1/topics', { title: 'Done', status: 'covered', covered_url: 'https://n.example/done' });
  assert.equal(covered.status, 201, covered.text);
  const list = await srv.request('GET', '/v1/topics?status=covered&limit=500');
  assert.equal(list.status, 200);
  assert.ok(list.json.data.some((x) => x.id === covered.json.id));
  assert.ok(list.json.data.every((x) => x.status === 'covered'));
  assertInvalid(assert, await srv.request('GET', '/v1/topics?status=nope'), 'status');

  assertProblem(assert, await srv.request('POST', '/v1/topics', { body: { title: 'anon' } }), 401);
  assertProblem(assert, await srv.request('POST', '/v1/topics', { key: srv.readKey, body: { title: 'r' } }), 403);
  assertProblem(assert, await srv.request('PATCH', `/v1/topics/${t.id}`, { body: { title: 'anon' } }), 401);

  const audit = await srv.get(`/v1/audit?entity_id=${t.id}`);
  assert.equal(audit.status, 200, audit.text);
  assert.deepEqual(audit.json.data.map((x) => x.action).sort(), ['create', 'update', 'update', 'update']);

  assert.equal((await srv.del(`/v1/topics/${covered.json.id}`)).status, 204);
  assertProblem(assert, await srv.del(`/v1/topics/${covered.json.id}`), 404);
});

test('topics: members propose up to 3 pending; others are refused with a reason', async () => {
  const m = await member();
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await as(m, 'POST', '/v1/topics', { title: `Proposal ${i}` });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status, 'proposed');
    assert.equal(r.json.proposed_by_member, true);
    assert.equal(r.json.proposed_by, undefined, 'the answer is the public view');
    assert.equal((await srv.get(`/v1/topics/${r.json.id}`)).json.proposed_by, m.id);
    ids.push(r.json.id);
  }
  const fourth = await as(m, 'POST', '/v1/topics', { title: 'One too many' });
  assertProblem(assert, fourth, 409, 'a fourth proposal', 'conflict');
  assert.match(fourth.json.detail, /3 proposals/);

  assertInvalid(assert, await as(m, 'POST', '/v1/topics', { title: 'x', status: 'open' }), 'status');

  // once the newsroom decides on one, there is room again
  assert.equal((await srv.patch(`/v1/topics/${ids[0]}`, { status: 'declined' })).status, 200);
  assert.equal((await as(m, 'POST', '/v1/topics', { title: 'Another go' })).status, 201);

  const outsider = await patron();
  const refused = await as(outsider, 'POST', '/v1/topics', { title: 'Let me in' });
  assertProblem(assert, refused, 403, 'a non-member proposes', 'not_a_member');
  assert.match(refused.json.detail, /no active pledge/);

  // concurrent proposals cannot overrun the limit
  const racer = await member();
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    as(racer, 'POST', '/v1/topics', { title: `Race ${i}` })));
  assert.equal(results.filter((r) => r.status === 201).length, 3);
  assert.equal(results.filter((r) => r.status === 409).length, 5);
});

test('rounds: admin create/patch/close, validation and public reads', async () => {
  const [a, b, c] = await topics(3, 'Round topic');
  const bad = (body) => srv.post('/v1/rounds', {
    title: 'R', topic_ids: [a, b], opens_at: iso(HOUR), closes_at: iso(2 * HOUR), ...body,
  });
  assertInvalid(assert, await bad({ closes_at: iso(HOUR - 1000) }), 'closes_at');
  assertInvalid(assert, await bad({ max_choices: 3 }), 'max_choices');
  assertInvalid(assert, await bad({ max_choices: 0 }), 'max_choices');
  assertInvalid(assert, await bad({ topic_ids: [] }), 'topic_ids');
  assertInvalid(assert, await bad({ topic_ids: [a, a] }), 'topic_ids');
  assertInvalid(assert, await bad({ topic_ids: [a, a.toUpperCase()] }), 'topic_ids');
  assertInvalid(assert, await bad({ topic_ids: [a, crypto.randomUUID()] }), 'topic_ids');
  assertInvalid(assert, await bad({ topic_ids: 'all' }), 'topic_ids');
  assertInvalid(assert, await bad({ topic_ids: [a, 7] }), 'topic_ids');
  assertInvalid(assert, await bad({ topic_ids: Array.from({ length: 51 }, () => crypto.randomUUID()) }), 'topic_ids');
  assertInvalid(assert, await bad({ opens_at: 'tomorrow' }), 'opens_at');
  assertInvalid(assert, await bad({ extra: 1 }), 'extra');
  const noIds = await srv.post('/v1/rounds', { title: 'R', opens_at: iso(HOUR), closes_at: iso(2 * HOUR) });
  assertInvalid(assert, noIds, 'topic_ids');
  assertProblem(assert, await srv.post('/v1/rounds', [1, 2]), 400);

  const created = await bad({});
  assert.equal(created.status, 201, created.text);
  const r = created.json;
  assert.equal(r.status, 'scheduled');
  assert.equal(r.max_choices, 1);
  assert.deepEqual(r.topic_ids, [a, b]);
  assert.equal(r.result, null);
  assert.equal(r.closed_at, null);
  assert.deepEqual(Object.keys(r).sort(), ['closed_at', 'closes_at', 'created_at', 'id', 'max_choices',
    'opens_at', 'result', 'status', 'title', 'topic_ids']);

  let p = await srv.patch(`/v1/rounds/${r.id}`, { topic_ids: [c, b, a], max_choices: 2, title: 'Renamed' });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual(p.json.topic_ids, [c, b, a]);
  assert.equal(p.json.max_choices, 2);
  assertInvalid(assert, await srv.patch(`/v1/rounds/${r.id}`, { closes_at: iso(HOUR - 60000) }), 'closes_at');
  assertInvalid(assert, await srv.patch(`/v1/rounds/${r.id}`, { topic_ids: [a] }), 'max_choices');
  assertProblem(assert, await srv.patch(`/v1/rounds/${crypto.randomUUID()}`, { title: 'x' }), 404);

  const pub = await srv.request('GET', `/v1/rounds/${r.id}`);
  assert.equal(pub.status, 200);
  assert.equal(pub.json.title, 'Renamed');
  const list = await srv.request('GET', '/v1/rounds?status=scheduled');
  assert.ok(list.json.data.some((x) => x.id === r.id));
  assertInvalid(assert, await srv.request('GET', '/v1/rounds?status=later'), 'status');
  assertProblem(assert, await srv.request('POST', '/v1/rounds', { key: srv.readKey, body: {} }), 403);

  // a topic in a round stays
  assertProblem(assert, await srv.del(`/v1/topics/${a}`), 409);

  // opening it makes its terms final
  const open = await openRound([a, b]);
  assert.equal(open.status, 'open');
  assertProblem(assert, await srv.patch(`/v1/rounds/${open.id}`, { title: 'Too late' }), 409);

  const closed = await srv.post(`/v1/rounds/${open.id}/close`);
  assert.equal(closed.status, 200, closed.text);
  assert.equal(closed.json.status, 'closed');
  assert.match(closed.json.closed_at, RFC3339_Z_RE);
  assert.deepEqual(closed.json.result.winners, []);
  const again = await srv.post(`/v1/rounds/${open.id}/close`);
  assert.equal(again.status, 200, 'closing a closed round is idempotent');
  assert.deepEqual(again.json, closed.json);
  // its tally says when it closed, not when it was scheduled to
  const tally = await srv.get(`/v1/rounds/${open.id}/tally`);
  assert.equal(tally.json.closes_at, closed.json.closed_at);
  assert.notEqual(tally.json.closes_at, closed.json.closes_at);
  assertProblem(assert, await srv.patch(`/v1/rounds/${open.id}`, { title: 'Too late' }), 409);
  assertProblem(assert, await srv.post(`/v1/rounds/${crypto.randomUUID()}/close`), 404);
});

test('rounds: current is the open round closing soonest', async () => {
  const ids = await topics(2, 'Current');
  const later = await openRound(ids, { closes_at: iso(3 * HOUR) });
  const sooner = await openRound(ids, { closes_at: iso(2 * HOUR) });
  await openRound(ids, { opens_at: iso(HOUR), closes_at: iso(90 * 60000) }); // scheduled
  // rounds made by other tests may close sooner; take all open ones into account
  const open = (await srv.request('GET', '/v1/rounds?status=open&limit=500')).json.data;
  const expected = open.sort((x, y) => x.closes_at.localeCompare(y.closes_at))[0];
  const cur = await srv.request('GET', '/v1/rounds/current');
  assert.equal(cur.status, 200, cur.text);
  assert.equal(cur.json.id, expected.id);
  assert.ok(cur.json.closes_at <= sooner.closes_at);
  assert.notEqual(cur.json.id, later.id);
  const ct = await srv.request('GET', '/v1/rounds/current/tally');
  assert.equal(ct.status, 200);
  assert.equal(ct.json.round_id, expected.id);

  for (const r of open) await srv.post(`/v1/rounds/${r.id}/close`);
  assertProblem(assert, await srv.request('GET', '/v1/rounds/current'), 404);
  assertProblem(assert, await srv.request('GET', '/v1/rounds/current/tally'), 404);
  // "current" names no round an admin could edit: the path takes GET only
  const patch = await srv.request('PATCH', '/v1/rounds/current', { key: srv.adminKey, body: {} });
  assertProblem(assert, patch, 405);
  assert.equal(patch.headers.allow, 'GET, HEAD');
});

test('ballots: membership, round state and choice rules', async () => {
  const [a, b, c, foreign] = await topics(4, 'Ballot');
  const round = await openRound([a, b, c], { max_choices: 2 });
  const m = await member();

  const outsider = await patron();
  let r = await vote(outsider, round.id, [a]);
  assertProblem(assert, r, 403, 'a ballot by a non-member', 'not_a_member');
  assert.match(r.json.detail, /no active pledge/);

  const lapsed = await member({ status: 'active' });
  const pledge = (await srv.get(`/v1/pledges?patron_id=${lapsed.id}`)).json.data[0];
  const moved = await srv.patch(`/v1/pledges/${pledge.id}`, { status: 'past_due', current_period_end: iso(-10 * 24 * HOUR) });
  assert.equal(moved.status, 200, moved.text);
  r = await vote(lapsed, round.id, [a]);
  assertProblem(assert, r, 403, 'a ballot by a lapsed member', 'not_a_member');
  assert.match(r.json.detail, /past_due beyond the 7-day grace period/);

  const grace = await member();
  const gp = (await srv.get(`/v1/pledges?patron_id=${grace.id}`)).json.data[0];
  await srv.patch(`/v1/pledges/${gp.id}`, { status: 'past_due', current_period_end: iso(-2 * 24 * HOUR) });
  assert.equal((await vote(grace, round.id, [a])).status, 200, 'past_due within the grace period still votes');

  assertProblem(assert, await srv.request('PUT', `/v1/rounds/${round.id}/ballot`, { body: { topic_ids: [a] } }), 401);
  assertProblem(assert, await srv.request('PUT', `/v1/rounds/${round.id}/ballot`, { key: srv.adminKey, body: { topic_ids: [a] } }), 403);

  assertInvalid(assert, await vote(m, round.id, [a, b, c]), 'topic_ids');
  assertInvalid(assert, await vote(m, round.id, [a, a]), 'topic_ids');
  assertInvalid(assert, await vote(m, round.id, [foreign]), 'topic_ids');
  assertInvalid(assert, await vote(m, round.id, []), 'topic_ids');
  assertInvalid(assert, await vote(m, round.id, ['nope']), 'topic_ids');
  assertInvalid(assert, await as(m, 'PUT', `/v1/rounds/${round.id}/ballot`, { topic_ids: [a], weight: 9 }), 'weight');
  assertInvalid(assert, await as(m, 'PUT', `/v1/rounds/${round.id}/ballot`, {}), 'topic_ids');
  assertProblem(assert, await vote(m, crypto.randomUUID(), [a]), 404, 'no such round', 'not_found');
  assertProblem(assert, await vote(m, 'current', [a]), 404);

  const scheduled = await openRound([a, b], { opens_at: iso(HOUR), closes_at: iso(2 * HOUR) });
  r = await vote(m, scheduled.id, [a]);
  assertProblem(assert, r, 409, 'a ballot before the round opens', 'round_not_open');
  assert.match(r.json.detail, /not open yet/);

  // cast, replace, re-send, withdraw
  r = await vote(m, round.id, [a, b]);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { round_id: round.id, topic_ids: [a, b], weight: 1, updated_at: r.json.updated_at });
  let t = byTopic((await tally(round.id)).json);
  assert.equal(t[a].votes, 2); // with `grace`
  assert.equal(t[b].votes, 1);
  r = await vote(m, round.id, [c]);
  assert.deepEqual(r.json.topic_ids, [c]);
  const before = await tally(round.id);
  t = byTopic(before.json);
  assert.deepEqual([t[a].votes, t[b].votes, t[c].votes], [1, 0, 1]);
  assert.equal(before.json.voters, 2);
  r = await vote(m, round.id, [c]);
  assert.equal(r.status, 200, 'the same ballot again');
  const same = await tally(round.id);
  assert.equal(same.headers.etag, before.headers.etag);
  assert.deepEqual({ ...same.json, as_of: null }, { ...before.json, as_of: null });

  const mine = await as(m, 'GET', `/v1/rounds/${round.id}/ballot`);
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.topic_ids, [c]);

  assert.equal((await as(m, 'DELETE', `/v1/rounds/${round.id}/ballot`)).status, 204);
  assertProblem(assert, await as(m, 'DELETE', `/v1/rounds/${round.id}/ballot`), 404);
  assertProblem(assert, await as(m, 'GET', `/v1/rounds/${round.id}/ballot`), 404);
  t = await tally(round.id);
  assert.equal(t.json.voters, 1);
  assert.equal(byTopic(t.json)[c].votes, 0);

  // the weight follows the best tier of the member's membership pledges
  const tier = await srv.post('/v1/tiers', { name: 'Patron+', amount_minor: 2000, currency: 'USD', vote_weight: 3 });
  assert.equal(tier.status, 201, tier.text);
  const heavy = await member({ amount_minor: 2500 });
  r = await vote(heavy, round.id, [b]);
  assert.equal(r.json.weight, 3);
  const explicit = await member({ amount_minor: 100, tier_id: tier.json.id });
  assert.equal((await vote(explicit, round.id, [b])).json.weight, 3);
  t = await tally(round.id);
  assert.equal(byTopic(t.json)[b].weight, 6);
  assert.equal(t.json.total_weight, 7);

  // a first ballot sent many times at once is still one ballot
  const eager = await member();
  const burst = await Promise.all(Array.from({ length: 10 }, () => vote(eager, round.id, [a])));
  assert.deepEqual(burst.map((x) => x.status), Array(10).fill(200));
  assert.equal((await tally(round.id)).json.voters, 4);

  // a lapsed voter may still withdraw what they cast as a member
  const hp = (await srv.get(`/v1/pledges?patron_id=${heavy.id}`)).json.data[0];
  await srv.patch(`/v1/pledges/${hp.id}`, { status: 'canceled' });
  r = await vote(heavy, round.id, [a]);
  assertProblem(assert, r, 403, 'a ballot by a canceled member', 'not_a_member');
  assert.match(r.json.detail, /canceled/);
  assert.equal((await as(heavy, 'DELETE', `/v1/rounds/${round.id}/ballot`)).status, 204);
  assert.equal((await tally(round.id)).json.total_weight, 5);
});

test('tally: order, competition ranks, shares', async () => {
  const [A, B, C, D] = await topics(4, 'Tally');
  const round = await openRound([A, B, C, D], { max_choices: 2 });
  const empty = (await tally(round.id)).json;
  assert.equal(empty.voters, 0);
  assert.equal(empty.total_weight, 0);
  assert.deepEqual(empty.topics.map((x) => [x.topic_id, x.rank, x.share]),
    [[A, 1, 0], [B, 1, 0], [C, 1, 0], [D, 1, 0]]);
  assert.deepEqual(Object.keys(empty).sort(), ['as_of', 'closes_at', 'eligible', 'round_id', 'status',
    'topics', 'total_weight', 'voters']);
  assert.match(empty.as_of, RFC3339_Z_RE);

  await srv.post('/v1/tiers', { name: 'Triple', amount_minor: 3000, currency: 'USD', vote_weight: 3 });
  const [v1, v2, v3, v5, v6] = await Promise.all([member(), member(), member(), member(), member()]);
  const v4 = await member({ amount_minor: 3000 });
  assert.equal((await vote(v1, round.id, [A, B])).status, 200);
  assert.equal((await vote(v2, round.id, [B, A])).status, 200);
  assert.equal((await vote(v3, round.id, [C])).status, 200);
  let t = (await tally(round.id)).json;
  assert.deepEqual(t.topics.map((x) => [x.topic_id, x.votes, x.weight, x.rank]),
    [[A, 2, 2, 1], [B, 2, 2, 1], [C, 1, 1, 3], [D, 0, 0, 4]]);
  assert.deepEqual(t.topics.map((x) => x.share), [2 / 3, 2 / 3, 1 / 3, 0]);

  assert.equal((await vote(v4, round.id, [D])).json.weight, 3);
  await vote(v5, round.id, [C]);
  await vote(v6, round.id, [C]);
  t = (await tally(round.id)).json;
  assert.equal(t.voters, 6);
  assert.equal(t.total_weight, 8);
  assert.deepEqual(t.topics.map((x) => [x.topic_id, x.votes, x.weight, x.rank]),
    [[C, 3, 3, 1], [D, 1, 3, 2], [A, 2, 2, 3], [B, 2, 2, 3]]);
  assert.deepEqual(t.topics.map((x) => x.share), [3 / 8, 3 / 8, 2 / 8, 2 / 8]);
  assert.equal(t.topics[0].title, 'Tally 3');
  assert.equal(t.status, 'open');
  assert.equal(t.round_id, round.id);
  assert.equal(t.closes_at, round.closes_at);
  const members = Number(await srv.psql('SELECT member_count()'));
  assert.ok(t.eligible >= 6 && t.eligible <= members, `eligible ${t.eligible} of ${members}`);
});

test('tally: ETag, 304 and caching', async () => {
  const [a, b] = await topics(2, 'Etag');
  const round = await openRound([a, b]);
  const m = await member();

  const first = await tally(round.id);
  assert.equal(first.status, 200);
  const etag = first.headers.etag;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.equal(first.headers['cache-control'], 'public, max-age=5');

  const notModified = await tally(round.id, { 'If-None-Match': etag });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.text, '');
  assert.equal(notModified.headers.etag, etag);
  assert.equal((await tally(round.id, { 'If-None-Match': `"x", W/${etag}` })).status, 304);
  assert.equal((await tally(round.id, { 'If-None-Match': '"something-else"' })).status, 200);
  assert.equal((await tally(round.id)).headers.etag, etag, 'stable while nothing changes');

  await vote(m, round.id, [a]);
  const afterVote = await tally(round.id, { 'If-None-Match': etag });
  assert.equal(afterVote.status, 200);
  assert.notEqual(afterVote.headers.etag, etag);
  await vote(m, round.id, [a]);
  assert.equal((await tally(round.id)).headers.etag, afterVote.headers.etag, 'a no-op ballot changes nothing');
  await vote(m, round.id, [b]);
  const moved = await tally(round.id);
  assert.notEqual(moved.headers.etag, afterVote.headers.etag);

  // eligible is recounted once its cached count is a minute old
  await member();
  assert.equal((await tally(round.id)).headers.etag, moved.headers.etag, 'cached eligible');
  await srv.psql(`UPDATE rounds SET eligible_at = now() - interval '2 minutes' WHERE id = '${round.id}'`);
  // nothing announces a recount: the in-memory copy lasts up to a second
  let recounted = await tally(round.id);
  for (let i = 0; i < 30 && recounted.json.eligible === moved.json.eligible; i++) {
    await new Promise((r) => setTimeout(r, 100));
    recounted = await tally(round.id);
  }
  assert.equal(recounted.json.eligible, moved.json.eligible + 1);
  assert.notEqual(recounted.headers.etag, moved.headers.etag);

  const head = await srv.request('HEAD', `/v1/rounds/${round.id}/tally`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.etag, recounted.headers.etag);
  assertProblem(assert, await tally(crypto.randomUUID()), 404);
  assertProblem(assert, await tally('nope'), 404);
});

test('freezing: the result is stored once and never changes', async () => {
  const [a, b, c] = await topics(3, 'Freeze');
  const round = await openRound([a, b, c], { max_choices: 2 });
  const [m1, m2, m3] = await Promise.all([member(), member(), member()]);
  await vote(m1, round.id, [a, b]);
  await vote(m2, round.id, [b, a]);
  await vote(m3, round.id, [c]);

  const closing = await Promise.all([
    ...Array.from({ length: 4 }, () => srv.post(`/v1/rounds/${round.id}/close`)),
    ...Array.from({ length: 4 }, () => tally(round.id)),
  ]);
  for (const r of closing) assert.equal(r.status, 200, r.text);
  const closed = closing[0].json;
  for (const r of closing.slice(1, 4)) assert.deepEqual(r.json, closed);
  assert.equal(closed.status, 'closed');
  const result = closed.result;
  assert.deepEqual(result.winners, [a, b]);
  assert.equal(result.voters, 3);
  assert.equal(typeof result.eligible, 'number');
  assert.deepEqual(result.topics.map((x) => [x.topic_id, x.rank]), [[a, 1], [b, 1], [c, 3]]);

  const frozen = await tally(round.id);
  assert.equal(frozen.json.status, 'closed');
  assert.equal(frozen.headers['cache-control'], 'public, max-age=86400, immutable');
  assert.equal(frozen.json.voters, 3);
  assert.equal(frozen.json.eligible, result.eligible);
  assert.deepEqual(frozen.json.topics, result.topics);
  for (const r of closing.slice(4)) {
    if (r.json.status === 'closed') assert.equal(r.headers.etag, frozen.headers.etag);
  }

  let r = await vote(m1, round.id, [c]);
  assertProblem(assert, r, 409, 'a ballot in a closed round', 'round_not_open');
  assert.match(r.json.detail, /closed/);
  assertProblem(assert, await as(m3, 'DELETE', `/v1/rounds/${round.id}/ballot`), 409);

  // later members, pledges and stale caches change nothing
  await Promise.all([member(), member()]);
  await srv.psql(`UPDATE rounds SET eligible_at = now() - interval '2 minutes' WHERE id = '${round.id}'`);
  await srv.patch(`/v1/topics/${a}`, { title: 'Renamed later' });
  const later = await tally(round.id);
  assert.equal(later.headers.etag, frozen.headers.etag);
  assert.deepEqual(later.json, frozen.json);
  assert.equal((await tally(round.id, { 'If-None-Match': frozen.headers.etag })).status, 304);
  assert.deepEqual((await srv.request('GET', `/v1/rounds/${round.id}`)).json.result, result);
});

test('freezing: by the clock, on access and by the sweep job', async () => {
  const m = await member();
  const [a, b] = await topics(2, 'Clock');
  const closesAt = Date.now() + 2000;
  const closes_at = new Date(closesAt).toISOString();
  const watched = await openRound([a, b], { closes_at });
  const unwatched = await openRound([a, b], { closes_at });
  assert.equal((await vote(m, watched.id, [b])).status, 200);
  assert.equal((await vote(m, unwatched.id, [a])).status, 200);
  await sleep(closesAt + 200 - Date.now());

  const r = await vote(m, watched.id, [a]);
  assertProblem(assert, r, 409, 'a ballot after closes_at', 'round_not_open');
  const t = await tally(watched.id);
  assert.equal(t.json.status, 'closed');
  assert.deepEqual(t.json.topics.map((x) => [x.topic_id, x.votes]), [[b, 1], [a, 0]]);
  const got = (await srv.request('GET', `/v1/rounds/${watched.id}`)).json;
  assert.equal(got.closed_at, watched.closes_at, 'closed by the clock at closes_at');
  assert.deepEqual(got.result.winners, [b]);

  // nobody reads `unwatched`: the sweep job (every 5 s) freezes it
  const deadline = Date.now() + 8000;
  let stored = '';
  while (Date.now() < deadline) {
    stored = await srv.psql(`SELECT result->'winners' FROM rounds WHERE id = '${unwatched.id}'`);
    if (stored) break;
    await sleep(250);
  }
  assert.deepEqual(JSON.parse(stored), [a]);
});

test('concurrency: 50 members changing their ballots 20 times each', async () => {
  const ids = await topics(5, 'Load');
  const round = await openRound(ids, { max_choices: 3 });
  const voters = await bulkMembers(50);
  const statuses = {};
  const last = new Map();
  await Promise.all(voters.map(async (v, n) => {
    for (let i = 0; i < 20; i++) {
      let res;
      if ((n + i) % 9 === 8) {
        res = await as(v, 'DELETE', `/v1/rounds/${round.id}/ballot`);
        if (res.status === 204) last.delete(v.id);
      } else {
        const pick = ids.filter((_, k) => ((n * 7 + i * 3 + k * 5) % 4) === 0).slice(0, 3);
        const choice = pick.length ? pick : [ids[(n + i) % ids.length]];
        res = await vote(v, round.id, choice);
        if (res.status === 200) last.set(v.id, choice);
      }
      statuses[res.status] = (statuses[res.status] || 0) + 1;
    }
  }));
  assert.ok(Object.keys(statuses).every((s) => ['200', '204', '404'].includes(s)),
    `statuses ${JSON.stringify(statuses)}`);

  const recount = await srv.psqlJson(
    `SELECT json_build_object('topic_id', t, 'votes', count(*), 'weight', sum(b.weight))
       FROM ballots b, unnest(b.topic_ids) t WHERE b.round_id = '${round.id}' GROUP BY t`);
  const [voterCount, weight] = (await srv.psql(
    `SELECT count(*), coalesce(sum(weight), 0) FROM ballots WHERE round_id = '${round.id}'`)).split('|').map(Number);
  const t = (await tally(round.id)).json;
  assert.equal(t.voters, voterCount);
  assert.equal(t.voters, last.size);
  assert.equal(t.total_weight, weight);
  const counted = Object.fromEntries(recount.map((x) => [x.topic_id, x]));
  for (const x of t.topics) {
    assert.equal(x.votes, counted[x.topic_id] ? counted[x.topic_id].votes : 0, `votes of ${x.topic_id}`);
    assert.equal(x.weight, counted[x.topic_id] ? counted[x.topic_id].weight : 0, `weight of ${x.topic_id}`);
  }
  // every member's stored ballot is the last one they were told was saved
  const stored = await srv.psqlJson(
    `SELECT json_build_object('id', patron_id, 'ids', topic_ids) FROM ballots WHERE round_id = '${round.id}'`);
  for (const s of stored) assert.deepEqual(s.ids, last.get(s.id));
});

test('concurrency: one member putting and withdrawing at once leaves totals that match the ballot', async () => {
  const ids = await topics(3, 'Race');
  const round = await openRound(ids, { max_choices: 2 });
  const [v] = await bulkMembers(1);
  const statuses = {};
  // puts of different choices racing withdrawals: a put may find the row a
  // withdrawal is deleting, or insert beside a put that has not committed
  await Promise.all(Array.from({ length: 120 }, async (_, i) => {
    const res = i % 2 === 1
      ? await as(v, 'DELETE', `/v1/rounds/${round.id}/ballot`)
      : await vote(v, round.id, [ids[i % 3]]);
    statuses[res.status] = (statuses[res.status] || 0) + 1;
  }));
  assert.ok(Object.keys(statuses).every((s) => ['200', '204', '404'].includes(s)),
    `statuses ${JSON.stringify(statuses)}`);
  const stored = await srv.psqlJson(
    `SELECT json_build_object('ids', topic_ids, 'weight', weight) FROM ballots WHERE round_id = '${round.id}'`);
  const t = (await tally(round.id)).json;
  assert.equal(t.voters, stored.length);
  assert.equal(t.total_weight, stored.length ? stored[0].weight : 0);
  for (const x of t.topics) {
    const mine = stored.length && stored[0].ids.includes(x.topic_id);
    assert.equal(x.votes, mine ? 1 : 0, `votes of ${x.topic_id}`);
  }
});

test('concurrency: no ballot slips past a close in the middle of a storm', async () => {
  const ids = await topics(3, 'Storm');
  const round = await openRound(ids, { max_choices: 2 });
  const voters = await bulkMembers(30);
  const statuses = {};
  let answered = 0, midway;
  const halfway = new Promise((resolve) => { midway = resolve; });
  const storm = Promise.all(voters.map(async (v, n) => {
    for (let i = 0; i < 15; i++) {
      const res = await vote(v, round.id, [ids[(n + i) % 3]]);
      statuses[res.status] = (statuses[res.status] || 0) + 1;
      if (++answered === 150) midway();
    }
  }));
  await halfway;
  const closed = await srv.post(`/v1/rounds/${round.id}/close`);
  await storm;
  assert.equal(closed.status, 200, closed.text);
  assert.ok(Object.keys(statuses).every((s) => ['200', '409'].includes(s)), JSON.stringify(statuses));
  assert.ok(statuses[409] > 0 && statuses[200] > 0, `the close fell inside the storm: ${JSON.stringify(statuses)}`);

  const result = closed.json.result;
  const recount = Object.fromEntries((await srv.psqlJson(
    `SELECT json_build_array(t, count(*)) FROM ballots b, unnest(b.topic_ids) t
      WHERE b.round_id = '${round.id}' GROUP BY t`)));
  assert.equal(result.voters, Number(await srv.psql(`SELECT count(*) FROM ballots WHERE round_id = '${round.id}'`)));
  for (const x of result.topics) assert.equal(x.votes, recount[x.topic_id] || 0);
  assert.deepEqual((await tally(round.id)).json.topics, result.topics);
});

test('erasing oneself withdraws open ballots, keeps closed results, and export lists ballots', async () => {
  const [t1, t2] = await topics(2, 'Erasure');
  const closing = await openRound([t1, t2]);
  const open = await openRound([t1, t2]);
  const leaver = await member();
  const stayer = await member();
  assert.equal((await vote(leaver, closing.id, [t1])).status, 200);
  assert.equal((await vote(leaver, open.id, [t1])).status, 200);
  assert.equal((await vote(stayer, open.id, [t2])).status, 200);
  const closed = await srv.post(`/v1/rounds/${closing.id}/close`, {});
  assert.equal(closed.status, 200, closed.text);
  const frozen = (await tally(closing.id)).json;

  const exp = await as(leaver, 'GET', '/v1/me/export');
  assert.equal(exp.status, 200, exp.text);
  assert.deepEqual(exp.json.ballots.map((b) => b.round_id).sort(), [closing.id, open.id].sort());

  assert.equal((await as(leaver, 'DELETE', '/v1/me')).status, 204);
  const after = (await tally(open.id)).json;
  assert.equal(after.voters, 1);
  assert.deepEqual(after.topics.map((t) => [t.topic_id, t.votes]).sort(), [[t1, 0], [t2, 1]].sort());
  assert.deepEqual((await tally(closing.id)).json, frozen);
});
