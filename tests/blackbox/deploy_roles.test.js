'use strict';
// deploy/roles.sql: the schema owner migrates, the least-privilege app role
// serves. The app role can run the whole server (no DDL at start-up) and
// nothing more; later migrations' objects are usable by it at once.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT, BIN, startServer, run, psql, cli, conninfo, createDatabase, dropDatabase, uniqueEmail, UUID_RE,
} = require('./lib/harness');
const { standardSecret, standardBody, sendStandard } = require('./lib/webhooks');

const PSQL = '/usr/bin/psql';
const ROLES_SQL = path.join(ROOT, 'deploy', 'roles.sql');
const tag = crypto.randomBytes(4).toString('hex');
const OWNER = `t_owner_${tag}`;
const APP = `t_app_${tag}`;
const SECRET = standardSecret();
let db, srv;

const as = (role) => `${conninfo(db)} user=${role}`.replace(/user=patrond /, '');
const applyRoles = () => run(PSQL, ['-X', '-q', '-d', conninfo(db), '-v', `owner=${OWNER}`, '-v', `app=${APP}`,
  '-f', ROLES_SQL]);

// psql as `role`; resolves {code, stdout, stderr}.
const sqlAs = (role, sql) => run(PSQL, ['-X', '-v', 'ON_ERROR_STOP=1', '-tA', '-d', as(role), '-c', sql]);

before(async () => {
  db = await createDatabase();
  await psql(conninfo('postgres'), `CREATE ROLE ${OWNER} LOGIN`);
  await psql(conninfo('postgres'), `ALTER DATABASE ${db} OWNER TO ${OWNER}`);
});

after(async () => {
  try {
    await srv?.stop();
  } finally {
    await dropDatabase(db);
    await psql(conninfo('postgres'), `DROP ROLE IF EXISTS ${APP}`).catch(() => {});
    await psql(conninfo('postgres'), `DROP ROLE IF EXISTS ${OWNER}`).catch(() => {});
  }
});

