'use strict';
// Black-box harness: one throw-away database and one `patrond serve` per test
// file. Talks to the server only over HTTP and to the database only via psql.
//
// Environment:
//   PATROND_BIN            server binary (default build/patrond, relative to the repo root)
//   PATROND_TEST_PGHOST    unix socket directory of a throw-away PostgreSQL cluster
//                          (superuser `patrond`, trust auth), e.g. the one
//                          `scripts/pg.sh start DIR` prints (host=DIR/run)
//   PATROND_TEST_VERBOSE   when set, the server's stderr is copied to ours

const { spawn, execFile } = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { validateResponse } = require('./openapi');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.resolve(ROOT, process.env.PATROND_BIN || 'build/patrond');
const PSQL = fs.existsSync('/usr/bin/psql') ? '/usr/bin/psql' : 'psql';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_Z_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SANITIZER_RE =
  /AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer|MemorySanitizer|ERROR SUMMARY: [1-9]\d* errors/;
// PATROND_BIN may be a wrapper (tests/valgrind.sh) that makes the server many
// times slower: start-up and shutdown waits grow with it.
const SLOW = Number(process.env.PATROND_TEST_SLOWDOWN) || 1;

function pgHost() {
  const h = process.env.PATROND_TEST_PGHOST;
  if (!h) {
    throw new Error(
      'PATROND_TEST_PGHOST is not set: start a throw-away cluster with ' +
        '`scripts/pg.sh start /tmp/pgtest` and export PATROND_TEST_PGHOST=/tmp/pgtest/run');
  }
  return h;
}

