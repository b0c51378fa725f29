'use strict';
// POST /v1/patrons/import (SPEC §4b Import): CSV read as it arrives, per-line
// errors, dry run, idempotent by e-mail, one transaction.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, assertProblem, ROOT } = require('./lib/harness');

const fixture = (name) => fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', name));
const CSV = { 'Content-Type': 'text/csv' };

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

function importCsv(body, query = '', o = {}) {
  return s.post(`/v1/patrons/import${query}`, body, { headers: CSV, timeout: 120000, ...o });
}

async function expectImport(body, query, want) {
  const r = await importCsv(body, query);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, want);
  return r.json;
}

// What the database holds, counted: every import test asserts it moved (or
// did not) as the reply says.
async function counts() {
  const row = await s.psql(
    "SELECT (SELECT count(*) FROM patrons) || ',' || (SELECT count(*) FROM pledges) || ','" +
    " || (SELECT count(*) FROM audit_log)");
  const [patrons, pledges, audit] = row.split(',').map(Number);
  return { patrons, pledges, audit };
}

async function patronByEmail(email) {
  const rows = await s.psqlJson(
    `SELECT patron_json(p) FROM patrons p WHERE lower(email) = lower('${email}')`);
  return rows[0] || null;
}

describe('a Ghost members export', () => {
  const ghost = fixture('ghost-members.csv');
  const ghostError = [{ line: 5, field: 'email', message: 'is not a valid e-mail address' }];

  test('is read in its own layout; a dry run counts it and changes nothing', async () => {
    assert.match(ghost.toString(), /^id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers\r\n/);
    const before = await counts();
    await expectImport(ghost, '?dry_run=true&skip_invalid=true',
      { created: 4, updated: 0, unchanged: 0, errors: ghostError, applied: false });
    assert.deepEqual(await counts(), before);
    assert.equal(await patronByEmail('olena.kovalenko@example.org'), null);
  });

  test('with an error line it changes nothing', async () => {
    const before = await counts();
    await expectImport(ghost, '',
      { created: 4, updated: 0, unchanged: 0, errors: ghostError, applied: false });
    assert.deepEqual(await counts(), before);
  });

  test('skip_invalid=true imports the valid rows, with their names and creation times', async () => {
    const before = await counts();
    await expectImport(ghost, '?skip_invalid=true',
      { created: 4, updated: 0, unchanged: 0, errors: ghostError, applied: true });
    const now = await counts();
    assert.equal(now.patrons, before.patrons + 4);
    assert.equal(now.pledges, before.pledges);
    // four rows audited by trigger, and the import itself once
    assert.equal(now.audit, before.audit + 5);

    const taras = await patronByEmail('taras.shevchuk@example.org');
    assert.equal(taras.email, 'Taras.Shevchuk@Example.org');
    assert.equal(taras.name, 'Taras Shevchuk');
    assert.equal(taras.created_at, '2022-11-05T18:02:11Z');
    assert.equal(taras.status, 'none');
    const mykola = await patronByEmail('mykola.b@example.org');
    assert.equal(mykola.name, 'Mykola Bondarenko, PhD');
    const iryna = await patronByEmail('iryna@example.org');
    assert.equal(iryna.name, null);
    const api = await s.get(`/v1/patrons/${taras.id}`);
    assert.equal(api.status, 200);
    assert.equal(api.json.created_at, '2022-11-05T18:02:11Z');

    const audit = await s.psqlJson(
      "SELECT after FROM audit_log WHERE action = 'import' ORDER BY seq DESC LIMIT 1");
    assert.deepEqual(audit[0], { created: 4, updated: 0, unchanged: 0, invalid: 1 });
  });

  test('importing it again changes nothing: all unchanged, no new rows, one audit entry', async () => {
    const before = await counts();
    await expectImport(ghost, '?skip_invalid=true',
      { created: 0, updated: 0, unchanged: 4, errors: ghostError, applied: true });
    const now = await counts();
    assert.deepEqual(now, { ...before, audit: before.audit + 1 });
  });
});