test('migrate as the owner, apply roles.sql, serve as the app role', async () => {
  const mig = await cli(as(OWNER), ['migrate']);
  assert.equal(mig.code, 0, mig.stderr);
  const roles = await applyRoles();
  assert.equal(roles.code, 0, roles.stderr);
  assert.doesNotMatch(roles.stderr, /WARNING/, 'everything is the owner\'s');
  const again = await applyRoles();
  assert.equal(again.code, 0, `idempotent: ${again.stderr}`);

  // the app role creates the first admin key and serves
  const key = await cli(as(APP), ['key', 'create', '--scope', 'admin', '--name', 'deploy']);
  assert.equal(key.code, 0, key.stderr);
  const adminKey = key.stdout.trim().split('\n').pop();
  srv = await startServer({
    dbName: db, dbUrl: as(APP), skipMigrate: true, adminKey, keepDb: true,
    env: { PATROND_STANDARD_WEBHOOK_SECRET: SECRET },
  });
  assert.equal((await srv.request('GET', '/readyz')).status, 200);

  // a short flow touching most tables, sequences and functions
  const email = uniqueEmail('role');
  const patron = await srv.post('/v1/patrons', { email, name: 'Role Reader' });
  assert.equal(patron.status, 201, patron.text);
  const sub = `sub_${tag}`;
  const base = { email, subscription_id: sub, amount_minor: 500, currency: 'USD', interval: 'month' };
  for (const [type, data] of [['pledge.activated', base], ['payment.succeeded', { ...base, payment_id: `pay_${tag}` }]]) {
    const r = await sendStandard(srv, standardBody(type, data), { secret: SECRET });
    assert.equal(r.status, 200, r.text);
  }
  const me = await srv.get(`/v1/patrons/${patron.json.id}`);
  assert.equal(me.json.status, 'member', me.text);
  const topic = await srv.post('/v1/topics', { title: 'Roles', description: 'least privilege' });
  assert.equal(topic.status, 201, topic.text);
  const round = await srv.post('/v1/rounds', {
    title: 'Next?', topic_ids: [topic.json.id],
    opens_at: new Date(Date.now() - 60000).toISOString(), closes_at: new Date(Date.now() + 3600000).toISOString(),
  });
  assert.equal(round.status, 201, round.text);
  const token = crypto.randomBytes(32).toString('base64url');
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  await srv.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at)
                  VALUES ('${patron.json.id}', decode('${hash}', 'hex'), now() + interval '1 day')`);
  const ballot = await srv.request('PUT', `/v1/rounds/${round.json.id}/ballot`, { key: token, body: { topic_ids: [topic.json.id] } });
  assert.equal(ballot.status, 200, ballot.text);
  const tally = await srv.request('GET', '/v1/rounds/current/tally');
  assert.equal(tally.status, 200, tally.text);
  assert.equal(tally.json.voters, 1);
  const pledge = await srv.post('/v1/pledges', {
    patron_id: patron.json.id, amount_minor: 900, currency: 'EUR', interval: 'year', provider: 'manual',
  }, { headers: { 'Idempotency-Key': `k-${tag}` } });
  assert.equal(pledge.status, 201, pledge.text);
  assert.match(pledge.json.id, UUID_RE);
  assert.equal((await srv.get('/v1/audit')).status, 200);
  assert.equal((await srv.del(`/v1/patrons/${patron.json.id}`)).status, 204, 'GDPR erasure works as the app role');
  assert.equal(await srv.psql('SELECT current_user'), APP, 'the server\'s own connection string is the app role\'s');
  assert.doesNotMatch(srv.stderr, /permission denied|must be owner/, 'nothing the server or its jobs did was refused');
});

test('the app role can do nothing beyond rows', async () => {
  const denied = [
    'CREATE TABLE t_nope (x int)',
    'DROP TABLE patrons',
    'ALTER TABLE patrons ADD COLUMN nope int',
    'TRUNCATE patrons',
    'DELETE FROM schema_migrations',
    'INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, \'x\', \'x\')',
    'UPDATE schema_code SET checksum = \'x\'',
    'CREATE OR REPLACE FUNCTION rfc3339(t timestamptz) RETURNS text LANGUAGE sql AS \'SELECT \'\'x\'\'\'',
    'CREATE FUNCTION nope() RETURNS int LANGUAGE sql AS \'SELECT 1\'',
  ];
  for (const sql of denied) {
    const r = await sqlAs(APP, sql);
    assert.notEqual(r.code, 0, `the app role may not: ${sql}`);
    assert.match(r.stderr, /permission denied|must be owner/, sql);
  }
  assert.equal((await sqlAs(APP, 'SELECT count(*) > 0 FROM schema_migrations')).stdout.trim(), 't');
  assert.equal((await sqlAs(APP, 'SELECT count(*) FROM schema_code')).stdout.trim(), '1');
  // and it cannot migrate
  assert.notEqual((await cli(as(APP), ['migrate'])).code, 0);
});

test('objects a later migration creates (as the owner) are usable by the app role', async () => {
  const ddl = await sqlAs(OWNER, `CREATE TABLE later_${tag} (id bigserial PRIMARY KEY, v text);
    CREATE FUNCTION later_fn_${tag}() RETURNS int LANGUAGE sql AS 'SELECT 42'`);
  assert.equal(ddl.code, 0, ddl.stderr);
  const use = await sqlAs(APP, `INSERT INTO later_${tag} (v) VALUES ('x') RETURNING id;`);
  assert.equal(use.code, 0, use.stderr);
  assert.equal(use.stdout.trim().split('\n')[0], '1');
  assert.equal((await sqlAs(APP, `SELECT later_fn_${tag}()`)).stdout.trim(), '42');
  assert.equal((await sqlAs(APP, `DELETE FROM later_${tag}`)).code, 0);
  assert.notEqual((await sqlAs(APP, `DROP TABLE later_${tag}`)).code, 0);
});

test('roles.sql warns about objects someone other than the owner created', async () => {
  await psql(conninfo(db), `CREATE TABLE stray_${tag} (x int)`); // as the superuser
  const r = await applyRoles();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`WARNING: +stray_${tag} is owned by patrond, not ${OWNER}`));
});

// The rest of the deploy kit, checked for drift against what the server reads.
test('deploy/patrond.env.example names every variable of the README configuration table', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const vars = new Set(section.match(/\b(DATABASE_URL|PATROND_[A-Z_]+[A-Z])\b/g));
  assert.ok(vars.size >= 25, [...vars].join(' '));
  const example = fs.readFileSync(path.join(ROOT, 'deploy', 'patrond.env.example'), 'utf8');
  const missing = [...vars].filter((v) => !new RegExp(`\\b${v}\\b`).test(example));
  assert.deepEqual(missing, [], 'variables the example does not mention');
});

test('the systemd units parse without unknown keys', async (t) => {
  if (!fs.existsSync('/usr/bin/systemd-analyze')) return t.skip('no systemd-analyze');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-units-'));
  try {
    const units = { 'patrond@8081.service': 'patrond@.service', 'patrond.service': 'patrond.service', 'patrond-migrate.service': 'patrond-migrate.service' };
    for (const [name, file] of Object.entries(units)) {
      const text = fs.readFileSync(path.join(ROOT, 'deploy', file), 'utf8');
      assert.match(text, /^ProtectSystem=strict$/m);
      assert.match(text, /^NoNewPrivileges=yes$/m);
      assert.match(text, /^CapabilityBoundingSet=$/m);
      assert.doesNotMatch(text, /^ReadWritePaths=/m);
      // the binary path must exist for verify; the repository's build stands in
      fs.writeFileSync(path.join(dir, name), text.replaceAll('/usr/local/bin/patrond', BIN));
    }
    const r = await run('/usr/bin/systemd-analyze', ['verify', '--man=no', ...Object.keys(units).map((u) => path.join(dir, u))]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
