'use strict';
// The pages in a real browser (Debian's Chromium, driven by playwright-core):
// a reader gives through the donation form, the Stripe webhook makes them a
// member, they sign in through the magic link from the outbox, vote and
// watch the tally bars move; the admin page then shows them and the MRR.
// Screenshots of the three pages go to build/artifacts/.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { openCheckedPage, signInMail } = require('./lib/browser');
const { startServer, uniqueEmail, waitFor, ROOT } = require('./lib/harness');
const { sendStripe, stripeEvent } = require('./lib/webhooks');

const SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const PAYMENT_LINK = 'https://buy.stripe.com/test_browser';
const LIQPAY_PUBLIC = 'sandbox_i00000001';
const LIQPAY_PRIVATE = 'sandbox_private_browser';
const ARTIFACTS = path.join(ROOT, 'build', 'artifacts');
const HOUR = 3600 * 1000;

let s, browser;
before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // The pages are served from the public URL, whose origin the donation
  // form's return_url must have.
  s = await startServer({
    env: (url) => ({
      PATROND_PUBLIC_URL: url,
      PATROND_CURRENCIES: 'UAH,USD,EUR',
      PATROND_STRIPE_PAYMENT_LINK: PAYMENT_LINK,
      PATROND_STRIPE_WEBHOOK_SECRET: SECRET,
      PATROND_LIQPAY_PUBLIC_KEY: LIQPAY_PUBLIC,
      PATROND_LIQPAY_PRIVATE_KEY: LIQPAY_PRIVATE,
      PATROND_CHECKOUT_RATE_LIMIT: '1000',
    }),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

// A page that fails the test on script errors and CSP violations.
const openPage = () => openCheckedPage(browser, { viewport: { width: 900, height: 1200 } });

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });

// Every form control of the page is named by a <label> (or, for buttons,
// its text); returns the ones that are not.
function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((c) => c.type !== 'hidden')
    .filter((c) => (c.tagName === 'BUTTON' ? !c.textContent.trim() && !c.getAttribute('aria-label')
      : c.labels.length === 0 || ![...c.labels].some((l) => l.textContent.trim())))
    .map((c) => c.id || c.name || c.outerHTML));
}

// The ids focused by pressing Tab from the top of the page, n times.
async function tabOrder(page, n) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  const ids = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    ids.push(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
  }
  return ids;
}

// A member made through the API, with a session, who votes alongside.
async function otherMember() {
  const p = await s.post('/v1/patrons', { email: uniqueEmail('other') });
  const pl = await s.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 300, currency: 'EUR', interval: 'month', provider: 'manual', status: 'active',
  });
  assert.equal(pl.status, 201, pl.text);
  const token = crypto.randomBytes(32).toString('base64url');
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  await s.psql(`INSERT INTO sessions (patron_id, token_hash, expires_at)
                VALUES ('${p.json.id}', decode('${hash}', 'hex'), now() + interval '1 day')`);
  return token;
}

async function barText(page, topicId) {
  return page.locator(`#tally li[data-topic-id="${topicId}"] .bar-value`).textContent();
}

async function barWidth(page, topicId) {
  return page.locator(`#tally li[data-topic-id="${topicId}"] .bar-fill`).evaluate((n) => n.style.width);
}