describe('a hand-made file with errors', () => {
  const file = fixture('import-errors.csv');
  const errors = [
    { line: 3, field: 'email', message: 'is not a valid e-mail address' },
    { line: 4, field: 'currency', message: 'unknown currency' },
    { line: 5, field: 'amount', message: 'must use a dot as the decimal separator, like 5.00 (not 5,00)' },
    { line: 7, field: 'email', message: 'appears more than once in the file (first on line 2)' },
    { line: 8, field: 'interval', message: 'must be one of: month, year, once' },
    { line: 9, field: 'amount', message: 'must be between 0.01 and 1000000.00' },
    { line: 10, field: 'current_period_end', message: 'must be an RFC 3339 timestamp, like 2024-01-31T09:00:00Z' },
  ];

  test('gives exactly these per-line errors and changes nothing', async () => {
    const before = await counts();
    await expectImport(file, '', { created: 2, updated: 0, unchanged: 0, errors, applied: false });
    assert.deepEqual(await counts(), before);
    assert.equal(await patronByEmail('ok1@example.org'), null);
  });

  test('skip_invalid=true imports the two valid lines, the pledge making a member', async () => {
    const before = await counts();
    await expectImport(file, '?skip_invalid=true', { created: 2, updated: 0, unchanged: 0, errors, applied: true });
    const now = await counts();
    assert.equal(now.patrons, before.patrons + 2);
    assert.equal(now.pledges, before.pledges + 1);
    const ok1 = await patronByEmail('ok1@example.org');
    assert.equal(ok1.status, 'member');
    const pledges = await s.get(`/v1/pledges?patron_id=${ok1.id}`);
    assert.equal(pledges.status, 200);
    assert.equal(pledges.json.data.length, 1);
    const p = pledges.json.data[0];
    assert.deepEqual([p.amount_minor, p.currency, p.interval, p.provider, p.status, p.current_period_end],
      [500, 'UAH', 'month', 'manual', 'active', null]);
    assert.equal((await patronByEmail('ok4@example.org')).status, 'none');
    assert.equal(await patronByEmail('ok2@example.org'), null);
  });
});

describe('the CSV dialects', () => {
  test('BOM, `;` separators, CRLF, quoted fields with line breaks and quotes', async () => {
    const text = '\uFEFFEmail;Name;Amount;Currency;Interval\r\n' +
      'semi1@example.org;"Anna ""Ania""\r\nNowak";7.50;PLN;month\r\n' +
      'semi2@example.org;Bo; 12 ;EUR;year\r\n' +
      'semi3@example.org;Comma;5,00;EUR;year\r\n';
    const body = Buffer.from(text, 'utf8');
    assert.deepEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    await expectImport(body, '?skip_invalid=true', {
      created: 2, updated: 0, unchanged: 0, applied: true,
      errors: [{ line: 4, field: 'amount', message: 'must use a dot as the decimal separator, like 5.00 (not 5,00)' }],
    });
    const anna = await patronByEmail('semi1@example.org');
    assert.equal(anna.name, 'Anna "Ania"\r\nNowak');
    const p = await s.get(`/v1/pledges?patron_id=${anna.id}`);
    assert.equal(p.json.data[0].amount_minor, 750);
    assert.equal(p.json.data[0].currency, 'PLN');
    const bo = await s.get(`/v1/pledges?patron_id=${(await patronByEmail('semi2@example.org')).id}`);
    assert.deepEqual([bo.json.data[0].amount_minor, bo.json.data[0].interval], [1200, 'year']);
  });

  test('LF only, amount_minor, a quoted separator and a line counted across a quoted line break', async () => {
    const text = 'email,name,amount_minor,currency,interval,current_period_end\n' +
      'lf1@example.org,"Doe, Jane",2500,USD,month,2031-05-01T00:00:00Z\n' +
      'lf2@example.org,"two\nlines",0,USD,month,\n' +
      'lf3@example.org,x,2500,USD,month,\n';
    await expectImport(text, '?dry_run=true', {
      created: 2, updated: 0, unchanged: 0, applied: false,
      errors: [{ line: 3, field: 'amount_minor', message: 'must be an integer between 1 and 100000000' }],
    });
  });

  test('invalid UTF-8, malformed quoting and a short header are per-line errors', async () => {
    const body = Buffer.concat([
      Buffer.from('email,name\nu1@example.org,'),
      Buffer.from([0xc3, 0x28]), // not UTF-8
      Buffer.from('\nu2@example.org,"closed"then text\nu3@example.org,a,b\nu4@example.org,"never closed\n'),
    ]);
    await expectImport(body, '?dry_run=true', {
      created: 0, updated: 0, unchanged: 0, applied: false,
      errors: [
        { line: 2, field: 'name', message: 'must be UTF-8 text without control characters' },
        { line: 3, field: '', message: 'the row has text after the closing quote of a quoted field' },
        { line: 4, field: '', message: 'the row has 3 fields; the header row has 2 (a value holding the separator, like 5,00, must be quoted; amounts take a dot: 5.00)' },
        { line: 5, field: '', message: 'the row has a quoted field whose closing quote is missing' },
      ],
    });
  });

  test('a header without email, or with a column twice, changes nothing whatever the flags', async () => {
    const before = await counts();
    await expectImport('name,amount\nx,1.00\n', '?skip_invalid=true', {
      created: 0, updated: 0, unchanged: 0, applied: false,
      errors: [{ line: 1, field: 'email', message: 'is a required column; the header row has none' }],
    });
    await expectImport('email,Email\nhd@example.org,hd@example.org\n', '?skip_invalid=true', {
      created: 0, updated: 0, unchanged: 0, applied: false,
      errors: [{ line: 1, field: 'email', message: 'appears twice in the header row' }],
    });
    await expectImport('', '', {
      created: 0, updated: 0, unchanged: 0, applied: false,
      errors: [{ line: 1, field: '', message: 'the file is empty; a header row naming the columns is expected' }],
    });
    assert.deepEqual(await counts(), before);
  });
});

