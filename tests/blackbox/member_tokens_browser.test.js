'use strict';
// member.js on the newsroom's own site, in a real browser (Debian's
// Chromium, driven by playwright-core): a page on a listed origin (a small
// Node server here) embeds /assets/member.js; the reader follows its
// sign-in link to /members?return_to=…, signs in by the magic link from the
// outbox and comes back with #patrond_token: a member sees the members-only
// element and no banner, a non-member the reverse. The token leaves the
// address bar, stays in the site's localStorage and is dropped once
// expired; a return_to on an unlisted origin gets no token.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { openCheckedPage, signInMail } = require('./lib/browser');
const { startServer, uniqueEmail, sleep, waitFor } = require('./lib/harness');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'member-tokens-browser-'));
const KEY = path.join(dir, 'key.pem');
fs.writeFileSync(KEY, crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));

let s, site, siteUrl, browser;

// The newsroom's article page: the banner, a members-only perk (hidden
// until member.js says otherwise, as the README advises) and a sign-in link.
function articlePage(patrondUrl) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An article</title>
<script src="${patrondUrl}/assets/member.js"></script></head>
<body>
<h1>An article</h1>
<p id="banner" data-patrond="non-members">Become a patron!</p>
<p id="perk" data-patrond="members" hidden>Members' extra: the full dataset.</p>
<a id="sign-in" data-patrond="sign-in" href="#">Already a patron? Sign in</a>
</body></html>`;
}

before(async () => {
  site = http.createServer((req, res) => {
    if (new URL(req.url, 'http://x').pathname !== '/article') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(articlePage(s.url));
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${site.address().port}`;
  s = await startServer({
    env: (url) => ({ PATROND_PUBLIC_URL: url, PATROND_SIGNING_KEY_FILE: KEY, PATROND_CORS_ORIGINS: siteUrl }),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  await s?.stop();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const openPage = () => openCheckedPage(browser);

async function newPatron(pledge) {
  const p = await s.post('/v1/patrons', { email: uniqueEmail('site') });
  assert.equal(p.status, 201, p.text);
  if (pledge) {
    const pl = await s.post('/v1/pledges', {
      patron_id: p.json.id, amount_minor: 500, currency: 'EUR', interval: 'month', provider: 'manual', status: 'active',
    });
    assert.equal(pl.status, 201, pl.text);
  }
  return p.json;
}

const shown = (page, id) => page.locator(`#${id}`).evaluate((n) => !n.hidden);

// From the article, through the sign-in link, the form and the magic link,
// back to the article.
async function signInFromSite(page, email) {
  await page.goto(`${siteUrl}/article`);
  await page.locator('#sign-in').waitFor();
  const href = new URL(await page.getAttribute('#sign-in', 'href'));
  assert.equal(`${href.origin}${href.pathname}`, `${s.url}/members`);
  assert.equal(href.searchParams.get('return_to'), `${siteUrl}/article`);
  await page.click('#sign-in');
  await page.waitForURL(`${s.url}/members?**`);
  await page.locator('#return-note').getByText(`127.0.0.1:${site.address().port}`).waitFor();
  const body = await signInMail(page, s, email);
  const link = body.match(/http:\/\/\S+\/members\?\S+/)[0];
  assert.equal(new URL(link).searchParams.get('return_to'), `${siteUrl}/article`, 'the link keeps return_to');
  await page.goto(link);
  await page.waitForURL(`${siteUrl}/article**`);
  await waitFor('the token to leave the address bar', async () => (await page.evaluate(() => location.href)) === `${siteUrl}/article`);
}

test('a member comes back from sign-in to see the members-only element and no banner', async () => {
  const member = await newPatron(true);
  const page = await openPage();
  await page.goto(`${siteUrl}/article`);
  await page.locator('#banner').waitFor();
  assert.deepEqual([await shown(page, 'banner'), await shown(page, 'perk')], [true, false], 'before sign-in: banner only');

  await signInFromSite(page, member.email);
  await waitFor('the perk', () => shown(page, 'perk'));
  assert.equal(await shown(page, 'banner'), false, 'the banner is hidden for a member');
  const kept = await page.evaluate(() => localStorage.getItem('patrond.member_token'));
  assert.ok(kept, 'the token is kept in the site\'s localStorage');
  const claims = JSON.parse(Buffer.from(kept.split('.')[1], 'base64url'));
  assert.deepEqual([claims.sub, claims.member], [member.id, true]);
  assert.equal(await page.evaluate(() => location.hash), '', 'no token left in the URL');

  // a later visit needs no sign-in
  await page.reload();
  await page.locator('#perk').waitFor();
  assert.deepEqual([await shown(page, 'banner'), await shown(page, 'perk')], [false, true]);

  // the token lapses while the page is open: 15 minutes on, the banner is back
  await page.clock.install();
  await page.reload();
  await page.locator('#perk').waitFor();
  assert.equal(await shown(page, 'perk'), true);
  await page.clock.fastForward('15:01');
  await waitFor('the banner after exp', () => shown(page, 'banner'));
  assert.equal(await shown(page, 'perk'), false);
  assert.equal(await page.evaluate(() => localStorage.getItem('patrond.member_token')), null, 'dropped at exp');

  // a kept token already expired is dropped on load (member.js reads exp;
  // it verifies nothing)
  await page.evaluate((t) => localStorage.setItem('patrond.member_token', t), kept);
  await page.evaluate(() => {
    const [h, p, sig] = localStorage.getItem('patrond.member_token').split('.');
    const c = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
    c.exp = Math.floor(Date.now() / 1000) - 1;
    const b64 = btoa(JSON.stringify(c)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    localStorage.setItem('patrond.member_token', `${h}.${b64}.${sig}`);
  });
  await page.reload();
  await page.locator('#banner').waitFor();
  assert.deepEqual([await shown(page, 'banner'), await shown(page, 'perk')], [true, false], 'expired: the banner again');
  assert.equal(await page.evaluate(() => localStorage.getItem('patrond.member_token')), null, 'the expired token is gone');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a non-member comes back to the banner, and the members-only element stays hidden', async () => {
  const reader = await newPatron(false);
  const page = await openPage();
  await signInFromSite(page, reader.email);
  await waitFor('the token in localStorage', () => page.evaluate(() => localStorage.getItem('patrond.member_token')));
  const kept = await page.evaluate(() => localStorage.getItem('patrond.member_token'));
  assert.equal(JSON.parse(Buffer.from(kept.split('.')[1], 'base64url')).member, false);
  assert.deepEqual([await shown(page, 'banner'), await shown(page, 'perk')], [true, false]);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a return_to on an unlisted origin gets no token: the member page stays', async () => {
  const member = await newPatron(true);
  const page = await openPage();
  const leaked = [];
  await page.route('https://evil.example.org/**', (route) => {
    leaked.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/html', body: 'evil' });
  });
  // signed in on the member page (the session lives in its sessionStorage)
  await signInFromSite(page, member.email);
  await page.goto(`${s.url}/members?return_to=${encodeURIComponent('https://evil.example.org/steal')}`);
  await page.locator('#page-errors').getByText(/evil\.example\.org is not one of the newsroom's sites/).waitFor();
  await sleep(500);
  assert.equal(new URL(page.url()).origin, s.url, 'still on the member page');
  assert.deepEqual(leaked, [], 'nothing went to the unlisted site');
  await page.locator('#membership').getByText('You are a member').waitFor();
  await page.context().close();
});