// Runs a program; resolves {code, stdout, stderr}; never rejects on a non-zero exit.
function run(file, args, { env, input, timeout = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, {
      env: { ...process.env, ...env },
      cwd: ROOT,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        if (err.killed) return resolve({ code: null, signal: err.signal, stdout, stderr });
        return reject(err);
      }
      resolve({ code: err ? err.code : 0, signal: err ? err.signal : null, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

function conninfo(db, host = pgHost()) {
  return `host=${host} user=patrond dbname=${db}`;
}

// psql -tA: rows separated by newlines, fields by '|'. Returns the trimmed text.
async function psql(dbUrl, sql) {
  const r = await run(PSQL, ['-X', '-v', 'ON_ERROR_STOP=1', '-tA', '-d', dbUrl, '-c', sql]);
  if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.stderr}\nSQL: ${sql}`);
  return r.stdout.replace(/\n+$/, '');
}

// A SELECT returning one json value per row → array of parsed values.
async function psqlJson(dbUrl, sql) {
  const out = await psql(dbUrl, sql);
  return out === '' ? [] : out.split('\n').map((l) => JSON.parse(l));
}

async function createDatabase() {
  const name = 't_' + crypto.randomBytes(8).toString('hex');
  await psql(conninfo('postgres'), `CREATE DATABASE ${name}`);
  return name;
}

async function dropDatabase(name) {
  try {
    await psql(conninfo('postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (e) {
    // not fatal for the test outcome
    process.stderr.write(`harness: could not drop ${name}: ${e.message}\n`);
  }
}

// Runs the patrond CLI against a database.
function cli(dbUrl, args, env = {}) {
  return run(BIN, args, { env: { DATABASE_URL: dbUrl, ...env } });
}

function lastLine(s) {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}

async function createKey(dbUrl, scope, name = 'test') {
  const r = await cli(dbUrl, ['key', 'create', '--scope', scope, '--name', name]);
  if (r.code !== 0) throw new Error(`patrond key create failed (${r.code}): ${r.stderr}${r.stdout}`);
  const key = lastLine(r.stdout);
  if (!key) throw new Error(`patrond key create printed nothing: ${r.stderr}`);
  return key;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One HTTP request with full control. Options:
//   body     object → JSON with Content-Type: application/json; string/Buffer → sent as is
//   raw      true: never add a Content-Type
//   headers  extra headers (a value of null removes a default one)
//   key      API key for Authorization: Bearer
//   timeout  ms (default 15000)
//   openapi  false: do not check the response against api/openapi.yaml
// Resolves {status, headers, text, json}; json is null when the body is not JSON.
// Rejects when the response does not match api/openapi.yaml (lib/openapi.js).
function httpRequest(baseUrl, method, urlPath, opts = {}) {
  const u = new URL(urlPath, baseUrl);
  const headers = {};
  let payload = null;
  if (opts.body !== undefined && opts.body !== null) {
    if (Buffer.isBuffer(opts.body) || typeof opts.body === 'string') {
      payload = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    } else {
      payload = Buffer.from(JSON.stringify(opts.body));
      if (!opts.raw) headers['Content-Type'] = 'application/json';
    }
  }
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  if (payload !== null && !opts.chunked) headers['Content-Length'] = String(payload.length);
  if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
  for (const [k, v] of Object.entries(opts.headers || {})) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
    }
    if (v !== null && v !== undefined) headers[k] = v;
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request({
      host: u.hostname,
      port: u.port,
      method,
      path: u.pathname + u.search,
      headers,
      agent: false,
      timeout: opts.timeout || 15000,
      localAddress: opts.localAddress, // the client's address, for per-client limits and proxies
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => { if (!settled) { settled = true; reject(e); } });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const text = Buffer.concat(chunks).toString('utf8');
        if (opts.openapi !== false) {
          try {
            validateResponse(method, u.pathname + u.search, res.statusCode, res.headers, text);
          } catch (e) {
            return reject(e);
          }
        }
        let json = null;
        try { json = text.length ? JSON.parse(text) : null; } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
    req.on('error', (e) => {
      // the server may answer (e.g. 413) and close before it read everything we
      // sent; the response handler wins when it already fired
      setTimeout(() => { if (!settled) { settled = true; reject(e); } }, 200);
    });
    if (payload !== null) {
      if (opts.chunked) {
        const size = opts.chunkSize || 1024;
        for (let i = 0; i < payload.length; i += size) req.write(payload.subarray(i, i + size));
      } else {
        req.write(payload);
      }
    }
    req.end();
  });
}

// Starts a fresh database + `patrond serve`. opts.env: extra environment, or a
// function of the server's URL returning it (for settings that name the
// server itself, such as PATROND_PUBLIC_URL).
async function startServer(opts = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`patrond binary not found at ${BIN} (run make, or set PATROND_BIN)`);
  const dbName = opts.dbName || (await createDatabase());
  const dbUrl = opts.dbUrl || conninfo(dbName, opts.pgHost || pgHost());

  let adminKey = opts.adminKey || null, readKey = opts.readKey || null;
  if (!opts.skipMigrate) {
    const mig = await cli(dbUrl, ['migrate']);
    if (mig.code !== 0) throw new Error(`patrond migrate failed (${mig.code}):\n${mig.stderr}${mig.stdout}`);
    adminKey = await createKey(dbUrl, 'admin', 'test');
    readKey = await createKey(dbUrl, 'read', 'test-read');
  }

  let child, port, stdout = '', stderr = '', exit = null;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    stdout = '';
    stderr = '';
    exit = null;
    child = spawn(BIN, ['serve', ...(opts.args || [])], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        PATROND_LISTEN: `127.0.0.1:${port}`,
        PATROND_THREADS: '4',
        ...(typeof opts.env === 'function' ? opts.env(`http://127.0.0.1:${port}`) : opts.env || {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => { exit = { code, signal }; resolve(exit); });
    });
    child.exited = exited;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (process.env.PATROND_TEST_VERBOSE) process.stderr.write(d);
    });

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15000 * SLOW;
    let ready = false;
    while (Date.now() < deadline && !exit) {
      try {
        const r = await httpRequest(url, 'GET', '/healthz', { timeout: 1000 * SLOW });
        if (r.status === 200) { ready = true; break; }
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    if (ready) break;
    if (!exit) {
      child.kill('SIGKILL');
      await exited;
    }
    if (attempt < 2 && /in use|EADDRINUSE|bind/i.test(stderr)) continue;
    if (!opts.dbName) await dropDatabase(dbName);
    throw new Error(`patrond serve did not become healthy (exit ${JSON.stringify(exit)}):\n${tail(stderr)}\n${tail(stdout)}`);
  }

  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const server = {
    url,
    port,
    adminKey,
    readKey,
    dbUrl,
    dbName,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get exit() { return exit; },
    get pid() { return child.pid; },
    // Stops reading the server's stderr, so the pipe fills up as under a
    // stalled journald; resumeStderr() reads (and keeps) what waited.
    pauseStderr: () => child.stderr.pause(),
    resumeStderr: () => child.stderr.resume(),
    request: (method, p, o) => httpRequest(url, method, p, o),
    // admin-key shorthands
    get: (p, o = {}) => httpRequest(url, 'GET', p, { key: adminKey, ...o }),
    post: (p, body, o = {}) => httpRequest(url, 'POST', p, { key: adminKey, body, ...o }),
    patch: (p, body, o = {}) => httpRequest(url, 'PATCH', p, { key: adminKey, body, ...o }),
    del: (p, o = {}) => httpRequest(url, 'DELETE', p, { key: adminKey, ...o }),
    psql: (sql) => psql(dbUrl, sql),
    psqlJson: (sql) => psqlJson(dbUrl, sql),
    cli: (args, env) => cli(dbUrl, args, env),
    // Sends `signal` (default SIGKILL: a crash, no shutdown), waits for the
    // exit and keeps the database; throws only on a sanitizer report.
    async kill(signal = 'SIGKILL') {
      if (stopped) return;
      stopped = true;
      if (!exit) {
        child.kill(signal);
        await child.exited;
      }
      await sleep(50 * SLOW);
      if (SANITIZER_RE.test(stderr)) {
        throw new Error(`sanitizer report on stderr\n--- stderr tail ---\n${sanitizerExcerpt(stderr)}`);
      }
    },
    // Sends SIGTERM, waits for the exit, drops the database, and throws if the
    // server did not exit 0 or a sanitizer reported anything.
    async stop() {
      if (stopped) return;
      stopped = true;
      let problem = null;
      if (!exit) {
        child.kill('SIGTERM');
        let timer;
        const t = new Promise((res) => { timer = setTimeout(() => res('timeout'), 10000 * SLOW); });
        const r = await Promise.race([child.exited, t]);
        clearTimeout(timer);
        if (r === 'timeout') {
          child.kill('SIGKILL');
          await child.exited;
          problem = `patrond did not exit within ${10 * SLOW} s of SIGTERM`;
        }
      }
      // let the pipes drain
      await sleep(50 * SLOW);
      if (!problem && exit && (exit.code !== 0 || exit.signal)) {
        problem = `patrond exited with ${JSON.stringify(exit)} (expected code 0)`;
      }
      if (SANITIZER_RE.test(stderr)) problem = (problem ? problem + '; ' : '') + 'sanitizer report on stderr';
      if (!opts.dbName && !opts.keepDb) await dropDatabase(dbName);
      if (problem) {
        throw new Error(`${problem}\n--- stderr tail ---\n${sanitizerExcerpt(stderr)}`);
      }
    },
  };
  return server;
}

