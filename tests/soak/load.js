'use strict';
// The load and the verdict of `make soak` (tests/soak/run.sh starts patrond
// and passes what it needs in the environment). CONN workers repeat one
// cycle as fast as they are answered: tally reads with and without
// If-None-Match, ballots from random members of the bench's 100 000, and
// signed Stripe deliveries of which one in four fails to apply. Beside them,
// at fixed rates: magic-link requests from changing client addresses, and
// admin lists. Every 10 s the server's RSS, open fds and PostgreSQL
// connections are sampled; the second half of the run must show no growth.
const http = require('node:http');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const Stripe = require('stripe');

const env = (k, d) => process.env[k] ?? d;
const SOAK_S = Number(env('SOAK_S', 600));
const CONN = Number(env('CONN', 16));
const PID = Number(env('PATROND_PID'));
const BASE = new URL(env('PATROND_URL'));
const ROUND = env('ROUND_ID');
const TOPICS = env('TOPIC_IDS').split(',');
const ADMIN_KEY = env('ADMIN_KEY');
const SECRET = env('SECRET');
const MEMBERS = 100000;
// RSS and fds every 2 s (more points shrink the fit's scatter), the
// database's connection count and a printed row every 10 s.
const SAMPLE_MS = 2000;
const ROW_EVERY = 5;
// one in 10 000 writes may leave 1 KB behind before it counts as growth
const MAX_KB_PER_1000_WRITES = 0.1;
const stripe = new Stripe('sk_test_unused');

const stats = { writes: 0, requests: 0, errors: 0, byKind: {}, firstErrors: [] };
let etag = null;
let stopping = false;