test('donate, pay, become a member, sign in by magic link, vote, and see it all on the admin page', async () => {
  const topics = [];
  for (const title of ['Local housing costs', 'School meals']) {
    const t = await s.post('/v1/topics', { title, description: 'why it matters' });
    assert.equal(t.status, 201, t.text);
    topics.push(t.json.id);
  }
  const round = await s.post('/v1/rounds', {
    title: 'What should we cover next?', topic_ids: topics,
    opens_at: new Date(Date.now() - 60000).toISOString(), closes_at: new Date(Date.now() + HOUR).toISOString(),
  });
  assert.equal(round.status, 201, round.text);

  // --- the donation form
  const page = await openPage();
  const toStripe = [];
  await page.route('https://buy.stripe.com/**', (route) => {
    toStripe.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Stripe (stand-in)</h1>' });
  });
  await page.goto(`${s.url}/donate`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  assert.deepEqual(await page.locator('#currency option').allTextContents(), ['UAH', 'USD', 'EUR']);
  assert.deepEqual(await page.locator('input[name=provider]').evaluateAll((l) => l.map((i) => i.value)),
    ['liqpay', 'stripe'], 'only the configured providers are offered');
  assert.deepEqual(await unlabelled(page), [], 'every control of the form has a label');
  assert.deepEqual(await tabOrder(page, 11),
    ['lang-uk', 'lang-en', 'interval-month', 'currency', 'preset-0', 'custom-amount', 'provider-liqpay', 'email', 'name', 'consent', 'submit'],
    'Tab walks the language switch, then the form top to bottom, one stop per radio group');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused control shows a focus ring');

  // without e-mail and consent nothing is sent, and the reader is told why
  await page.click('#submit');
  await page.locator('#errors li').first().waitFor();
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
  assert.equal(toStripe.length, 0);

  const email = uniqueEmail('browser');
  await page.selectOption('#currency', 'USD');
  assert.match(await page.locator('label[for=preset-1]').textContent(), /\$5\.00 a month/);
  await page.check('#preset-1', { force: true });
  await page.check('#provider-stripe', { force: true });
  await page.fill('#email', email);
  await page.fill('#name', 'Browser Reader');
  await page.check('#consent');
  assert.equal(await page.locator('#errors li').count(), 0, 'the corrected form shows no stale errors');
  assert.equal(await page.locator('[aria-invalid]').count(), 0);
  await shot(page, 'donate-form.png');
  await page.click('#submit');
  await waitFor('the redirect to Stripe', () => toStripe.length > 0);
  await page.waitForURL(/buy\.stripe\.com/);
  const link = new URL(toStripe[0]);
  assert.equal(`${link.origin}${link.pathname}`, PAYMENT_LINK);
  assert.equal(link.searchParams.get('prefilled_email'), email);
  const pledgeId = link.searchParams.get('client_reference_id');
  const pending = await s.get(`/v1/pledges/${pledgeId}`);
  assert.equal(pending.status, 200, pending.text);
  assert.deepEqual([pending.json.status, pending.json.amount_minor, pending.json.currency, pending.json.interval, pending.json.provider],
    ['pending', 500, 'USD', 'month', 'stripe']);

  // --- Stripe's signed webhook activates the pledge
  const sub = `sub_${crypto.randomBytes(8).toString('hex')}`;
  const hook = await sendStripe(s, stripeEvent('checkout.session.completed', {
    id: `cs_${crypto.randomBytes(8).toString('hex')}`, object: 'checkout.session', mode: 'subscription',
    payment_status: 'paid', customer_details: { email, name: 'Browser Reader' }, subscription: sub,
    customer: `cus_${crypto.randomBytes(8).toString('hex')}`, amount_total: 500, currency: 'usd',
    client_reference_id: pledgeId,
  }), { secret: SECRET });
  assert.equal(hook.status, 200, hook.text);
  assert.equal((await s.get(`/v1/pledges/${pledgeId}`)).json.status, 'active');

  // --- the member page: ask for a link, open it from the outbox
  await page.goto(`${s.url}/members`);
  await page.locator('#signin').waitFor();
  assert.deepEqual(await unlabelled(page), [], 'every control of the member page has a label');
  const body = await signInMail(page, s, email);
  const token = body.match(/\/members\?token=([A-Za-z0-9_-]+)/)[1];
  const tallies = [];
  page.on('response', (r) => {
    if (/\/v1\/rounds\/[^/]+\/tally$/.test(r.url())) tallies.push({ status: r.status(), inm: r.request().headers()['if-none-match'] });
  });
  await page.goto(`${s.url}/members?token=${token}`);
  await page.locator('#membership').getByText('You are a member').waitFor();
  assert.equal(new URL(page.url()).search, '', 'the token is gone from the address bar');
  assert.ok(await page.evaluate(() => sessionStorage.getItem('patrond.session')), 'the session is kept for the tab');
  assert.match(await page.locator('#membership').textContent(), new RegExp(email.replace(/[.+]/g, '\\$&')));
  await page.locator('#round-info').getByText('What should we cover next?').waitFor();
  await page.locator(`#tally li[data-topic-id="${topics[0]}"]`).waitFor();
  assert.match(await barText(page, topics[0]), /^0 votes \(0%\)$/);
  assert.equal(await barWidth(page, topics[0]), '0%');

  // cast a vote: the bar moves at once
  await page.check('#topic-0');
  await page.click('#ballot-submit');
  await page.locator('#ballot-status').getByText(/counted/).waitFor();
  await waitFor('the first bar to fill', async () => (await barText(page, topics[0])) === '1 vote (100%)');
  assert.equal(await barWidth(page, topics[0]), '100%');
  assert.equal(await page.locator('#ballot-submit').textContent(), 'Change my vote');

  // another member votes elsewhere: the polled tally shows it unprompted
  const other = await otherMember();
  const theirs = await s.request('PUT', `/v1/rounds/${round.json.id}/ballot`, { key: other, body: { topic_ids: [topics[1]] } });
  assert.equal(theirs.status, 200, theirs.text);
  await waitFor('the polled tally', async () => (await barText(page, topics[1])) === '1 vote (50%)');
  assert.equal(await barWidth(page, topics[0]), '50%');

  // change the vote, then withdraw it
  await page.check('#topic-1');
  await page.click('#ballot-submit');
  await waitFor('the change', async () => (await barText(page, topics[1])) === '2 votes (100%)');
  assert.equal(await barText(page, topics[0]), '0 votes (0%)');
  await shot(page, 'members.png');
  await page.click('#ballot-withdraw');
  await page.locator('#ballot-status').getByText(/withdrawn/).waitFor();
  await waitFor('the withdrawal', async () => (await barText(page, topics[1])) === '1 vote (100%)');
  // unchanged, the polled tally costs a 304
  await waitFor('a 304 to the poll', () => tallies.some((x) => x.status === 304 && x.inm));

  // propose a topic
  await page.fill('#topic-title', 'Night buses');
  await page.click('#propose-form button[type=submit]');
  await page.locator('#propose-status').getByText(/Thank you/).waitFor();
  assert.equal(await s.psql(`SELECT t.status FROM topics t JOIN patrons p ON p.id = t.proposed_by
                             WHERE t.title = 'Night buses' AND p.email = '${email}'`), 'proposed');

  // sign out ends the session on the server too
  const session = await page.evaluate(() => sessionStorage.getItem('patrond.session'));
  await page.click('#signout');
  await page.locator('#signin').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('patrond.session')), null);
  assert.equal((await s.request('GET', '/v1/me', { key: session })).status, 401);
  assert.deepEqual(page.problems, [], 'no script errors or CSP violations');

  // --- the admin page
  const admin = await openPage();
  await admin.goto(`${s.url}/admin`);
  await admin.locator('#key-section').waitFor();
  assert.deepEqual(await unlabelled(admin), [], 'every control of the admin page has a label');
  await admin.fill('#admin-key', 'not-a-key');
  await admin.click('#key-form button[type=submit]');
  await admin.locator('#key-errors').getByText(/not accepted/).waitFor();
  await admin.fill('#admin-key', s.adminKey);
  await admin.click('#key-form button[type=submit]');
  await admin.locator('#summary dd').first().waitFor();
  const figures = Object.fromEntries(await admin.locator('#summary > div').evaluateAll((divs) => divs.map((d) =>
    [d.querySelector('dt').textContent, d.querySelector('dd').textContent])));
  assert.equal(figures.Members, '2');
  assert.match(figures.MRR, /€3\.00/);
  assert.match(figures.MRR, /\$5\.00/);
  assert.match(figures['Members by provider'], /stripe 1/);

  await admin.fill('#search-q', email);
  await admin.click('#search-form button[type=submit]');
  await admin.locator('#patrons tbody tr').filter({ hasText: email }).waitFor();
  const row = await admin.locator('#patrons tbody tr').filter({ hasText: email }).locator('td').allTextContents();
  assert.deepEqual(row.slice(0, 3), [email, 'Browser Reader', 'member']);

  const month = new Date().toISOString().slice(0, 7);
  const bar = admin.locator(`figure[data-currency=USD] rect[data-month="${month}"]`);
  await bar.waitFor({ state: 'attached' });
  assert.equal(await bar.getAttribute('data-amount'), '500');
  assert.ok(Number(await bar.getAttribute('height')) > 0, 'this month has a bar');
  assert.equal(await admin.locator('figure[data-currency=USD] rect').count(), 12, 'twelve months');
  assert.match(await admin.locator('figure[data-currency=USD] svg title').textContent(), new RegExp(`${month} \\$5\\.00`));
  await admin.locator('#rounds tbody tr').filter({ hasText: 'What should we cover next?' }).waitFor();
  await shot(admin, 'admin.png');

  // the key survives a reload of the tab
  await admin.reload();
  await admin.locator('#summary dd').first().waitFor();
  assert.equal(await admin.locator('#key-section').isHidden(), true);
  assert.deepEqual(admin.problems, [], 'no script errors or CSP violations');

  for (const f of ['donate-form.png', 'members.png', 'admin.png']) {
    assert.ok(fs.statSync(path.join(ARTIFACTS, f)).size > 1000, `${f} saved`);
  }
});

