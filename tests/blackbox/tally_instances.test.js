'use strict';
// The tally is answered from each instance's memory (SPEC §5: several
// instances, one database). A ballot cast through one instance must show
// in the other's tally and ETag; under concurrent ballots through both,
// the totals stay exact and both instances settle on the same ETag.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, sleep, UUID_RE } = require('./lib/harness');

let a, b;
before(async () => {
  a = await startServer();
  b = await startServer({
    dbName: a.dbName, dbUrl: a.dbUrl, skipMigrate: true, adminKey: a.adminKey, readKey: a.readKey,
  });
});
after(async () => {
  try { if (b) await b.stop(); } finally { if (a) await a.stop(); }
});

async function members(count) {
  const tag = crypto.randomBytes(4).toString('hex');
  const ids = (await a.psql(
    `WITH p AS (INSERT INTO patrons (email)
                SELECT 'inst-' || g || '-${tag}@example.org' FROM generate_series(1, ${count}) g
                RETURNING id)
     INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
     SELECT id, 500, 'USD', 'month', 'manual', 'active', now() FROM p RETURNING patron_id`,
  )).split('\n').filter((l) => UUID_RE.test(l));
  const tokens = ids.map(() => crypto.randomBytes(32).toString('base64url'));
  await a.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at) VALUES ${ids.map((id, i) =>
    `('${id}', decode('${crypto.createHash('sha256').update(tokens[i]).digest('hex')}', 'hex'), now() + interval '1 day')`).join(',')}`);
  return tokens;
}

async function round(n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const t = await a.post('/v1/topics', { title: `Instances ${i}` });
    assert.equal(t.status, 201, t.text);
    ids.push(t.json.id);
  }
  const r = await a.post('/v1/rounds', {
    title: 'Across instances', topic_ids: ids, opens_at: new Date(Date.now() - 60000).toISOString(),
    closes_at: new Date(Date.now() + 3600000).toISOString(),
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.json.id, topics: ids };
}

const tally = (srv, id, headers = {}) => srv.request('GET', `/v1/rounds/${id}/tally`, { headers });
const vote = (srv, token, id, topic) =>
  srv.request('PUT', `/v1/rounds/${id}/ballot`, { key: token, body: { topic_ids: [topic] } });

async function metric(srv, name) {
  const text = (await srv.get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.split(' ').pop()) : NaN;
}

test('a ballot through one instance shows in the other instance\'s tally', async () => {
  const r = await round(2);
  const [token] = await members(1);
  const before = await tally(b, r.id);
  assert.equal(before.status, 200);
  assert.equal((await tally(b, r.id, { 'If-None-Match': before.headers.etag })).status, 304);
  assert.ok(await metric(b, 'patrond_tally_cache_lookups_total{result="hit"}') >= 1, 'b answers from memory');

  const notifiedBefore = await metric(b, 'patrond_tally_notifications_total');
  assert.equal((await vote(a, token, r.id, r.topics[1])).status, 200);
  let after = await tally(b, r.id, { 'If-None-Match': before.headers.etag });
  for (let i = 0; i < 40 && after.status === 304; i++) {
    await sleep(50);
    after = await tally(b, r.id, { 'If-None-Match': before.headers.etag });
  }
  assert.equal(after.status, 200, 'b noticed the ballot cast through a');
  assert.notEqual(after.headers.etag, before.headers.etag);
  assert.equal(after.json.topics.find((t) => t.topic_id === r.topics[1]).votes, 1);
  assert.ok(await metric(b, 'patrond_tally_notifications_total') > notifiedBefore,
    'b heard of it through LISTEN/NOTIFY');
});

test('concurrent ballots through both instances: exact totals, one ETag', async () => {
  const r = await round(3);
  const tokens = await members(60);
  // readers keep both caches warm while the ballots land
  let reading = true;
  const readers = [a, b].map(async (srv) => {
    while (reading) { assert.ok([200, 304].includes((await tally(srv, r.id)).status)); }
  });
  const results = await Promise.all(tokens.flatMap((t, i) => [
    vote(i % 2 ? a : b, t, r.id, r.topics[i % 3]),
    vote(i % 2 ? b : a, t, r.id, r.topics[(i + 1) % 3]),
  ]));
  reading = false;
  await Promise.all(readers);
  results.forEach((res) => assert.equal(res.status, 200, res.text));

  const recount = JSON.parse(await a.psql(
    `SELECT json_object_agg(t, n) FROM (SELECT unnest(topic_ids) t, count(*) n FROM ballots
      WHERE round_id = '${r.id}' GROUP BY 1) x`));
  let ta, tb;
  for (let i = 0; i < 40; i++) {
    [ta, tb] = [await tally(a, r.id), await tally(b, r.id)];
    if (ta.headers.etag === tb.headers.etag) break;
    await sleep(50);
  }
  assert.equal(ta.headers.etag, tb.headers.etag, 'both instances settle on one ETag');
  assert.equal(ta.json.voters, 60);
  for (const t of ta.json.topics) assert.equal(t.votes, recount[t.topic_id] || 0, `topic ${t.topic_id}`);
  assert.deepEqual(tb.json.topics, ta.json.topics);
});
