'use strict';
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, assertProblem, assertInvalid, uniqueEmail, pageAll, UUID_RE, RFC3339_Z_RE } = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

describe('payments', () => {
  test('a fresh ledger is {data: [], next_cursor: null} for admin and read keys', async () => {
    for (const key of [s.adminKey, s.readKey]) {
      const r = await s.request('GET', '/v1/payments', { key });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { data: [], next_cursor: null });
    }
  });

  test('filters are accepted on an empty ledger; an unknown kind is 422', async () => {
    for (const q of [`patron_id=${crypto.randomUUID()}`, `pledge_id=${crypto.randomUUID()}`, 'provider=stripe',
      'kind=charge', 'kind=refund', 'kind=dispute', 'kind=dispute_won']) {
      const r = await s.get(`/v1/payments?${q}`);
      assert.equal(r.status, 200, `${q}: ${r.text}`);
      assert.deepEqual(r.json.data, []);
    }
    assertInvalid(assert, await s.get('/v1/payments?kind=gift'), 'kind', 'kind=gift');
  });

  test('GET /v1/payments/{unknown} → 404; the ledger is read-only', async () => {
    assertProblem(assert, await s.get(`/v1/payments/${crypto.randomUUID()}`), 404);
    const r = await s.post('/v1/payments', { amount_minor: 100 });
    assert.ok(r.status === 405 || r.status === 404, `POST /v1/payments → ${r.status}`);
  });

  test('ledger rows are listed, filtered and survive the patron\'s erasure', async () => {
    const p = await s.post('/v1/patrons', { email: uniqueEmail('pay'), name: 'Payer' });
    assert.equal(p.status, 201);
    const pl = await s.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 5000, currency: 'UAH', interval: 'month', provider: 'liqpay', provider_ref: 'ord-1', status: 'active',
    });
    assert.equal(pl.status, 201, pl.text);
    // the ledger is written by webhooks (not under test here): seed it directly
    const ids = await s.psql(`INSERT INTO payments (kind, amount_minor, currency, provider, provider_payment_id, pledge_id, patron_id, occurred_at, status, failure_reason)
      VALUES ('charge', 5000, 'UAH', 'liqpay', 'pay-1', '${pl.json.id}', '${p.json.id}', now() - interval '2 days', 'succeeded', NULL),
             ('charge', 5000, 'UAH', 'liqpay', 'pay-2', '${pl.json.id}', '${p.json.id}', now() - interval '1 day', 'failed', 'insufficient funds'),
             ('refund', -5000, 'UAH', 'liqpay', 'pay-3', '${pl.json.id}', '${p.json.id}', now(), 'succeeded', NULL)
      RETURNING id`);
    const [charge, failed, refund] = ids.split('\n').map((l) => l.trim());

    const all = await pageAll(s, '/v1/payments', { limit: 2 });
    assert.equal(all.length, 3);
    assert.deepEqual(new Set(all.map((x) => x.id)), new Set([charge, failed, refund]));
    const one = await s.get(`/v1/payments/${refund}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.amount_minor, -5000, 'refunds are negative');
    assert.equal(one.json.kind, 'refund');
    assert.equal(one.json.pledge_id, pl.json.id);
    assert.match(one.json.occurred_at, RFC3339_Z_RE);
    const f = await s.get(`/v1/payments/${failed}`);
    assert.equal(f.json.failure_reason, 'insufficient funds');

    const byKind = await s.get('/v1/payments?kind=refund');
    assert.deepEqual(byKind.json.data.map((x) => x.id), [refund]);
    const byPledge = await s.get(`/v1/payments?pledge_id=${pl.json.id}`);
    assert.equal(byPledge.json.data.length, 3);
    const byPatron = await s.get(`/v1/payments?patron_id=${p.json.id}`);
    assert.equal(byPatron.json.data.length, 3);
    const byProvider = await s.get('/v1/payments?provider=stripe');
    assert.deepEqual(byProvider.json.data, []);

    const exp = await s.get(`/v1/patrons/${p.json.id}/export`);
    assert.equal(exp.status, 200);
    assert.deepEqual(new Set(exp.json.payments.map((x) => x.id)), new Set([charge, failed, refund]));

    assert.equal((await s.del(`/v1/patrons/${p.json.id}`)).status, 204);
    const after = await s.get(`/v1/payments?patron_id=${p.json.id}`);
    assert.equal(after.json.data.length, 3, 'payments remain after erasure');
    assert.equal(after.json.data.reduce((a, x) => a + x.amount_minor, 0), 5000, 'amounts kept');
    assert.equal((await s.get(`/v1/pledges/${pl.json.id}`)).json.amount_minor, 5000);
  });
});

describe('audit', () => {
  let adminKeyId;
  before(async () => {
    const hash = crypto.createHash('sha256').update(s.adminKey).digest('hex');
    adminKeyId = await s.psql(`SELECT id FROM api_keys WHERE key_hash = '\\x${hash}'::bytea OR name = 'test'`);
  });

  async function auditFor(entityId) {
    const all = await pageAll(s, '/v1/audit', { limit: 500 });
    return all.filter((a) => a.entity_id === entityId);
  }

  test('every admin write is audited with actor = the key id, before/after and request id', async () => {
    const email = uniqueEmail('aud');
    const c = await s.post('/v1/patrons', { email, name: 'Audited' }, { headers: { 'X-Request-Id': 'req-create-1' } });
    assert.equal(c.status, 201);
    const u = await s.patch(`/v1/patrons/${c.json.id}`, { name: 'Audited 2' }, { headers: { 'X-Request-Id': 'req-update-1' } });
    assert.equal(u.status, 200);
    const t = await s.post('/v1/tiers', { name: 'AudTier', amount_minor: 100, currency: 'USD' });
    assert.equal(t.status, 201);
    const tp = await s.patch(`/v1/tiers/${t.json.id}`, { vote_weight: 2 });
    assert.equal(tp.status, 200);
    const td = await s.del(`/v1/tiers/${t.json.id}`);
    assert.equal(td.status, 204);
    const pl = await s.post('/v1/pledges', { patron_id: c.json.id, amount_minor: 100, currency: 'USD', interval: 'month', provider: 'manual' });
    assert.equal(pl.status, 201);
    const pp = await s.patch(`/v1/pledges/${pl.json.id}`, { status: 'active' });
    assert.equal(pp.status, 200);

    const pa = await auditFor(c.json.id);
    const create = pa.find((a) => a.action === 'create');
    assert.ok(create, `patron create audited: ${JSON.stringify(pa)}`);
    assert.deepEqual(Object.keys(create).sort(), ['action', 'actor', 'after', 'before', 'created_at', 'entity', 'entity_id', 'id', 'request_id', 'who']);
    assert.match(create.id, UUID_RE);
    assert.equal(create.who, adminKeyId, 'who is the admin key id (SPEC §4 Audit)');
    assert.equal(create.actor, create.who, 'actor is the same as who');
    // the row's times as the API shows times (SPEC §2), not jsonb's rendering
    assert.match(create.after.created_at, RFC3339_Z_RE);
    assert.doesNotMatch(create.after.created_at, /\./);
    assert.equal(create.request_id, 'req-create-1');
    assert.equal(create.before, null);
    assert.equal(create.after.email, email);
    assert.match(create.created_at, RFC3339_Z_RE);
    const upd = pa.find((a) => a.action === 'update' && a.request_id === 'req-update-1');
    assert.ok(upd, 'patron update audited');
    assert.equal(upd.before.name, 'Audited');
    assert.equal(upd.after.name, 'Audited 2');

    const ta = await auditFor(t.json.id);
    assert.deepEqual(ta.map((a) => a.action).sort(), ['create', 'delete', 'update']);
    assert.ok(ta.every((a) => a.actor === adminKeyId));
    const pla = await auditFor(pl.json.id);
    assert.deepEqual(pla.map((a) => a.action).sort(), ['create', 'update']);
    assert.equal(pla.find((a) => a.action === 'update').after.status, 'active');
    assert.match(pla.find((a) => a.action === 'update').after.activated_at, RFC3339_Z_RE);
  });

  test('the audit list is newest first and readable with the read key, not anonymously', async () => {
    const r = await s.request('GET', '/v1/audit?limit=5', { key: s.readKey });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.length > 0);
    for (let i = 1; i < r.json.data.length; i++) assert.ok(r.json.data[i - 1].created_at >= r.json.data[i].created_at);
    assert.equal((await s.request('GET', '/v1/audit')).status, 401);
    const all = await pageAll(s, '/v1/audit', { limit: 3 });
    assert.equal(new Set(all.map((x) => x.id)).size, all.length);
    assert.equal(all.length, Number(await s.psql('SELECT count(*) FROM audit_log')));
  });

  test('refused writes (403, 422, 409) leave no audit entry', async () => {
    const before = await s.psql('SELECT count(*) FROM audit_log');
    assert.equal((await s.request('POST', '/v1/patrons', { key: s.readKey, body: { email: uniqueEmail() } })).status, 403);
    assert.equal((await s.post('/v1/patrons', { email: 'bad' })).status, 422);
    const p = await s.post('/v1/patrons', { email: uniqueEmail('dupaud') });
    const mid = await s.psql('SELECT count(*) FROM audit_log');
    assert.equal(Number(mid), Number(before) + 1);
    assert.equal((await s.post('/v1/patrons', { email: p.json.email })).status, 409);
    assert.equal(await s.psql('SELECT count(*) FROM audit_log'), mid);
  });

  test('after erasure no audit entry contains the patron\'s email or name', async () => {
    const email = uniqueEmail('forgetme');
    const name = `Forget ${crypto.randomBytes(3).toString('hex')}`;
    const c = await s.post('/v1/patrons', { email, name });
    assert.equal(c.status, 201);
    const email2 = uniqueEmail('forgetme2');
    assert.equal((await s.patch(`/v1/patrons/${c.json.id}`, { email: email2 })).status, 200);
    const pl = await s.post('/v1/pledges', { patron_id: c.json.id, amount_minor: 100, currency: 'USD', interval: 'month', provider: 'manual' });
    assert.equal(pl.status, 201);
    const pre = await s.get('/v1/audit?limit=500');
    assert.ok(pre.text.includes(email), 'the email was in the audit trail before erasure (sanity)');

    assert.equal((await s.del(`/v1/patrons/${c.json.id}`)).status, 204);
    const all = await pageAll(s, '/v1/audit', { limit: 500 });
    const text = JSON.stringify(all);
    for (const secret of [email, email2, name, email.split('@')[0]]) {
      assert.ok(!text.includes(secret), `GET /v1/audit still contains ${secret}`);
    }
    const db = await s.psql(`SELECT count(*) FROM audit_log WHERE before::text ILIKE '%forgetme%' OR after::text ILIKE '%${email.split('@')[0]}%' OR after::text LIKE '%${name}%' OR before::text LIKE '%${name}%'`);
    assert.equal(db, '0', 'audit_log rows in the database still hold the personal data');
    const erasure = all.filter((a) => a.entity_id === c.json.id);
    assert.ok(erasure.length >= 3, 'the patron\'s audit history is kept (anonymised), not deleted');
  });
});