describe('updates by e-mail', () => {
  test('a known address (any case) has its name, creation time and manual pledge updated', async () => {
    const made = await s.post('/v1/patrons', { email: 'Known@Example.org', name: 'Old Name' });
    assert.equal(made.status, 201, made.text);
    const head = 'email,name,created_at,amount,currency,interval\n';
    await expectImport(head + 'known@example.org,,,,,\n', '',
      { created: 0, updated: 0, unchanged: 1, errors: [], applied: true });
    assert.equal((await patronByEmail('known@example.org')).name, 'Old Name', 'an empty cell changes nothing');
    await expectImport(head + 'known@example.org,New Name,2019-05-06T07:08:09Z,10.00,UAH,month\n', '',
      { created: 0, updated: 1, unchanged: 0, errors: [], applied: true });
    const p = await patronByEmail('known@example.org');
    assert.deepEqual([p.email, p.name, p.created_at, p.status],
      ['Known@Example.org', 'New Name', '2019-05-06T07:08:09Z', 'member']);
    await expectImport(head + 'KNOWN@example.org,New Name,2019-05-06T07:08:09Z,12.00,UAH,month\n', '',
      { created: 0, updated: 1, unchanged: 0, errors: [], applied: true });
    const pledges = await s.get(`/v1/pledges?patron_id=${p.id}`);
    assert.equal(pledges.json.data.length, 1, 'the manual pledge is updated, not doubled');
    assert.equal(pledges.json.data[0].amount_minor, 1200);
  });
});