test('a LiqPay checkout auto-submits its signed form to LiqPay, which the page policy allows', async () => {
  const page = await openPage();
  const posted = [];
  await page.route('https://www.liqpay.ua/**', (route) => {
    posted.push({ method: route.request().method(), body: route.request().postData() });
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>LiqPay (stand-in)</h1>' });
  });
  await page.goto(`${s.url}/donate?interval=once`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  assert.equal(await page.isChecked('#interval-once'), true, 'the interval comes from the query');
  assert.match(await page.locator('label[for=preset-0]').textContent(), /100\.00/);
  assert.doesNotMatch(await page.locator('label[for=preset-0]').textContent(), /a month/);
  await page.fill('#custom-amount', '150,50');
  assert.equal(await page.isChecked('#preset-0'), false, 'typing an amount unselects the presets');
  const email = uniqueEmail('liqpay');
  await page.fill('#email', email);
  await page.check('#consent');
  await page.keyboard.press('Enter');
  await waitFor('the form posted to LiqPay', () => posted.length > 0);
  assert.equal(posted[0].method, 'POST');
  const fields = new URLSearchParams(posted[0].body);
  const data = fields.get('data');
  assert.equal(fields.get('signature'),
    crypto.createHash('sha1').update(LIQPAY_PRIVATE + data + LIQPAY_PRIVATE).digest('base64'));
  const d = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  assert.deepEqual([d.action, d.amount, d.currency, d.public_key], ['pay', '150.50', 'UAH', LIQPAY_PUBLIC]);
  assert.equal(d.result_url, `${s.url}/donate/thanks?lang=en`, 'the payer comes back to the thanks page, in their language');
  const pledge = await s.get(`/v1/pledges/${d.order_id}`);
  assert.deepEqual([pledge.json.status, pledge.json.amount_minor, pledge.json.interval], ['pending', 15050, 'once']);
  assert.deepEqual(page.problems, [], 'no script errors or CSP violations');

  const thanks = await openPage();
  await thanks.goto(`${s.url}/donate/thanks`);
  assert.equal(await thanks.locator('h1').textContent(), 'Thank you!');
});

test('a problem from /v1/checkout is shown next to the form', async () => {
  const page = await openPage();
  await page.route('**/v1/checkout', (route) => route.fulfill({
    status: 422, contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: 'Unprocessable Content', status: 422,
      code: 'validation_failed', detail: 'The request failed validation.',
      errors: [{ field: 'email', message: 'is not a valid e-mail address' }] }),
  }));
  await page.goto(`${s.url}/donate`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  await page.fill('#email', 'reader@example.org');
  await page.check('#consent');
  await page.click('#submit');
  // in the page's language by the problem's code, the field by its label
  await page.locator('#errors').getByText('Please check the marked fields.').waitFor();
  await page.locator('#errors li').getByText('E-mail address: please check this field.').waitFor();
  assert.doesNotMatch(await page.locator('#errors').textContent(), /failed validation|not a valid/, 'not the English detail');
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
  assert.equal(await page.isEnabled('#submit'), true, 'the reader can try again');
});

