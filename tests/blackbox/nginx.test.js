'use strict';
// Debian's nginx, configured with deploy/nginx's snippets (the ones the
// production site includes), in front of two patrond processes on one
// database: the public flow and a signed webhook go through it, both
// instances get traffic, patrond logs the client nginx saw, and the
// rate-limit zones answer 429.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT, startServer, httpRequest, run, freePort, sleep, uniqueEmail,
} = require('./lib/harness');
const { standardSecret, standardBody, msgId } = require('./lib/webhooks');
const { Webhook } = require('standardwebhooks');

const NGINX = '/usr/sbin/nginx';
const SNIPPETS = path.join(ROOT, 'deploy', 'nginx');
const SECRET = standardSecret();
const PATREON_URL = 'https://www.patreon.com/c/example';
// The client's address as nginx sees it: another loopback address, so it
// differs from nginx's own (the peer patrond sees).
const CLIENT = '127.0.0.2';
const NOBODY = 65534;

let a, b, nginx, dir, port, nginxLog = '';

function nginxConf() {
  const t = (f) => path.join(dir, f);
  return `worker_processes 1;
daemon off;
pid ${t('nginx.pid')};
error_log ${t('error.log')} warn;
events { worker_connections 512; }
http {
    access_log ${t('access.log')};
    client_body_temp_path ${t('client_body')};
    proxy_temp_path ${t('proxy')};
    fastcgi_temp_path ${t('fastcgi')};
    uwsgi_temp_path ${t('uwsgi')};
    scgi_temp_path ${t('scgi')};
    include ${t('patrond-http.conf')};
    upstream patrond {
        least_conn;
        server 127.0.0.1:${a.port} max_fails=3 fail_timeout=5s;
        server 127.0.0.1:${b.port} max_fails=3 fail_timeout=5s;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:${port};
        server_name localhost;
        include ${t('patrond-locations.conf')};
    }
}
`;
}

// One request to nginx from CLIENT. Resolves {status, headers, text, json}.
function via(method, urlPath, { body, headers = {}, key } = {}) {
  return httpRequest(`http://127.0.0.1:${port}`, method, urlPath,
    { body, headers, key, localAddress: CLIENT, openapi: false });
}

// patrond's access lines (both instances), tagged with the instance.
function accessLines() {
  const parse = (srv, name) => srv.stderr.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => { try { return { ...JSON.parse(l), instance: name }; } catch { return null; } })
    .filter((l) => l && l.status !== undefined && l.path !== undefined);
  return [...parse(a, 'a'), ...parse(b, 'b')];
}

// The access line of the request nginx tagged with this X-Request-Id,
// written once the response is done.
async function lineFor(requestId) {
  for (let i = 0; i < 200; i++) {
    const line = accessLines().find((l) => l.request_id === requestId);
    if (line) return line;
    await sleep(10);
  }
  assert.fail(`no patrond access line for request ${requestId}`);
}

