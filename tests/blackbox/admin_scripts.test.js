'use strict';
// The admin scripts in deploy/admin/ (bash + curl + jq) run against a test
// server: their output, their exit codes, and their --help.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT, startServer, run, uniqueEmail, parseCsv, UUID_RE, activeMember,
} = require('./lib/harness');
const { standardSecret, standardBody, sendStandard, msgId } = require('./lib/webhooks');

const ADMIN = path.join(ROOT, 'deploy', 'admin');
const SCRIPTS = ['export-members', 'create-round', 'tally', 'webhooks-failed', 'webhook-replay', 'manual-pledge',
  'import-members'];
const SECRET = standardSecret();
let srv;

before(async () => { srv = await startServer({ env: { PATROND_STANDARD_WEBHOOK_SECRET: SECRET } }); });
after(async () => { if (srv) await srv.stop(); });

// Runs deploy/admin/NAME with the server's URL and admin key unless `env` overrides them.
function script(name, args = [], env = {}) {
  return run(path.join(ADMIN, name), args, {
    env: { PATROND_URL: srv.url, PATROND_ADMIN_KEY: srv.adminKey, PATROND_ADMIN_KEY_FILE: '', ...env },
  });
}

async function ok(name, args, env) {
  const r = await script(name, args, env);
  assert.equal(r.code, 0, `${name} ${args.join(' ')} → ${r.code}\n${r.stderr}${r.stdout}`);
  return r;
}

const member = (email = uniqueEmail('m')) => activeMember(srv, email);

// README.md names scripts as deploy/admin/NAME, deploy/README.md's examples as admin/NAME.
test('every script the READMEs name exists, is executable and is exercised here', () => {
  const named = new Set();
  const sources = [['README.md', /deploy\/admin\/([a-z][a-z-]*)/g], [path.join('deploy', 'README.md'), /(?:^|\s)admin\/([a-z][a-z-]*)/gm]];
  for (const [file, re] of sources) {
    for (const m of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(re)) named.add(m[1]);
  }
  assert.ok(named.size >= 5, `found the scripts named: ${[...named]}`);
  for (const name of named) {
    const file = path.join(ADMIN, name);
    assert.ok(fs.existsSync(file), `deploy/admin/${name}, named in a README, exists`);
    assert.doesNotThrow(() => fs.accessSync(file, fs.constants.X_OK), `deploy/admin/${name} is executable`);
    assert.ok(SCRIPTS.includes(name), `deploy/admin/${name} is run by this file`);
  }
});