describe('requests that are refused', () => {
  test('anything but text/csv is 415 and changes nothing', async () => {
    const before = await counts();
    for (const type of ['application/json', 'text/plain', 'multipart/form-data; boundary=x', null]) {
      const r = await importCsv('email\nct@example.org\n', '', { headers: { 'Content-Type': type } });
      assertProblem(assert, r, 415, `Content-Type ${type}`, 'unsupported_media_type');
    }
    const ok = await importCsv('email\nct@example.org\n', '?dry_run=true',
      { headers: { 'Content-Type': 'text/csv; charset=utf-8' } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(await counts(), before);
  });

  test('a read key is 403, no key 401, a bad flag 422', async () => {
    const body = 'email\nauth@example.org\n';
    assertProblem(assert, await importCsv(body, '', { key: s.readKey }), 403);
    // not allowed comes before the wrong type, as on every other route
    assertProblem(assert, await importCsv(body, '', { key: s.readKey, headers: { 'Content-Type': 'text/plain' } }), 403);
    assertProblem(assert, await importCsv(body, '', { key: null }), 401);
    const r = await importCsv(body, '?dry_run=yes');
    assertProblem(assert, r, 422, '', 'validation_failed');
    assert.equal(r.json.errors[0].field, 'dry_run');
    assert.equal(await patronByEmail('auth@example.org'), null);
  });

  // SPEC §2: the same key and body replay the first answer, not "unchanged".
  test('a retry with its Idempotency-Key replays the first answer; another file or flag with it is 422', async () => {
    const key = `import-${Date.now()}`;
    const body = 'email,name\nidem1@example.org,One\nidem2@example.org,Two\n';
    const first = await importCsv(body, '', { headers: { ...CSV, 'Idempotency-Key': key }, chunked: true });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json, { created: 2, updated: 0, unchanged: 0, errors: [], applied: true });
    const audit = (await counts()).audit;
    const again = await importCsv(body, '', { headers: { ...CSV, 'Idempotency-Key': key } });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, first.json, 'the first answer, not a second import');
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal((await counts()).audit, audit, 'nothing ran again');
    const other = await importCsv(body.replace('Two', 'Deux'), '', { headers: { ...CSV, 'Idempotency-Key': key } });
    assertProblem(assert, other, 422, '', 'idempotency_key_reused');
    assert.equal((await patronByEmail('idem2@example.org')).name, 'Two');
    const dry = await importCsv(body, '?dry_run=true', { headers: { ...CSV, 'Idempotency-Key': key } });
    assertProblem(assert, dry, 422, '', 'idempotency_key_reused');
  });

  test('two concurrent imports of one file create each patron and pledge once', async () => {
    let text = 'email,amount,currency,interval\n';
    for (let i = 0; i < 300; i++) text += `race${i}@example.org,3.00,EUR,month\n`;
    const before = await counts();
    const [a, b] = await Promise.all([importCsv(text), importCsv(text)]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.deepEqual([a.json.created + b.json.created, a.json.unchanged + b.json.unchanged], [300, 300]);
    const now = await counts();
    assert.equal(now.patrons, before.patrons + 300);
    assert.equal(now.pledges, before.pledges + 300);
  });
});

describe('size', () => {
  let small;
  before(async () => {
    small = await startServer({ env: { PATROND_BODY_LIMIT: '1024', PATROND_IMPORT_MAX_BYTES: '65536' } });
  });
  after(async () => { await small?.stop(); });

  const rows = (n, prefix) => {
    let t = 'email,name\n';
    for (let i = 0; i < n; i++) t += `${prefix}${i}@example.org,Reader ${i}\n`;
    return t;
  };

  test('a file over PATROND_BODY_LIMIT imports, streamed in chunks', async () => {
    const text = rows(1000, 'big');
    assert.ok(text.length > 1024 * 16);
    const r = await small.post('/v1/patrons/import', text, { headers: CSV, chunked: true, chunkSize: 1000 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { created: 1000, updated: 0, unchanged: 0, errors: [], applied: true });
    assert.equal(await small.psql("SELECT count(*) FROM patrons WHERE email LIKE 'big%'"), '1000');
  });

  test('a file over PATROND_IMPORT_MAX_BYTES is 413 problem+json and changes nothing', async () => {
    const text = rows(3000, 'huge');
    assert.ok(text.length > 65536);
    for (const chunked of [false, true]) {
      const r = await small.post('/v1/patrons/import', text, { headers: CSV, chunked });
      assertProblem(assert, r, 413, `chunked ${chunked}`, 'payload_too_large');
      assert.match(r.json.detail, /65536 bytes/);
    }
    assert.equal(await small.psql("SELECT count(*) FROM patrons WHERE email LIKE 'huge%'"), '0');
  });

  test('a file that would take far more room as records than as text is 413 too', async () => {
    const line = `${','.repeat(100)}\n`;
    const text = 'email\n' + line.repeat(Math.floor(60000 / line.length));
    assert.ok(text.length < 65536);
    const r = await small.post('/v1/patrons/import', text, { headers: CSV, chunked: true });
    assertProblem(assert, r, 413, '', 'payload_too_large');
  });

  test('without a bearer token the upload is refused before it is read', async () => {
    const r = await small.request('POST', '/v1/patrons/import', {
      body: rows(10, 'anon'), headers: { ...CSV, Expect: '100-continue' },
    });
    assertProblem(assert, r, 401, '', 'unauthorized');
  });

  test('20 000 rows import in one request', async () => {
    let text = 'email,name,amount_minor,currency,interval\n';
    for (let i = 0; i < 20000; i++) text += `many${i}@example.org,Reader Number ${i},${100 + i},UAH,month\n`;
    assert.ok(text.length > 1024 * 1024, 'over the 1 MiB JSON body limit');
    const r = await importCsv(text, '', { timeout: 300000 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { created: 20000, updated: 0, unchanged: 0, errors: [], applied: true });
    assert.equal(await s.psql("SELECT count(*) FROM pledges p JOIN patrons pa ON pa.id = p.patron_id WHERE pa.email LIKE 'many%' AND p.status = 'active'"), '20000');
  });
});