test('embed.js frames the form on another site and sizes the frame; the member page refuses to be framed', async (t) => {
  // the newsroom's site: another origin, on loopback like the server (a
  // public origin may not reach loopback at all in Chromium)
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>News</title><h1>A story</h1>
             <script src="${s.url}/assets/embed.js" data-currency="EUR" data-interval="year" async></script>
             <iframe id="members" src="${s.url}/members" title="members"></iframe>`);
  });
  await new Promise((resolve) => site.listen(0, 'localhost', resolve));
  t.after(() => new Promise((resolve) => site.close(resolve)));
  const page = await openPage();
  await page.goto(`http://localhost:${site.address().port}/story`);
  const frame = page.frameLocator(`iframe[src^="${s.url}/donate"]`);
  await frame.locator('#presets input').first().waitFor({ state: 'attached' });
  assert.equal(await frame.locator('#currency').inputValue(), 'EUR');
  assert.equal(await frame.locator('#interval-year').isChecked(), true);
  const iframe = page.locator(`iframe[src^="${s.url}/donate"]`);
  await waitFor('the frame to take the form height', async () => /px$/.test(await iframe.evaluate((f) => f.style.height)));
  const [frameHeight, formHeight] = [
    parseFloat(await iframe.evaluate((f) => f.style.height)),
    await frame.locator('html').evaluate((h) => h.scrollHeight),
  ];
  assert.ok(Math.abs(frameHeight - formHeight) <= 8, `frame ${frameHeight}px fits the form ${formHeight}px`);
  await waitFor('the refusal to frame /members', () => page.problems.some((p) => /frame-ancestors/.test(p)));
  const members = page.frames().find((f) => f.name() === '' && f !== page.mainFrame() && !f.url().includes('/donate'));
  assert.ok(members, 'the members frame exists');
  assert.equal(await members.locator('#signin-form').count().catch(() => 0), 0, 'the member page is not shown');
});

