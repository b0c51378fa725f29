'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startServer, createDatabase, dropDatabase, conninfo, cli, run, BIN, lastLine, freePort, psql,
  SANITIZER_RE, UUID_RE,
} = require('./lib/harness');

let s;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

function noSanitizer(r, what) {
  assert.ok(!SANITIZER_RE.test(r.stderr), `${what}: sanitizer report\n${r.stderr.slice(0, 4000)}`);
}

async function keyCreate(scope, name) {
  const r = await s.cli(['key', 'create', '--scope', scope, '--name', name]);
  noSanitizer(r, 'key create');
  assert.equal(r.code, 0, `key create: ${r.stderr}`);
  return lastLine(r.stdout);
}

async function keyIdByName(name) {
  const r = await s.cli(['key', 'list']);
  noSanitizer(r, 'key list');
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes(name));
  assert.ok(line, `key list shows ${name}:\n${r.stdout}`);
  const m = line.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
  assert.ok(m, `key list line has an id: ${line}`);
  return { id: m[0], line, all: r.stdout };
}

test('key create prints a working key as its last line', async () => {
  const name = `ci-${crypto.randomBytes(3).toString('hex')}`;
  const key = await keyCreate('admin', name);
  assert.match(key, /^[A-Za-z0-9_-]{43,}$/);
  const r = await s.request('GET', '/v1/patrons', { key });
  assert.equal(r.status, 200, r.text);
  const w = await s.request('POST', '/v1/tiers', { key, body: { name: 'cli', amount_minor: 1, currency: 'USD' } });
  assert.equal(w.status, 201, w.text);
});

test('a new read key can read but not write', async () => {
  const key = await keyCreate('read', `ro-${crypto.randomBytes(3).toString('hex')}`);
  assert.equal((await s.request('GET', '/v1/pledges', { key })).status, 200);
  assert.equal((await s.request('POST', '/v1/tiers', { key, body: { name: 'x', amount_minor: 1, currency: 'USD' } })).status, 403);
});

test('key list shows ids, scopes and names but never a secret', async () => {
  const name = `listed-${crypto.randomBytes(3).toString('hex')}`;
  const key = await keyCreate('read', name);
  const { id, line, all } = await keyIdByName(name);
  assert.match(id, UUID_RE);
  assert.match(line, /\bread\b/);
  for (const secret of [key, s.adminKey, s.readKey]) {
    assert.ok(!all.includes(secret), 'key list prints a secret');
    assert.ok(!all.includes(secret.slice(0, 20)), 'key list prints part of a secret');
  }
  const hashes = (await s.psql("SELECT encode(key_hash, 'hex') FROM api_keys")).split('\n');
  for (const h of hashes) assert.ok(!all.includes(h), 'key list prints a key hash');
});

test('key revoke ID → that key gets 401 on the running server; others keep working', async () => {
  const name = `revoke-${crypto.randomBytes(3).toString('hex')}`;
  const key = await keyCreate('admin', name);
  assert.equal((await s.request('GET', '/v1/patrons', { key })).status, 200);
  const { id } = await keyIdByName(name);
  const r = await s.cli(['key', 'revoke', id]);
  noSanitizer(r, 'key revoke');
  assert.equal(r.code, 0, r.stderr);
  const g = await s.request('GET', '/v1/patrons', { key });
  assert.equal(g.status, 401, `revoked key → ${g.status}`);
  assert.equal((await s.request('GET', '/v1/patrons', { key: s.adminKey })).status, 200, 'other keys unaffected');
  const { line } = await keyIdByName(name);
  assert.match(line, /revoked|true|\d{4}-\d{2}-\d{2}.*\d{4}-\d{2}-\d{2}/i, `key list marks it revoked: ${line}`);
});

test('key commands reject bad arguments with a non-zero exit', async () => {
  for (const args of [
    ['key', 'create', '--scope', 'root', '--name', 'x'],
    ['key', 'create', '--scope', 'admin'],
    ['key', 'create', '--name', 'noscope'],
    ['key', 'create', '--scope', 'admin', '--name', ''],
    ['key', 'revoke', crypto.randomUUID()],
    ['key', 'revoke', 'not-a-uuid'],
    ['key', 'revoke'],
    ['key', 'frobnicate'],
    ['frobnicate'],
  ]) {
    const r = await s.cli(args);
    noSanitizer(r, args.join(' '));
    assert.notEqual(r.code, 0, `patrond ${args.join(' ')} exited 0: ${r.stdout}`);
    assert.ok(r.code !== null, `patrond ${args.join(' ')} was killed by ${r.signal}`);
    assert.ok(r.stderr.trim().length > 0, `patrond ${args.join(' ')} says why on stderr`);
  }
  assert.equal(await s.psql("SELECT count(*) FROM api_keys WHERE scope NOT IN ('admin','read') OR name = ''"), '0');
});

