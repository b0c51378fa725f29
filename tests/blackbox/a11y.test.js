'use strict';
// Accessibility and small screens (SPEC §4c, issue 16), in Debian's
// Chromium driven by playwright-core:
// - axe-core (WCAG 2.0/2.1 A and AA rules) finds nothing on any page, in
//   Ukrainian and in English, signed out and signed in, with its error
//   messages shown;
// - the whole donation → sign-in → vote → cancel path works with the
//   keyboard alone (Tab, Shift+Tab, Enter, Space, arrows; no clicks), with
//   a visible focus ring on every stop;
// - at 360 px no page scrolls sideways; a full-page screenshot of each, in
//   both languages, goes to build/artifacts/a11y/.
// Every violation found is written to build/artifacts/a11y/axe.json too.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');
const { startServer, uniqueEmail, waitFor, sessionsFor, ROOT } = require('./lib/harness');
const { openCheckedPage } = require('./lib/browser');
const { sendStripe, stripeEvent, sendStandard, standardBody, standardSecret } = require('./lib/webhooks');

const STRIPE_SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const STRIPE_KEY = `rk_test_${crypto.randomBytes(12).toString('hex')}`;
const STANDARD_SECRET = standardSecret();
const PAYMENT_LINK = 'https://buy.stripe.com/test_a11y';
const ARTIFACTS = path.join(ROOT, 'build', 'artifacts', 'a11y');
const LANGS = ['uk', 'en'];
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

// A stand-in for Stripe's API: patrond cancels a Stripe subscription at the
// period end with its restricted key. It answers the subscription as Stripe
// does and records what it was asked.
const stripeCalls = [];
const stripeApi = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    stripeCalls.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
    const m = req.url.match(/^\/v1\/subscriptions\/([^/?]+)/);
    if (!m || req.headers.authorization !== `Bearer ${STRIPE_KEY}`) {
      res.writeHead(m ? 401 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'stand-in: not this' } }));
      return;
    }
    const end = Math.floor((Date.now() + 20 * DAY) / 1000);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({
      id: m[1], object: 'subscription', status: 'active', cancel_at_period_end: true, cancel_at: end,
      current_period_end: end, items: { object: 'list', data: [{ current_period_end: end }] },
    }));
  });
});

let s, browser, fixtures;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await new Promise((resolve) => stripeApi.listen(0, '127.0.0.1', resolve));
  s = await startServer({
    env: (url) => ({
      PATROND_PUBLIC_URL: url,
      PATROND_CURRENCIES: 'UAH,USD,EUR',
      PATROND_STRIPE_PAYMENT_LINK: PAYMENT_LINK,
      PATROND_STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      PATROND_STRIPE_API_KEY: STRIPE_KEY,
      PATROND_STRIPE_API_URL: `http://127.0.0.1:${stripeApi.address().port}`,
      PATROND_LIQPAY_PUBLIC_KEY: 'sandbox_i00000002',
      PATROND_LIQPAY_PRIVATE_KEY: 'sandbox_private_a11y',
      PATROND_STANDARD_WEBHOOK_SECRET: STANDARD_SECRET,
      PATROND_CHECKOUT_RATE_LIMIT: '1000',
    }),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  fixtures = await makeFixtures();
});

after(async () => {
  await browser?.close();
  await s?.stop();
  await new Promise((resolve) => stripeApi.close(resolve));
});

function standard(type, data, when) {
  return sendStandard(s, standardBody(type, data, when), { secret: STANDARD_SECRET });
}