function request(method, path, { headers = {}, body, agent, localAddress } = {}) {
  return new Promise((resolve) => {
    const req = http.request({
      host: BASE.hostname, port: BASE.port, method, path, agent, localAddress,
      headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
      timeout: 30000,
    }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
      res.on('error', (e) => resolve({ status: 0, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.end(body);
  });
}

function tally(r, kind, ok) {
  stats.requests++;
  const k = `${kind} ${r.status}`;
  stats.byKind[k] = (stats.byKind[k] || 0) + 1;
  if (!ok.includes(r.status)) {
    stats.errors++;
    if (stats.firstErrors.length < 10) stats.firstErrors.push(`${kind}: ${r.status} ${r.error || ''}`);
  }
  return r;
}

const pick = (n) => 1 + Math.floor(Math.random() * n);
const json = { 'Content-Type': 'application/json' };

async function readTally(agent, conditional) {
  const headers = conditional && etag ? { 'If-None-Match': etag } : {};
  const r = tally(await request('GET', `/v1/rounds/${ROUND}/tally`, { agent, headers }),
    conditional ? 'tally-inm' : 'tally', [200, 304]);
  if (r.status === 200 && r.headers.etag) etag = r.headers.etag;
}

async function ballot(agent) {
  const body = `{"topic_ids":[${TOPICS[pick(TOPICS.length) - 1]}]}`;
  const r = tally(await request('PUT', `/v1/rounds/${ROUND}/ballot`, {
    agent, body, headers: { ...json, Authorization: `Bearer tok-${pick(MEMBERS)}` },
  }), 'ballot', [200]);
  if (r.status === 200) stats.writes++;
}

let delivery = 0;
// invoice.paid as Stripe sends it; a negative amount makes it fail to apply
async function webhook(agent) {
  const i = delivery++, sub = pick(MEMBERS), now = Math.floor(Date.now() / 1000);
  const failing = i % 4 === 3;
  const body = JSON.stringify({
    id: `evt_soak_${process.pid}_${i}`, object: 'event', type: 'invoice.paid', created: now,
    api_version: '2025-03-31.basil',
    data: { object: { id: `in_soak_${process.pid}_${i}`, object: 'invoice', customer: `cus_${sub}`,
      customer_email: `p${sub}@example.org`, amount_paid: failing ? -500 : 500, currency: 'uah',
      billing_reason: 'subscription_cycle', parent: { subscription_details: { subscription: `sub_${sub}` } },
      lines: { data: [{ period: { start: now, end: now + 2592000 } }] } } },
  });
  const sig = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
  const r = tally(await request('POST', '/v1/webhooks/stripe', {
    agent, body, headers: { ...json, 'Stripe-Signature': sig },
  }), failing ? 'webhook-failing' : 'webhook', [200]);
  if (r.status === 200) stats.writes++;
}

const CYCLE = [readTally, readTally, ballot, readTally, webhook, readTally, ballot, readTally];

async function worker(n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = n; !stopping; i++) {
    const step = CYCLE[i % CYCLE.length];
    await step(agent, step === readTally && i % 2 === 1);
  }
  agent.destroy();
}

// Every call from a new connection and one of 8 192 addresses, more than
// the rate-limit table holds, so its eviction runs too.
let linkNo = 0;
async function magicLink() {
  const n = linkNo++, ip = `127.1.${(n >> 8) & 31}.${1 + (n & 0xff) % 254}`;
  const r = tally(await request('POST', '/v1/auth/magic-link', {
    body: JSON.stringify({ email: `p${pick(MEMBERS)}@example.org` }), headers: json, localAddress: ip,
  }), 'magic-link', [202]);
  if (r.status === 202) stats.writes++;
}

const LISTS = ['/v1/patrons?limit=50', '/v1/webhook-events?limit=50', '/v1/payments?limit=50',
  '/v1/audit?limit=50', '/v1/pledges?limit=50'];
let listNo = 0;
async function adminList() {
  const path = LISTS[listNo++ % LISTS.length];
  tally(await request('GET', path, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } }),
    'admin-list', [200]);
}

async function paced(perSecond, fn) {
  const gap = 1000 / perSecond;
  for (let next = Date.now(); !stopping; next += gap) {
    await fn();
    const wait = next + gap - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

function sample(t0, withConns = true) {
  const status = fs.readFileSync(`/proc/${PID}/status`, 'utf8');
  const conns = withConns ? execFileSync('psql', ['-XtA', '-d', env('DATABASE_URL'), '-c',
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"],
  { encoding: 'utf8' }).trim() : null;
  return {
    t: Math.round((Date.now() - t0) / 1000),
    writes: stats.writes,
    requests: stats.requests,
    rssKb: Number(status.match(/^VmRSS:\s+(\d+)/m)[1]),
    fds: fs.readdirSync(`/proc/${PID}/fd`).length,
    conns: conns === null ? null : Number(conns),
    errors: stats.errors,
  };
}

// least squares: KB of RSS per 1 000 writes, with its standard error (how
// much of the figure the samples' scatter alone could make)
function slope(samples) {
  const n = samples.length, xs = samples.map((s) => s.writes / 1000), ys = samples.map((s) => s.rssKb);
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  const b = sxx ? sxy / sxx : 0;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - my - b * (xs[i] - mx)) ** 2;
  return { perK: b, stderr: sxx && n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : 0 };
}

// Growth of a noisy count (fds of in-flight connections and mail children,
// connections opened on demand): the median of the last third of the window
// more than `slack` above the median of its first third. A single low
// sample (a connection closing as it was taken) moves neither median; a
// leak of one fd per 10 000 requests adds dozens over a half.
function grows(values, slack) {
  const third = Math.max(1, Math.floor(values.length / 3));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return median(values.slice(-third)) > median(values.slice(0, third)) + slack;
}

async function main() {
  const t0 = Date.now();
  const samples = [sample(t0)];
  const row = (s) => console.log([s.t, s.writes, s.requests, s.rssKb, s.fds, s.conns, s.errors]
    .map((v) => String(v).padStart(9)).join(' '));
  console.log(['t_s', 'writes', 'requests', 'rss_kb', 'fds', 'pg_conns', 'errors']
    .map((v) => v.padStart(9)).join(' '));
  row(samples[0]);
  let tick = 0;
  const timer = setInterval(() => {
    const full = ++tick % ROW_EVERY === 0;
    const s = sample(t0, full);
    samples.push(s);
    if (full) row(s);
  }, SAMPLE_MS);
  const load = [
    ...Array.from({ length: CONN }, (_, n) => worker(n)),
    paced(10, magicLink),
    paced(4, adminList),
  ];
  await new Promise((r) => setTimeout(r, SOAK_S * 1000));
  stopping = true;
  await Promise.all(load);
  clearInterval(timer);
  // Shown, not fitted: with the load gone the in-flight memory is gone too,
  // and a low last point would flatter the slope.
  const last = sample(t0);
  row(last);

  const second = samples.filter((s) => s.t >= SOAK_S / 2);
  const { perK, stderr } = slope(second);
  const counted = second.filter((s) => s.conns !== null);
  const first = samples[0], mid = counted[0] ?? second[0];
  const fdGrowth = grows(second.map((s) => s.fds), 3);
  const connGrowth = grows(counted.map((s) => s.conns), 1);
  console.log(`\nrequests by kind and status: ${JSON.stringify(stats.byKind)}`);
  if (stats.firstErrors.length) console.log(`first errors: ${stats.firstErrors.join('; ')}`);
  console.log(`duration ${SOAK_S} s, ${last.requests} requests (${Math.round(last.requests / SOAK_S)}/s), ` +
    `${last.writes} writes, ${stats.errors} errors`);
  console.log(`RSS ${first.rssKb} KB at start, ${mid.rssKb} KB at half time, ${last.rssKb} KB at the end`);
  console.log(`second-half slope: ${perK.toFixed(4)} KB per 1 000 writes ` +
    `(${(perK * 10).toFixed(3)} ± ${(stderr * 10).toFixed(3)} KB per 10 000; limit ${MAX_KB_PER_1000_WRITES * 10})`);
  console.log(`fds ${first.fds} → ${mid.fds} → ${last.fds}${fdGrowth ? ' GROWING' : ''}; ` +
    `PostgreSQL connections ${first.conns} → ${mid.conns} → ${last.conns}${connGrowth ? ' GROWING' : ''}`);
  const ok = perK < MAX_KB_PER_1000_WRITES && !fdGrowth && !connGrowth && stats.errors === 0;
  console.log(ok ? 'soak: ok' : 'soak: FAILED');
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => { console.error(e); process.exitCode = 2; });