test('the admin page replays a failed webhook event and creates and closes a round', async () => {
  // a refund for a customer patrond has never seen cannot be applied
  const hook = await sendStripe(s, stripeEvent('charge.refunded', {
    id: `ch_${crypto.randomBytes(8).toString('hex')}`, object: 'charge', customer: `cus_${crypto.randomBytes(8).toString('hex')}`,
    currency: 'usd', amount_refunded: 100, refunds: { data: [{ id: `re_${crypto.randomBytes(8).toString('hex')}`, amount: 100 }] },
  }), { secret: SECRET });
  assert.equal(hook.status, 200, hook.text);
  const topic = await s.post('/v1/topics', { title: 'Cycling lanes' });
  assert.equal(topic.status, 201, topic.text);

  const page = await openPage();
  page.on('dialog', (d) => d.accept());
  await page.goto(`${s.url}/admin`);
  await page.fill('#admin-key', s.adminKey);
  await page.keyboard.press('Enter');
  const failedRow = page.locator('#webhooks tbody tr').filter({ hasText: 'charge.refunded' });
  await failedRow.waitFor();
  assert.equal(await failedRow.locator('td').nth(4).textContent(), '1');
  await failedRow.getByRole('button', { name: /Replay stripe event/ }).click();
  await page.locator('#webhooks-status').getByText('Replayed: the event is now failed.').waitFor();
  await waitFor('the attempt count', async () => (await failedRow.locator('td').nth(4).textContent()) === '2');

  const local = (ms) => { // datetime-local in the browser's zone
    const d = new Date(Date.now() + ms);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  };
  const title = `Admin round ${crypto.randomBytes(3).toString('hex')}`;
  await page.fill('#round-title', title);
  await page.fill('#round-opens', local(24 * HOUR));
  await page.fill('#round-closes', local(48 * HOUR));
  await page.locator('#round-topics label', { hasText: 'Cycling lanes' }).click();
  await page.click('#round-form button[type=submit]');
  await page.locator('#rounds-status').getByText(`Round "${title}" created.`).waitFor();
  const row = page.locator('#rounds tbody tr').filter({ hasText: title });
  await row.waitFor();
  assert.equal(await row.locator('td').nth(1).textContent(), 'scheduled');
  const created = (await s.get('/v1/rounds?status=scheduled')).json.data.find((r) => r.title === title);
  assert.deepEqual(created.topic_ids, [topic.json.id]);

  await row.getByRole('button', { name: `Close round ${title}` }).click();
  await page.locator('#rounds-status').getByText(`"${title}" is closed.`).waitFor();
  await waitFor('the closed row', async () => (await row.locator('td').nth(1).textContent()) === 'closed');
  assert.equal(await row.getByRole('button').count(), 0, 'a closed round offers no close button');
  assert.equal((await s.get(`/v1/rounds/${created.id}`)).json.status, 'closed');

  // a 422 from the API lands next to the round form
  await page.click('#round-form button[type=submit]');
  await page.locator('#round-form-errors li').first().waitFor();
  assert.equal(await page.getAttribute('#round-title', 'aria-invalid'), 'true');
  assert.deepEqual(page.problems, [], 'no script errors or CSP violations');
});

test('a used or unknown sign-in link leaves the address bar clean and offers a new link', async () => {
  const page = await openPage();
  await page.goto(`${s.url}/members?token=${crypto.randomBytes(32).toString('base64url')}`);
  await page.locator('#page-errors').getByText(/work once, for 15 minutes/).waitFor();
  assert.equal(new URL(page.url()).search, '');
  assert.equal(await page.locator('#signin').isVisible(), true);
  assert.equal(await page.locator('#member-area').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('patrond.session')), null);
  assert.deepEqual(page.problems, []);
});

test('the pages fit a phone screen without sideways scrolling', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.addInitScript((key) => sessionStorage.setItem('patrond.adminKey', key), s.adminKey);
  for (const [url, ready] of [['/donate', '#presets input'], ['/members', '#signin-form'], ['/admin', '#summary dd'],
    ['/donate/thanks', 'h1']]) {
    await page.goto(`${s.url}${url}`);
    await page.locator(ready).first().waitFor({ state: 'attached' });
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `${url}: ${scroll}px wide content in a ${width}px screen`);
  }
  await context.close();
});