// What the pages show: an open round with three topics, a member with an
// active standard pledge, its payments (one failed) and a canceled manual
// pledge, and a webhook event that could not be applied (a row with a
// button on the admin page).
async function makeFixtures() {
  const topics = [];
  for (const title of ['Local housing costs', 'School meals', 'Night buses']) {
    const t = await s.post('/v1/topics', { title, description: 'why it matters' });
    assert.equal(t.status, 201, t.text);
    topics.push(t.json.id);
  }
  const round = await s.post('/v1/rounds', {
    title: 'What should we cover next?', topic_ids: topics,
    opens_at: new Date(Date.now() - 60000).toISOString(), closes_at: new Date(Date.now() + 7 * DAY).toISOString(),
  });
  assert.equal(round.status, 201, round.text);

  const email = uniqueEmail('a11y-member');
  const sub = `sub_${crypto.randomBytes(6).toString('hex')}`;
  const base = { email, name: 'Оксана Читачка', subscription_id: sub, amount_minor: 20000, currency: 'UAH', interval: 'month' };
  const periodEnd = new Date(Date.now() + 25 * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
  for (const [type, data] of [
    ['pledge.activated', base],
    ['payment.succeeded', { ...base, payment_id: `pay_${crypto.randomBytes(6).toString('hex')}`, period_end: periodEnd }],
    ['payment.failed', { ...base, payment_id: `pay_${crypto.randomBytes(6).toString('hex')}`, reason: 'insufficient_funds' }],
  ]) {
    const r = await standard(type, data);
    assert.equal(r.status, 200, r.text);
  }
  const patron = { id: await s.psql(`SELECT id FROM patrons WHERE email = '${email}'`) };
  assert.ok(patron.id, 'the member exists');
  const manual = await s.post('/v1/pledges', {
    patron_id: patron.id, amount_minor: 500, currency: 'EUR', interval: 'year', provider: 'manual', status: 'active',
  });
  assert.equal(manual.status, 201, manual.text);
  const canceled = await s.patch(`/v1/pledges/${manual.json.id}`, { status: 'canceled' });
  assert.equal(canceled.status, 200, canceled.text);
  const [session] = await sessionsFor(s, [patron.id]);

  // a refund for a charge patrond never saw cannot be applied
  const hook = await sendStripe(s, stripeEvent('charge.refunded', {
    id: `ch_${crypto.randomBytes(8).toString('hex')}`, object: 'charge', customer: `cus_${crypto.randomBytes(8).toString('hex')}`,
    currency: 'usd', amount_refunded: 100, refunds: { data: [{ id: `re_${crypto.randomBytes(8).toString('hex')}`, amount: 100 }] },
  }), { secret: STRIPE_SECRET });
  assert.equal(hook.status, 200, hook.text);
  return { topics, round: round.json, email, session };
}

// A page that records script errors and CSP violations.
async function openPage({ width = 1024, height = 900, session, adminKey } = {}) {
  return openCheckedPage(browser, { viewport: { width, height } }, async (context) => {
    if (session) await context.addInitScript((t) => sessionStorage.setItem('patrond.session', t), session);
    if (adminKey) await context.addInitScript((k) => sessionStorage.setItem('patrond.adminKey', k), adminKey);
  });
}

// Each state a reader or an editor sees: its name, the URL, how to open it
// and how to know it is ready.
const STATES = [
  { name: 'donate', url: '/donate', ready: '#presets input' },
  {
    name: 'donate-errors', url: '/donate', ready: '#presets input',
    act: async (page) => {
      await page.locator('#submit').press('Enter');
      await page.locator('#errors li').first().waitFor();
    },
  },
  { name: 'thanks', url: '/donate/thanks', ready: 'h1' },
  { name: 'members-signed-out', url: '/members', ready: '#signin-form' },
  {
    name: 'members-signed-in', url: '/members', ready: '#tally li', session: true,
    act: async (page) => {
      await page.locator('#membership strong').waitFor();
      await page.locator('#pledges tbody tr').first().waitFor();
      await page.locator('#payments tbody tr').first().waitFor();
    },
  },
  { name: 'admin-signed-out', url: '/admin', ready: '#key-form' },
  {
    name: 'admin-key-refused', url: '/admin', ready: '#key-form',
    act: async (page) => {
      await page.locator('#admin-key').fill('not-a-key');
      await page.locator('#admin-key').press('Enter');
      await page.locator('#key-errors p').first().waitFor();
    },
  },
  {
    name: 'admin', url: '/admin', ready: '#summary dd', adminKey: true,
    act: async (page) => {
      await page.locator('#webhooks tbody tr').first().waitFor();
      await page.locator('#rounds tbody tr').first().waitFor();
      await page.locator('#mrr figure, #mrr p').first().waitFor();
    },
  },
];

async function openState(state, lang, opts = {}) {
  const page = await openPage({
    ...opts,
    session: state.session ? fixtures.session : undefined,
    adminKey: state.adminKey ? s.adminKey : undefined,
  });
  await page.goto(`${s.url}${state.url}?lang=${lang}`);
  await page.locator(state.ready).first().waitFor({ state: 'attached' });
  if (state.act) await state.act(page);
  return page;
}

// One line per violating node: page, rule, impact, selector, what axe says.
function describe(where, violations) {
  return violations.flatMap((v) => v.nodes.map((n) =>
    `${where} · ${v.id} (${v.impact}) · ${n.target.join(' ')} · ${n.failureSummary.replace(/\s+/g, ' ')}`));
}

const axeReport = {};
after(() => {
  if (Object.keys(axeReport).length) {
    fs.writeFileSync(path.join(ARTIFACTS, 'axe.json'), `${JSON.stringify(axeReport, null, 2)}\n`);
  }
});

// Runs axe's WCAG 2.0/2.1 A and AA rules on the page as it is; returns the
// violations as lines (and keeps them for axe.json).
async function audit(page, where) {
  const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  axeReport[where] = result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
  }));
  assert.ok(result.passes.length >= 5, `${where}: axe ran its rules (${result.passes.length} passed)`);
  return describe(where, result.violations);
}