before(async () => {
  const env = {
    PATROND_TRUSTED_PROXIES: '127.0.0.1',
    PATROND_STANDARD_WEBHOOK_SECRET: SECRET,
    PATROND_PATREON_CAMPAIGN_URL: PATREON_URL,
    PATROND_CHECKOUT_RATE_LIMIT: '1000',
  };
  a = await startServer({ env });
  b = await startServer({
    env, dbName: a.dbName, dbUrl: a.dbUrl, skipMigrate: true, adminKey: a.adminKey, readKey: a.readKey,
  });

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-nginx-'));
  for (const f of ['patrond-http.conf', 'patrond-locations.conf']) fs.copyFileSync(path.join(SNIPPETS, f), path.join(dir, f));
  port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf());
  // unprivileged: as nobody when the tests run as root
  const asRoot = process.getuid && process.getuid() === 0;
  if (asRoot) fs.chownSync(dir, NOBODY, NOBODY);
  const ids = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const args = ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')];
  const check = await new Promise((resolve) => {
    const c = spawn(NGINX, ['-t', ...args], { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    c.on('exit', (code) => resolve({ code, out }));
  });
  assert.equal(check.code, 0, `nginx -t:\n${check.out}`);
  nginx = spawn(NGINX, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stderr.on('data', (d) => { nginxLog += d; });
  nginx.exited = new Promise((resolve) => nginx.on('exit', resolve));
  for (let i = 0; i < 200; i++) {
    try {
      if ((await via('GET', '/healthz')).status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(25);
  }
  throw new Error(`nginx did not come up:\n${nginxLog}\n${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await Promise.race([nginx.exited, sleep(5000)]);
    if (nginx.exitCode === null) nginx.kill('SIGKILL');
  }
  // b first: a drops the shared database when it stops
  await b?.stop();
  await a?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('both instances answer, and each logs the client nginx saw', async () => {
  const seen = new Set();
  for (let i = 0; i < 12; i++) {
    const r = await via('GET', '/v1/tiers');
    assert.equal(r.status, 200, r.text);
    const rid = r.headers['x-request-id'];
    assert.match(rid, /^[0-9a-f]{32}$/, 'nginx\'s $request_id, passed on and echoed');
    const line = await lineFor(rid);
    assert.equal(line.client, CLIENT, JSON.stringify(line));
    seen.add(line.instance);
  }
  assert.deepEqual([...seen].sort(), ['a', 'b'], 'the upstream spreads requests over both');
});

test('the public flow: checkout, a signed webhook, a ballot and the tally, all through nginx', async () => {
  const email = uniqueEmail('nginx');
  const co = await via('POST', '/v1/checkout', {
    body: { email, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'patreon' },
  });
  assert.equal(co.status, 201, co.text);
  assert.deepEqual(co.json.redirect, { method: 'GET', url: PATREON_URL });

  // the provider's delivery: signed over the raw bytes, which nginx must not alter
  const body = standardBody('pledge.activated', {
    email, subscription_id: `sub_${crypto.randomBytes(5).toString('hex')}`, amount_minor: 500, currency: 'USD', interval: 'month',
  });
  const id = msgId();
  const when = new Date();
  const signature = new Webhook(SECRET).sign(id, when, body);
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(when / 1000)), 'webhook-signature': signature, 'Content-Type': 'application/json' };
  const wh = await via('POST', '/v1/webhooks/standard', { body, headers });
  assert.equal(wh.status, 200, wh.text);
  assert.deepEqual(wh.json, { received: true });
  const forged = await via('POST', '/v1/webhooks/standard', { body: body.replace('500', '501'), headers });
  assert.equal(forged.status, 401, 'a body changed on the way fails its signature');

  const patron = (await via('GET', `/v1/patrons?q=${encodeURIComponent(email)}`, { key: a.adminKey })).json.data[0];
  assert.equal(patron.status, 'member');

  const topic = await via('POST', '/v1/topics', { key: a.adminKey, body: { title: 'Through the proxy', description: 'x' } });
  assert.equal(topic.status, 201, topic.text);
  const round = await via('POST', '/v1/rounds', {
    key: a.adminKey,
    body: {
      title: 'Next?', topic_ids: [topic.json.id],
      opens_at: new Date(Date.now() - 60000).toISOString(), closes_at: new Date(Date.now() + 3600000).toISOString(),
    },
  });
  assert.equal(round.status, 201, round.text);
  const before = await via('GET', '/v1/rounds/current/tally');
  assert.equal(before.status, 200, before.text);
  assert.equal(before.json.voters, 0);

  const token = crypto.randomBytes(32).toString('base64url');
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  await a.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at)
                VALUES ('${patron.id}', decode('${hash}', 'hex'), now() + interval '1 day')`);
  const ballot = await via('PUT', `/v1/rounds/${round.json.id}/ballot`, { key: token, body: { topic_ids: [topic.json.id] } });
  assert.equal(ballot.status, 200, ballot.text);
  const tally = await via('GET', `/v1/rounds/${round.json.id}/tally`);
  assert.equal(tally.status, 200);
  assert.equal(tally.json.voters, 1);
  assert.equal(tally.json.topics[0].votes, 1);
  assert.ok(tally.headers.etag, 'the ETag passes through');
  const notModified = await via('GET', `/v1/rounds/${round.json.id}/tally`, { headers: { 'If-None-Match': tally.headers.etag } });
  assert.equal(notModified.status, 304);
});

test('nginx limits: body size 413, /metrics hidden', async () => {
  const big = await via('POST', '/v1/webhooks/standard', { body: 'x'.repeat(1024 * 1024 + 1), headers: { 'Content-Type': 'application/json' } });
  assert.equal(big.status, 413);
  assert.equal((await via('GET', '/metrics')).status, 404);
  assert.equal((await a.request('GET', '/metrics')).status, 200, 'scraped directly from the instance instead');
});

test('an import file over the 1m body limit goes through its own location', async () => {
  let csv = 'email,name\n';
  for (let i = 0; csv.length <= 1024 * 1024 + 1; i++) csv += `via-nginx-${i}@example.org,Reader via nginx number ${i}\n`;
  const rows = csv.split('\n').length - 2;
  const r = await via('POST', '/v1/patrons/import?dry_run=true', {
    body: csv, key: a.adminKey, headers: { 'Content-Type': 'text/csv' },
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { created: rows, updated: 0, unchanged: 0, errors: [], applied: false });
});

test('the write zone answers 429 in problem+json before patrond sees the request', async () => {
  const before = accessLines().filter((l) => l.path === '/v1/auth/magic-link').length;
  const replies = await Promise.all(Array.from({ length: 30 }, () =>
    via('POST', '/v1/auth/magic-link', { body: { email: uniqueEmail('burst') } })));
  const fromNginx = replies.filter((r) => r.status === 429 && !r.headers['x-request-id']);
  assert.ok(fromNginx.length >= 5, `burst 10 at 2 r/s: many of 30 at once are refused (${replies.map((r) => r.status)})`);
  for (const r of fromNginx) {
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
    assert.equal(r.json.status, 429);
    assert.equal(r.headers['retry-after'], '1');
  }
  const passed = replies.length - fromNginx.length;
  let after = 0;
  for (let i = 0; i < 200; i++) {
    after = accessLines().filter((l) => l.path === '/v1/auth/magic-link').length;
    if (after - before >= passed) break;
    await sleep(10);
  }
  assert.equal(after - before, passed, 'refused requests never reached patrond');
  // webhooks have no zone: providers retry in bursts
  const hooks = await Promise.all(Array.from({ length: 30 }, () =>
    via('POST', '/v1/webhooks/standard', { body: '{}', headers: { 'Content-Type': 'application/json' } })));
  assert.ok(hooks.every((r) => r.status === 401), hooks.map((r) => r.status).join(','));
});

test('deploy/nginx.conf itself is valid nginx (with a throw-away certificate)', async (t) => {
  const site = path.join(dir, 'site');
  fs.mkdirSync(site);
  const cert = path.join(site, 'cert.pem'), keyf = path.join(site, 'key.pem');
  const gen = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=members.example.org',
    '-keyout', keyf, '-out', cert]);
  if (gen.code !== 0) return t.skip(`openssl unavailable: ${gen.stderr}`);
  const conf = fs.readFileSync(path.join(ROOT, 'deploy', 'nginx.conf'), 'utf8')
    .replaceAll('/etc/nginx/snippets/', `${dir}/`)
    .replace(/\/etc\/letsencrypt\/live\/members\.example\.org\/fullchain\.pem/, cert)
    .replace(/\/etc\/letsencrypt\/live\/members\.example\.org\/privkey\.pem/, keyf);
  assert.doesNotMatch(conf.replace(/#.*$/gm, ''), /\/etc\//, 'every outside path was replaced');
  fs.writeFileSync(path.join(site, 'site.conf'), conf);
  fs.writeFileSync(path.join(site, 'main.conf'), `pid ${site}/nginx.pid;
error_log ${site}/error.log;
events {}
http {
    access_log off;
    client_body_temp_path ${site}/cb; proxy_temp_path ${site}/p; fastcgi_temp_path ${site}/f;
    uwsgi_temp_path ${site}/u; scgi_temp_path ${site}/s;
    include ${site}/site.conf;
}
`);
  const r = await run(NGINX, ['-t', '-p', site, '-e', `${site}/error.log`, '-c', `${site}/main.conf`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /syntax is ok/);
});