function tail(s, n = 40) {
  return s.split('\n').slice(-n).join('\n');
}

function sanitizerExcerpt(s) {
  const i = s.search(SANITIZER_RE);
  if (i < 0) return tail(s);
  const start = s.lastIndexOf('\n', Math.max(0, i - 200));
  return s.slice(start < 0 ? 0 : start, i + 6000);
}

// Asserts a problem+json error response with the given status and, when
// given, the given registry code (include/errors.def); every problem
// carries some code.
function assertProblem(assert, res, status, msg = '', code = undefined) {
  const ctx = `${msg} → ${res.status} ${res.text.slice(0, 400)}`;
  assert.equal(res.status, status, `expected ${status}: ${ctx}`);
  assert.match(String(res.headers['content-type'] || ''), /^application\/problem\+json/i, `problem content-type: ${ctx}`);
  assert.ok(res.json && typeof res.json === 'object', `problem body is JSON: ${ctx}`);
  assert.equal(res.json.status, status, `problem .status: ${ctx}`);
  assert.equal(typeof res.json.title, 'string', `problem .title: ${ctx}`);
  assert.ok(res.json.type !== undefined, `problem .type: ${ctx}`);
  assert.equal(typeof res.json.code, 'string', `problem .code: ${ctx}`);
  if (code !== undefined) assert.equal(res.json.code, code, `problem .code: ${ctx}`);
}