for (const lang of LANGS) {
  test(`axe finds no WCAG 2.1 A/AA violation on any page (lang=${lang})`, async () => {
    const found = [];
    for (const state of STATES) {
      const page = await openState(state, lang);
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang,
        `${state.name}?lang=${lang}: <html lang> names the language shown (WCAG 3.1.1)`);
      found.push(...await audit(page, `${state.name}?lang=${lang}`));
      assert.deepEqual(page.problems, [], `${state.name}?lang=${lang}: no script errors or CSP violations`);
      await page.context().close();
    }
    assert.deepEqual(found, [], `axe violations:\n${found.join('\n')}`);
  });
}

// WCAG 1.4.10 (reflow): at 360 CSS px nothing needs sideways scrolling; axe
// runs again, since a table that now scrolls must be reachable by keyboard.
test('at 360 px no page scrolls sideways and axe still finds nothing (screenshots in build/artifacts/a11y/)', async () => {
  const wide = [];
  const found = [];
  for (const lang of LANGS) {
    for (const state of STATES) {
      const where = `${state.name}?lang=${lang}@360px`;
      const page = await openState(state, lang, { width: 360, height: 740 });
      assert.equal(await page.evaluate(() => window.innerWidth), 360);
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
      if (scroll > 360) {
        // name the element that reaches furthest right, for the finding
        const widest = await page.evaluate(() => {
          let worst = null;
          for (const n of document.body.querySelectorAll('*')) {
            const r = n.getBoundingClientRect();
            if (r.right > 360.5 && (!worst || r.right > worst.right)) {
              worst = { right: Math.round(r.right), tag: n.tagName.toLowerCase(), id: n.id, class: String(n.className) };
            }
          }
          return worst;
        });
        wide.push(`${where}: ${scroll}px wide (furthest right: ${JSON.stringify(widest)})`);
      }
      const file = path.join(ARTIFACTS, `360-${state.name}-${lang}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 1000, `${file} saved`);
      found.push(...await audit(page, where));
      await page.context().close();
    }
  }
  assert.deepEqual(wide, [], 'pages wider than the screen');
  assert.deepEqual(found, [], `axe violations at 360 px:\n${found.join('\n')}`);
});

// --- the keyboard-only path

// The focused element, and whether its focus is visible: a ring (outline of
// at least 2 px or a box-shadow) on it or, for a visually hidden radio, on
// its label, inside the viewport.
function focusInfo(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body || a === document.documentElement) return { id: null, tag: 'body' };
    const rect = (n) => n.getBoundingClientRect();
    const hidden = (n) => { const r = rect(n); return r.width <= 1 || r.height <= 1 || getComputedStyle(n).opacity === '0'; };
    const shown = hidden(a) && a.labels && a.labels.length ? a.labels[0] : a;
    const cs = getComputedStyle(shown);
    const r = rect(shown);
    return {
      id: a.id || null,
      tag: a.tagName.toLowerCase(),
      type: a.type || null,
      name: (a.getAttribute('aria-label') || a.textContent || a.value || '').trim().slice(0, 80),
      focusVisible: a.matches(':focus-visible'),
      ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none',
      inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
    };
  });
}

function assertVisibleFocus(f, where) {
  assert.ok(f.id !== null || f.tag !== 'body', `${where}: focus is on an element, not lost to <body>`);
  assert.ok(f.focusVisible, `${where}: ${f.tag}#${f.id} matches :focus-visible`);
  assert.ok(f.ring, `${where}: ${f.tag}#${f.id} shows a focus ring`);
  assert.ok(f.inView, `${where}: ${f.tag}#${f.id} is scrolled into view`);
}

// Presses key (Tab or Shift+Tab) until the focused element matches `selector`,
// checking that each stop on the way shows its focus; returns the stops.
async function tabTo(page, selector, { key = 'Tab', max = 40, where = selector } = {}) {
  const stops = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focusInfo(page);
    stops.push(f.id || f.tag);
    if (f.tag !== 'body') assertVisibleFocus(f, `${where}, stop ${i + 1}`);
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return stops;
  }
  assert.fail(`${where}: ${selector} not reached by ${key} within ${max} presses (stops: ${stops.join(', ')})`);
}

const activeId = (page) => page.evaluate(() => document.activeElement?.id || null);
const activeMatches = (page, sel) => page.evaluate((x) => document.activeElement?.matches(x) ?? false, sel);

test('donation → sign-in → vote → cancel, by keyboard alone', async () => {
  const page = await openPage({ width: 1024, height: 800 });
  const toStripe = [];
  await page.route('https://buy.stripe.com/**', (route) => {
    toStripe.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Stripe (stand-in)</h1>' });
  });
  const clicks = [];
  await page.exposeFunction('a11yClick', (desc) => clicks.push(desc));
  // A pointer event anywhere would mean the path needed the mouse.
  await page.context().addInitScript(() => {
    for (const type of ['mousedown', 'pointerdown']) {
      document.addEventListener(type, (e) => window.a11yClick?.(`${type} on ${e.target.id || e.target.tagName}`), true);
    }
  });

  // --- the donation form
  await page.goto(`${s.url}/donate?lang=uk`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });

  // sending the empty form: the errors are announced and focus goes to the first field to fix
  await tabTo(page, '#submit', { where: 'donate' });
  await page.keyboard.press('Enter');
  await page.locator('#errors li').first().waitFor();
  assert.equal(await page.getAttribute('#errors', 'role'), 'alert');
  assert.equal(await activeId(page), 'email', 'focus moves to the first field to fix');
  assertVisibleFocus(await focusInfo(page), 'donate, first invalid field');

  // back to the top of the form with Shift+Tab: the interval radios
  await tabTo(page, 'input[name=interval]', { key: 'Shift+Tab', where: 'donate, back to the interval' });
  assert.equal(await activeId(page), 'interval-month', 'the checked radio is the group\'s one stop');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#interval-year'), true, 'arrows choose within the group');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.isChecked('#interval-month'), true);

  await tabTo(page, '#currency', { where: 'donate, currency' });
  for (let i = 0; i < 3 && (await page.inputValue('#currency')) !== 'USD'; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.inputValue('#currency'), 'USD', 'the currency is chosen with the arrow keys');

  await tabTo(page, 'input[name=preset]', { where: 'donate, amounts' });
  await page.keyboard.press('ArrowRight');
  assert.equal(await activeId(page), 'preset-1');
  assert.equal(await page.isChecked('#preset-1'), true);
  const amount = Number(await page.inputValue('#preset-1'));

  await tabTo(page, 'input[name=provider]', { where: 'donate, providers' });
  for (let i = 0; i < 5 && !(await page.isChecked('#provider-stripe')); i++) await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#provider-stripe'), true, 'Stripe chosen with the arrow keys');

  const email = uniqueEmail('keyboard');
  await tabTo(page, '#email', { where: 'donate, e-mail' });
  await page.keyboard.type(email);
  await tabTo(page, '#name', { where: 'donate, name' });
  await page.keyboard.type('Keyboard Reader');
  await tabTo(page, '#consent', { where: 'donate, consent' });
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#consent'), true, 'Space ticks the consent box');
  assert.equal(await page.locator('#errors li').count(), 0, 'the corrected form shows no stale errors');
  await tabTo(page, '#submit', { where: 'donate, submit' });
  await page.keyboard.press('Enter');
  await waitFor('the redirect to Stripe', () => toStripe.length > 0);
  const pledgeId = new URL(toStripe[0]).searchParams.get('client_reference_id');
  const pending = (await s.get(`/v1/pledges/${pledgeId}`)).json;
  assert.deepEqual([pending.status, pending.amount_minor, pending.currency, pending.interval, pending.provider],
    ['pending', amount, 'USD', 'month', 'stripe']);

  // Stripe's signed webhook makes the reader a member
  const sub = `sub_${crypto.randomBytes(8).toString('hex')}`;
  const hook = await sendStripe(s, stripeEvent('checkout.session.completed', {
    id: `cs_${crypto.randomBytes(8).toString('hex')}`, object: 'checkout.session', mode: 'subscription',
    payment_status: 'paid', customer_details: { email, name: 'Keyboard Reader' }, subscription: sub,
    customer: `cus_${crypto.randomBytes(8).toString('hex')}`, amount_total: amount, currency: 'usd',
    client_reference_id: pledgeId,
  }), { secret: STRIPE_SECRET });
  assert.equal(hook.status, 200, hook.text);
  assert.equal((await s.get(`/v1/pledges/${pledgeId}`)).json.status, 'active');

  // --- sign in: ask for a link by keyboard, follow the link from the mail
  await page.goto(`${s.url}/members?lang=uk`);
  await page.locator('#signin-form').waitFor();
  await tabTo(page, '#signin-email', { where: 'members, e-mail' });
  await page.keyboard.type(email);
  await page.keyboard.press('Enter');
  await page.locator('#signin-status').getByText(/\S/).waitFor();
  assert.equal(await page.getAttribute('#signin-status', 'role'), 'status', 'the confirmation is announced');
  const link = await waitFor('the magic link in the outbox', () => s.psql(
    `SELECT o.params->>'link' FROM outbox o JOIN patrons p ON p.id = o.patron_id
      WHERE o.kind = 'magic_link' AND p.email = '${email}' ORDER BY o.created_at DESC LIMIT 1`));
  assert.match(link, /\/members\?(.*&)?token=[A-Za-z0-9_-]+/);
  await page.goto(link);
  await page.locator('#membership strong').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token is gone from the address bar');

  // --- vote: one Tab stop for the ballot, Space/arrows to choose, Enter to cast
  await page.locator('#ballot-choices input').first().waitFor();
  await tabTo(page, '#ballot-choices input', { where: 'members, ballot' });
  const firstChoice = await activeId(page);
  const kind = await page.evaluate(() => document.activeElement.type);
  if (kind === 'radio') {
    await page.keyboard.press('ArrowDown');
  } else {
    await page.keyboard.press('Space');
  }
  const chosen = await page.locator('#ballot-choices input:checked').evaluateAll((l) => l.map((i) => i.value));
  assert.equal(chosen.length, 1, `one topic chosen by keyboard (from ${firstChoice})`);
  await tabTo(page, '#ballot-submit', { where: 'members, cast' });
  await page.keyboard.press('Enter');
  await page.locator('#ballot-status').getByText(/\S/).waitFor();
  const [memberSession] = await sessionsFor(s, [pending.patron_id]);
  const ballot = await s.request('GET', `/v1/rounds/${fixtures.round.id}/ballot`, { key: memberSession });
  assert.equal(ballot.status, 200, ballot.text);
  assert.deepEqual(ballot.json.topic_ids, chosen, 'the vote is the keyboard\'s choice');
  await waitFor('the tally to show the vote', async () => (await page.locator('#tally').textContent()).includes('1'));

  // --- cancel the pledge: its button, the confirmation, the result
  const row = page.locator(`[data-pledge-id="${pledgeId}"]`);
  await row.waitFor();
  await tabTo(page, `[data-pledge-id="${pledgeId}"] button`, { where: 'members, cancel button' });
  const opener = await focusInfo(page);
  assert.equal(opener.tag, 'button');
  assert.ok(opener.name, 'the cancel button has a name');

  // Escape (or "keep") closes the confirmation and gives focus back
  await page.keyboard.press('Enter');
  const dialog = page.locator('#cancel-dialog');
  await dialog.waitFor();
  assert.ok(await activeMatches(page, '#cancel-dialog, #cancel-dialog *'), 'focus moves into the confirmation');
  assert.notEqual(await activeId(page), 'cancel-confirm', 'focus does not start on the destructive button');
  assertVisibleFocus(await focusInfo(page), 'confirmation opened');
  assert.deepEqual(await audit(page, 'members-cancel-dialog?lang=uk'), [], 'axe finds nothing in the confirmation');
  const text = await dialog.textContent();
  const end = new Date((await s.get(`/v1/pledges/${pledgeId}`)).json.current_period_end || Date.now());
  assert.ok(text.includes(String(end.getUTCFullYear())) || /\d/.test(text), `the confirmation says until when: ${text}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.ok(await activeMatches(page, `[data-pledge-id="${pledgeId}"] button`),
    'Escape returns focus to the cancel button');
  assert.equal((await s.get(`/v1/pledges/${pledgeId}`)).json.status, 'active', 'nothing changed');

  // Space opens it again; Tab/Shift+Tab stay inside; Enter on confirm cancels
  await page.keyboard.press('Space');
  await dialog.waitFor();
  await tabTo(page, '#cancel-confirm', { where: 'confirmation, confirm', max: 6 });
  await page.keyboard.press('Tab');
  assert.ok(await activeMatches(page, '#cancel-dialog, #cancel-dialog *'), 'Tab stays inside the confirmation');
  await tabTo(page, '#cancel-confirm', { key: 'Shift+Tab', where: 'confirmation, back to confirm', max: 6 });
  await page.keyboard.press('Enter');
  await waitFor('the cancel at Stripe', () => stripeCalls.some((c) => c.url.includes(sub)));
  await dialog.waitFor({ state: 'hidden' });
  await waitFor('the result on the page', async () => (await page.locator('[role=status]').allTextContents()).some((x) => /\d/.test(x)));
  const call = stripeCalls.find((c) => c.url.includes(sub));
  assert.equal(call.auth, `Bearer ${STRIPE_KEY}`);
  assert.match(call.body, /cancel_at_period_end=true/, 'Stripe is asked to cancel at the period end');
  const mine = (await s.request('GET', '/v1/me', { key: memberSession })).json.pledges.find((p) => p.id === pledgeId);
  assert.ok(mine.cancel_requested_at, `the pledge is being canceled: ${JSON.stringify(mine)}`);
  const landed = await focusInfo(page);
  assertVisibleFocus(landed, 'after the cancel');
  const pledges = `section:has([data-pledge-id="${pledgeId}"])`;
  assert.ok(await activeMatches(page, `[role=status], [role=status] *, ${pledges}, ${pledges} *`),
    `after the cancel focus is on the result or in the pledges' section (is on ${landed.tag}#${landed.id})`);
  assert.equal(await row.locator('button').count(), 0, 'a canceled pledge offers no cancel button');

  assert.deepEqual(clicks, [], 'no pointer was used');
  assert.deepEqual(page.problems, [], 'no script errors or CSP violations');
});