test('migrate --status lists applied migrations; migrate is idempotent', async () => {
  const st = await s.cli(['migrate', '--status']);
  noSanitizer(st, 'migrate --status');
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /0001/, `migrate --status mentions 0001_core:\n${st.stdout}`);
  const again = await s.cli(['migrate']);
  assert.equal(again.code, 0, again.stderr);
  const st2 = await s.cli(['migrate', '--status']);
  assert.equal(st2.stdout, st.stdout, 'status unchanged by a second migrate');
});

test('migrate --status on an empty database shows pending; concurrent migrates apply once', async () => {
  const db = await createDatabase();
  const url = conninfo(db);
  try {
    const st = await cli(url, ['migrate', '--status']);
    noSanitizer(st, 'migrate --status (empty)');
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /0001/);
    const rs = await Promise.all([1, 2, 3, 4].map(() => cli(url, ['migrate'])));
    for (const r of rs) {
      noSanitizer(r, 'parallel migrate');
      assert.equal(r.code, 0, `parallel migrate failed: ${r.stderr}`);
    }
    const st2 = await cli(url, ['migrate', '--status']);
    assert.notEqual(st2.stdout, st.stdout, 'status changes once applied');
    const key = await cli(url, ['key', 'create', '--scope', 'admin', '--name', 'x']);
    assert.equal(key.code, 0, key.stderr);
  } finally {
    await dropDatabase(db);
  }
});

test('changed SQL code is pending: status says so, serve and /readyz refuse, migrate applies it', async () => {
  const db = await createDatabase();
  const url = conninfo(db);
  let srv;
  try {
    srv = await startServer({ dbName: db, dbUrl: url });
    assert.match((await cli(url, ['migrate', '--status'])).stdout, /^code  sql\/ .*Z$/m);
    // what a database whose functions came from another build looks like
    await psql(url, "UPDATE schema_code SET checksum = 'other'");
    await psql(url, "CREATE OR REPLACE FUNCTION rfc3339(t timestamptz) RETURNS text LANGUAGE sql STABLE AS 'SELECT ''stale'''");
    const st = await cli(url, ['migrate', '--status']);
    noSanitizer(st, 'migrate --status (changed code)');
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^code  sql\/ .*changed since .*pending$/m);
    const ready = await srv.request('GET', '/readyz');
    assert.equal(ready.status, 503, `readyz with changed SQL code → ${ready.status}`);
    const port = await freePort();
    const r = await run(BIN, ['serve'], {
      env: { DATABASE_URL: url, PATROND_LISTEN: `127.0.0.1:${port}` }, timeout: 10000,
    });
    noSanitizer(r, 'serve with changed SQL code');
    assert.ok(r.code !== 0 && r.code !== null, `serve exited with ${r.code}`);
    assert.match(r.stderr, /1 migration\(s\) pending/);
    const m = await cli(url, ['migrate']);
    noSanitizer(m, 'migrate (changed code)');
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /applied the SQL code/);
    assert.match(m.stdout, /0 applied, schema is current/);
    assert.notEqual(await psql(url, "SELECT rfc3339('2026-01-02T03:04:05Z')"), 'stale');
    assert.equal((await srv.request('GET', '/readyz')).status, 200);
    const again = await cli(url, ['migrate']);
    assert.doesNotMatch(again.stdout, /SQL code/, 'current code is not applied again');
  } finally {
    if (srv) await srv.stop();
    await dropDatabase(db);
  }
});

test('serve refuses a bad configuration with a message naming the variable', async () => {
  const port = await freePort();
  for (const [k, v] of [['PATROND_LISTEN', 'not-an-address'], ['PATROND_BODY_LIMIT', 'lots'],
    ['PATROND_THREADS', '-3'], ['PATROND_MAX_AMOUNT_MINOR', 'x'], ['PATROND_CURRENCIES', 'US,EURO']]) {
    const r = await run(BIN, ['serve'], {
      env: { DATABASE_URL: s.dbUrl, PATROND_LISTEN: `127.0.0.1:${port}`, [k]: v }, timeout: 5000,
    });
    noSanitizer(r, `serve with ${k}=${v}`);
    assert.ok(r.code !== 0 && r.code !== null, `serve with ${k}=${v} → code ${r.code} signal ${r.signal}`);
    assert.ok(r.stderr.includes(k), `error names ${k}: ${r.stderr}`);
  }
});

test('serve refuses an unmigrated database unless told to migrate', async () => {
  const db = await createDatabase();
  let srv;
  try {
    const port = await freePort();
    const r = await run(BIN, ['serve'], {
      env: { DATABASE_URL: conninfo(db), PATROND_LISTEN: `127.0.0.1:${port}` }, timeout: 10000,
    });
    noSanitizer(r, 'serve on an unmigrated database');
    assert.ok(r.code !== 0 && r.code !== null, `serve exited with ${r.code}`);
    assert.match(r.stderr, /migration\(s\) pending/);
    srv = await startServer({ dbName: db, dbUrl: conninfo(db), skipMigrate: true, args: ['--migrate'] });
    const ready = await srv.request('GET', '/readyz');
    assert.equal(ready.status, 200, `readyz after serve --migrate → ${ready.status} ${ready.text}`);
  } finally {
    if (srv) await srv.stop();
    await dropDatabase(db);
  }
});