// Asserts a 422 whose errors[] names `field`, with the given code.
function assertInvalid(assert, res, field, msg = '', code = 'validation_failed') {
  assertProblem(assert, res, 422, msg, code);
  assert.ok(Array.isArray(res.json.errors), `errors[] present: ${msg} ${res.text}`);
  if (field) {
    assert.ok(res.json.errors.some((e) => e.field === field),
      `errors[] names field ${field}: ${msg} ${res.text}`);
  }
}

function uniqueEmail(prefix = 'p') {
  return `${prefix}-${crypto.randomBytes(5).toString('hex')}@example.org`;
}

// Pages through a list endpoint; returns all items (fails on a loop).
async function pageAll(srv, basePath, { limit = 50, key } = {}) {
  const items = [];
  let after = null;
  for (let i = 0; i < 1000; i++) {
    const sep = basePath.includes('?') ? '&' : '?';
    const p = `${basePath}${sep}limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const r = await srv.request('GET', p, { key: key || srv.adminKey });
    if (r.status !== 200) throw new Error(`GET ${p} → ${r.status} ${r.text}`);
    items.push(...r.json.data);
    if (r.json.data.length > limit) throw new Error(`GET ${p} returned more than limit`);
    if (r.json.next_cursor === null) return items;
    if (r.json.next_cursor === after) throw new Error(`cursor did not advance on ${p}`);
    after = r.json.next_cursor;
  }
  throw new Error('pagination did not terminate');
}

// Minimal RFC 4180 parser (CRLF or LF line ends).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    field += c; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// Patron sessions made in the database directly (the server keeps only the
// token's SHA-256); returns the tokens, in the order of the ids.
async function sessionsFor(srv, patronIds) {
  const tokens = patronIds.map(() => crypto.randomBytes(32).toString('base64url'));
  const rows = patronIds.map((id, i) => {
    const hash = crypto.createHash('sha256').update(tokens[i]).digest('hex');
    return `('${id}', decode('${hash}', 'hex'), now() + interval '1 day')`;
  });
  await srv.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at) VALUES ${rows.join(',')}`);
  return tokens;
}

// A patron who is a member (an active manual pledge) with a session:
// {id, token}.
async function activeMember(srv, email = uniqueEmail('member')) {
  const p = await srv.post('/v1/patrons', { email });
  if (p.status !== 201) throw new Error(`patron: ${p.status} ${p.text}`);
  const pl = await srv.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'manual', status: 'active',
  });
  if (pl.status !== 201) throw new Error(`pledge: ${pl.status} ${pl.text}`);
  const [token] = await sessionsFor(srv, [p.json.id]);
  return { id: p.json.id, token };
}

// A PostgreSQL cluster of the test's own (scripts/pg.sh), for tests that
// stop and start it under a running patrond. start() answers its
// connection string; remove() stops it if need be and deletes it.
function privateCluster(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const pg = async (cmd) => {
    const r = await run('bash', [path.join(ROOT, 'scripts', 'pg.sh'), cmd, dir], { timeout: 60000 });
    if (r.code !== 0) throw new Error(`pg.sh ${cmd} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    start: async () => lastLine(await pg('start')),
    stop: () => pg('stop'),
    remove: async () => {
      await pg('stop').catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Polls fn every 100 ms until it answers something truthy, which it
// returns; throws, naming `what`, once timeoutMs has passed.
async function waitFor(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

module.exports = {
  sessionsFor, activeMember, privateCluster,
  ROOT, BIN, PSQL, UUID_RE, RFC3339_Z_RE, SANITIZER_RE,
  startServer, httpRequest, psql, psqlJson, cli, run, conninfo, createDatabase, dropDatabase,
  createKey, lastLine, freePort, sleep, waitFor, assertProblem, assertInvalid, uniqueEmail, pageAll, parseCsv,
};