describe('every script', () => {
  for (const name of SCRIPTS) {
    test(`${name} --help names its usage and environment`, async () => {
      const r = await run(path.join(ADMIN, name), ['--help'], { env: { PATROND_ADMIN_KEY: '' } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: ${name}`, 'm'));
      for (const v of ['PATROND_URL', 'PATROND_ADMIN_KEY', 'PATROND_ADMIN_KEY_FILE', 'http://127.0.0.1:8080']) {
        assert.ok(r.stdout.includes(v), `${name} --help mentions ${v}`);
      }
    });
  }

  test('a missing key, an unknown option, a wrong key and an unreachable server fail', async () => {
    let r = await script('tally', [], { PATROND_ADMIN_KEY: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PATROND_ADMIN_KEY/);
    r = await script('webhooks-failed', ['--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown argument: --bogus/);
    r = await script('export-members', [], { PATROND_ADMIN_KEY: 'pk_not_a_real_key' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^export-members: 401 /m);
    assert.equal(r.stdout, '', 'no partial output on stdout');
    // a read key may not write
    r = await script('create-round', ['--title', 'x', '--opens', 'now', '--closes', '+1 day', crypto.randomUUID()],
      { PATROND_ADMIN_KEY: srv.readKey });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^create-round: 403 /m);
    r = await script('tally', [], { PATROND_URL: 'http://127.0.0.1:9' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach patrond at http:\/\/127\.0\.0\.1:9/);
  });
});

test('export-members: CSV with a header, formula cells escaped, filters, key from a file', async () => {
  const evil = uniqueEmail('evil');
  const p = await srv.post('/v1/patrons', { email: evil, name: '=HYPERLINK("http://evil.example","x")' });
  assert.equal(p.status, 201, p.text);
  const plus = await srv.post('/v1/patrons', { email: uniqueEmail('plus'), name: '+1-555-0100' });
  assert.equal(plus.status, 201, plus.text);
  const m = await member(uniqueEmail('member'));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-admin-'));
  try {
    const keyFile = path.join(dir, 'key');
    fs.writeFileSync(keyFile, `${srv.adminKey}\n`, { mode: 0o600 });
    const out = path.join(dir, 'members.csv');
    const r = await ok('export-members', ['--output', out], { PATROND_ADMIN_KEY: '', PATROND_ADMIN_KEY_FILE: keyFile });
    assert.equal(r.stdout, '');
    const rows = parseCsv(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(rows[0], ['id', 'email', 'name', 'status', 'created_at']);
    const byEmail = Object.fromEntries(rows.slice(1).map((row) => [row[1], row]));
    assert.equal(byEmail[evil][0], p.json.id);
    assert.equal(byEmail[evil][2], `'=HYPERLINK("http://evil.example","x")`, 'a formula is escaped with a quote');
    assert.equal(byEmail[plus.json.email][2], "'+1-555-0100");
    assert.ok(rows.slice(1).every((row) => row.length === 5 && !/^[=+\-@]/.test(row[2])));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const members = parseCsv((await ok('export-members', ['--status', 'member'])).stdout);
  assert.ok(members.slice(1).some((row) => row[0] === m.id));
  assert.ok(members.slice(1).every((row) => row[3] === 'member'));
  const one = parseCsv((await ok('export-members', ['--query', evil])).stdout);
  assert.equal(one.length, 2);
  assert.equal(one[1][1], evil);

  const bad = await script('export-members', ['--status', 'vip']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /422/);
  assert.match(bad.stderr, /status: must be one of/);
});

test('manual-pledge: finds or creates the patron, issues one pledge per key', async () => {
  const email = uniqueEmail('Manual');
  const args = ['--email', email, '--name', 'Bank Transfer', '--amount-minor', '2500', '--currency', 'EUR',
    '--interval', 'year', '--ref', `TR-${crypto.randomBytes(3).toString('hex')}`];
  const first = await ok('manual-pledge', args);
  assert.match(first.stderr, /created patron/);
  const pledge = JSON.parse(first.stdout);
  assert.match(pledge.id, UUID_RE);
  assert.equal(pledge.provider, 'manual');
  assert.equal(pledge.status, 'active');
  assert.equal(pledge.amount_minor, 2500);
  assert.equal(pledge.interval, 'year');

  // the same command again (a retry after a timeout) issues nothing new
  const again = await ok('manual-pledge', args);
  assert.equal(JSON.parse(again.stdout).id, pledge.id);
  assert.doesNotMatch(again.stderr, /created patron/);
  assert.equal(await srv.psql(`SELECT count(*) FROM pledges WHERE patron_id = '${pledge.patron_id}'`), '1');

  // an existing patron, found whatever the case of the address
  const second = await ok('manual-pledge', ['--email', email.toUpperCase(), '--amount-minor', '700',
    '--currency', 'USD', '--idempotency-key', crypto.randomUUID()]);
  assert.equal(JSON.parse(second.stdout).patron_id, pledge.patron_id);
  assert.equal(await srv.psql(`SELECT count(*) FROM patrons WHERE lower(email) = lower('${email}')`), '1');
  const patron = await srv.get(`/v1/patrons/${pledge.patron_id}`);
  assert.equal(patron.json.status, 'member');

  const bad = await script('manual-pledge', ['--email', uniqueEmail(), '--amount-minor', '100', '--currency', 'XXX']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^manual-pledge: 422 /m);
  assert.match(bad.stderr, /currency:/);
  const usage = await script('manual-pledge', ['--email', 'a@example.org', '--amount-minor', '1.5', '--currency', 'USD']);
  assert.equal(usage.code, 2);
});

test('create-round and tally: a round from topic ids, its tally as an aligned table', async () => {
  const ids = [];
  for (const title of ['Housing costs', 'School meals', 'River pollution']) {
    const t = await srv.post('/v1/topics', { title, description: 'why it matters' });
    assert.equal(t.status, 201, t.text);
    ids.push(t.json.id);
  }
  const created = await ok('create-round', ['--title', 'What should we cover next?', '--opens', '-1 minute',
    '--closes', '+1 day', '--max-choices', '2', ...ids]);
  const roundId = /^round\s+(\S+)$/m.exec(created.stdout)?.[1];
  assert.match(roundId || '', UUID_RE, created.stdout);
  assert.match(created.stdout, /^status\s+open$/m);
  assert.match(created.stdout, /^choices\s+2$/m);
  const round = await srv.get(`/v1/rounds/${roundId}`);
  assert.deepEqual(round.json.topic_ids, ids);

  const voters = [await member(), await member(), await member()];
  const vote = (who, topicIds) => srv.request('PUT', `/v1/rounds/${roundId}/ballot`, { key: who.token, body: { topic_ids: topicIds } });
  assert.equal((await vote(voters[0], [ids[1], ids[2]])).status, 200);
  assert.equal((await vote(voters[1], [ids[1]])).status, 200);
  assert.equal((await vote(voters[2], [ids[2]])).status, 200);

  for (const args of [[roundId], []]) {
    const r = await ok('tally', args);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.match(lines[0], new RegExp(`^round ${roundId}  open, closes `));
    assert.match(lines[1], /^voters 3 of \d+ eligible, total weight 3$/);
    const table = lines.slice(2);
    assert.match(table[0], /^RANK\s+VOTES\s+WEIGHT\s+SHARE\s+TOPIC$/);
    assert.equal(table.length, 4);
    // ties share rank 1; numbers right-aligned under their headings
    assert.match(table[1], /^ {3}1 {6}2 {7}2 {2}66\.7% {2}(School meals|River pollution)$/);
    assert.match(table[2], /^ {3}1 {6}2 {7}2 {2}66\.7% {2}(School meals|River pollution)$/);
    assert.match(table[3], /^ {3}3 {6}0 {7}0 {5}0% {2}Housing costs$/);
    const topicColumn = table.map((l) => l.search(/(TOPIC|School|River|Housing)/));
    assert.equal(new Set(topicColumn).size, 1, 'titles start in one column');
  }
  const json = JSON.parse((await ok('tally', [roundId, '--json'])).stdout);
  assert.equal(json.voters, 3);

  const bad = await script('create-round', ['--title', 'x', '--opens', '+1 hour', '--closes', '+2 hours', crypto.randomUUID()]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^create-round: 422 /m);
  assert.match(bad.stderr, /topic_ids:/);
  const badDate = await script('create-round', ['--title', 'x', '--opens', 'the day after never', '--closes', '+1 day', ids[0]]);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /--opens: cannot read a date/);
  const missing = await script('tally', [crypto.randomUUID()]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^tally: 404 /m);
});

test('webhooks-failed and webhook-replay: list, replay one, replay all', async () => {
  const empty = await ok('webhooks-failed', []);
  assert.equal(empty.stdout, '');
  assert.match(empty.stderr, /no failed webhook events/);

  const ref = `sub_${crypto.randomBytes(6).toString('hex')}`;
  const keys = [msgId(), msgId()];
  for (const [i, id] of keys.entries()) {
    const res = await sendStandard(srv, standardBody('payment.refunded', {
      subscription_id: ref, payment_id: `pay_${i}_${ref}`, amount_minor: 250, currency: 'USD',
    }), { id, secret: SECRET });
    assert.equal(res.status, 200, res.text);
  }
  const events = (await srv.get('/v1/webhook-events?status=failed')).json.data;
  assert.equal(events.length, 2);

  const listed = await ok('webhooks-failed', []);
  const lines = listed.stdout.split('\n').filter(Boolean);
  assert.match(lines[0], /^ID\s+RECEIVED\s+PROVIDER\s+TYPE\s+ATTEMPTS\s+REASON$/);
  assert.equal(lines.length, 3);
  for (const e of events) {
    assert.ok(lines.some((l) => l.startsWith(`${e.id}  `) && /standard\s+payment\.refunded\s+1\s+No pledge matches/.test(l)),
      `${e.id} listed:\n${listed.stdout}`);
  }
  const asJson = (await ok('webhooks-failed', ['--json', '--provider', 'standard'])).stdout.trim().split('\n').map(JSON.parse);
  assert.deepEqual(asJson.map((e) => e.id).sort(), events.map((e) => e.id).sort());
  assert.equal((await ok('webhooks-failed', ['--provider', 'stripe'])).stdout, '');

  // the cause is not fixed yet: the replay says so and exits 1
  const early = await script('webhook-replay', [events[0].id]);
  assert.equal(early.code, 1);
  assert.match(early.stdout, new RegExp(`^${events[0].id}  failed  No pledge matches`, 'm'));
  assert.match(early.stderr, /1 of 1 event\(s\) still failed/);

  const p = await srv.post('/v1/patrons', { email: uniqueEmail('wh') });
  const pl = await srv.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 250, currency: 'USD', interval: 'month',
    provider: 'standard', provider_ref: ref, status: 'active',
  });
  assert.equal(pl.status, 201, pl.text);
  const one = await ok('webhook-replay', [events[0].id]);
  assert.equal(one.stdout.trim(), `${events[0].id}  applied`);
  const all = await ok('webhook-replay', ['--all']);
  assert.equal(all.stdout.trim(), `${events[1].id}  applied`);
  assert.equal((await ok('webhooks-failed', [])).stdout, '');
  assert.equal(await srv.psql(`SELECT count(*) FROM payments WHERE pledge_id = '${pl.json.id}'`), '2');

  const unknown = await script('webhook-replay', [crypto.randomUUID()]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^webhook-replay: 404 /m);
  assert.equal((await script('webhook-replay', [])).code, 2);
});

test('import-members: a dry run by default, per-line problems, --apply, --skip-invalid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-'));
  const good = path.join(dir, 'good.csv');
  const email = uniqueEmail('imp');
  fs.writeFileSync(good, `email,name,amount,currency,interval\n${email},Script Reader,4.00,USD,month\n`);
  const count = () => srv.psql(`SELECT count(*) FROM patrons WHERE email = '${email}'`);

  let r = await ok('import-members', [good]);
  assert.equal(r.stdout, 'Dry run, nothing changed: 1 new, 0 updated, 0 unchanged.\nRun again with --apply to import.\n');
  assert.equal(await count(), '0');
  r = await ok('import-members', [good, '--apply']);
  assert.equal(r.stdout, 'Imported: 1 new, 0 updated, 0 unchanged.\n');
  assert.equal(await count(), '1');
  r = await ok('import-members', [good, '--apply', '--json']);
  assert.deepEqual(JSON.parse(r.stdout), { created: 0, updated: 0, unchanged: 1, errors: [], applied: true });

  const bad = path.join(dir, 'bad.csv');
  const other = uniqueEmail('imp');
  fs.writeFileSync(bad, `email;amount;currency;interval\n${other};5,00;USD;month\nnope;;;\n${uniqueEmail('imp')};;;\n`);
  r = await script('import-members', [bad, '--apply']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'Not imported (the file has errors), nothing changed: 1 new, 0 updated, 0 unchanged; 2 problem(s):\n' +
    '  line 2, amount: must use a dot as the decimal separator, like 5.00 (not 5,00)\n' +
    '  line 3, email: is not a valid e-mail address\n');
  r = await ok('import-members', [bad, '--apply', '--skip-invalid']);
  assert.match(r.stdout, /^Imported: 1 new, 0 updated, 0 unchanged; 2 problem\(s\):/);
  assert.equal(await srv.psql(`SELECT count(*) FROM patrons WHERE email = '${other}'`), '0');

  assert.equal((await script('import-members', [])).code, 2);
  assert.equal((await script('import-members', [path.join(dir, 'missing.csv')])).code, 2);
  fs.rmSync(dir, { recursive: true });
});
