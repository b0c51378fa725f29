'use strict';
// The pages in Ukrainian and English (SPEC §4c): every catalogue complete
// for what the pages and scripts use; each page in each language by ?lang=,
// by Accept-Language, and in Chromium by the switch and the choice kept in
// localStorage, with catalogue texts, the right <html lang>, no key left
// untranslated and no text of the other language; problems shown by code;
// the member page's pledges, payments, cancel and mail language in
// Ukrainian; the donation form pre-filled from its address and sending the
// form's language.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startServer, uniqueEmail, sessionsFor, waitFor, ROOT } = require('./lib/harness');
const { openCheckedPage } = require('./lib/browser');

const PAGES = { '/donate': 'donate', '/donate/thanks': 'thanks', '/members': 'members', '/admin': 'admin' };
const FILES = { '/donate': 'donate.html', '/donate/thanks': 'thanks.html', '/members': 'members.html', '/admin': 'admin.html' };
const LANGS = ['uk', 'en'];
const cat = Object.fromEntries(LANGS.map((l) => [l, JSON.parse(fs.readFileSync(path.join(ROOT, 'web/i18n', `${l}.json`), 'utf8'))]));
const CATEGORIES = { uk: ['one', 'few', 'many', 'other'], en: ['one', 'other'] };
const HOUR = 3600 * 1000;

const lookup = (c, key) => key.split('.').reduce((n, k) => (n && typeof n === 'object' ? n[k] : undefined), c);
const isPlural = (v) => v && typeof v === 'object' && typeof v.other === 'string'
  && Object.keys(v).every((k) => ['zero', 'one', 'two', 'few', 'many', 'other'].includes(k));
const isText = (v) => typeof v === 'string' || isPlural(v);
const placeholders = (s) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();

// Every dotted key of a group of texts (plural objects are one text).
function keysOf(node, prefix) {
  if (isText(node)) return [prefix];
  return Object.entries(node).flatMap(([k, v]) => keysOf(v, `${prefix}.${k}`));
}

// The keys the templates and scripts ask for.
function usedKeys() {
  const keys = new Set();
  for (const f of Object.values(FILES)) {
    const html = fs.readFileSync(path.join(ROOT, 'web', f), 'utf8');
    for (const m of html.matchAll(/\{\{([^}]+)\}\}/g)) {
      if (!['lang', 'languages', 'switch', 'texts'].includes(m[1])) keys.add(m[1]);
    }
  }
  for (const f of fs.readdirSync(path.join(ROOT, 'web/assets')).filter((n) => n.endsWith('.js'))) {
    const js = fs.readFileSync(path.join(ROOT, 'web/assets', f), 'utf8');
    for (const m of js.matchAll(/'(pages\.[a-z_.]+[a-z_])'/g)) keys.add(m[1]);
    // admin.js: A('key') is pages.admin.key
    for (const m of js.matchAll(/\bA\(([^()]*)/g)) {
      for (const k of m[1].matchAll(/'([a-z_]+)'/g)) keys.add(`pages.admin.${k[1]}`);
    }
  }
  // the words looked up by the API's values
  const providers = [...fs.readFileSync(path.join(ROOT, 'include/providers.def'), 'utf8').matchAll(/^PROVIDER\((\w+)\)/gm)]
    .map((m) => m[1]);
  const words = {
    providers: [...providers, 'manual'],
    pledge_status: ['pending', 'active', 'past_due', 'canceled', 'expired'],
    payment_kind: ['charge', 'refund', 'dispute', 'dispute_won', 'failed'],
    patron_status: ['member', 'lapsed', 'none'],
    round_status: ['scheduled', 'open', 'closed'],
    event_status: ['received', 'applied', 'failed', 'ignored'],
    amount_per: ['month', 'year', 'once'],
    intervals: ['month', 'year', 'once'],
  };
  for (const [group, values] of Object.entries(words)) for (const v of values) keys.add(`pages.common.${group}.${v}`);
  const codes = [...fs.readFileSync(path.join(ROOT, 'include/errors.def'), 'utf8').matchAll(/^ERR\((\w+),/gm)].map((m) => m[1]);
  for (const c of codes) keys.add(`errors.${c}`);
  return keys;
}

test('every text the pages and scripts use is in every catalogue, with the same placeholders and its plural forms', () => {
  const used = usedKeys();
  assert.ok(used.size > 150, `found the keys in use (${used.size})`);
  for (const lang of LANGS) {
    const missing = [...used].filter((k) => !isText(lookup(cat[lang], k)));
    assert.deepEqual(missing, [], `${lang}.json has every text in use`);
    assert.equal(cat[lang].language.code, lang);
  }
  // the two catalogues hold the same texts
  const keys = (l) => [...keysOf(cat[l].pages, 'pages'), ...keysOf(cat[l].errors, 'errors')].sort();
  assert.deepEqual(keys('uk'), keys('en'));
  for (const key of keys('en')) {
    const want = placeholders(isPlural(lookup(cat.en, key)) ? lookup(cat.en, key).other : lookup(cat.en, key));
    for (const lang of LANGS) {
      const v = lookup(cat[lang], key);
      if (isPlural(v)) {
        assert.deepEqual(Object.keys(v).sort(), [...CATEGORIES[lang]].sort(), `${lang} ${key}: its plural forms`);
      }
      for (const form of typeof v === 'string' ? [v] : Object.values(v)) {
        assert.deepEqual(placeholders(form), want, `${lang} ${key}: placeholders of "${form}"`);
      }
    }
  }
  // the term for a supporter is «меценат», the reader is «ви», never «ти»
  const ukText = JSON.stringify(cat.uk.pages) + JSON.stringify(cat.uk.errors);
  assert.match(ukText, /меценат/);
  assert.doesNotMatch(ukText, /патрон|\bти\b|\bтвій\b|\bтвоє\b/i);
});

let s, browser;
before(async () => {
  s = await startServer({
    env: (url) => ({
      PATROND_PUBLIC_URL: url,
      PATROND_CURRENCIES: 'UAH,USD,EUR',
      PATROND_STRIPE_PAYMENT_LINK: 'https://buy.stripe.com/test_i18n',
      PATROND_LIQPAY_PUBLIC_KEY: 'sandbox_i00000002',
      PATROND_LIQPAY_PRIVATE_KEY: 'sandbox_private_i18n',
      PATROND_PATREON_CAMPAIGN_URL: 'https://www.patreon.com/examplenews',
      PATROND_CHECKOUT_RATE_LIMIT: '1000',
    }),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

// The page without its texts for the script (the JSON block is checked on
// its own) and without the switch's names of the other languages.
function visible(html) {
  return html.replace(/<script type="application\/json"[^>]*>[^<]*<\/script>/, '')
    .replace(/<nav class="lang-switch"[\s\S]*?<\/nav>/, '');
}

function textsBlock(html) {
  const m = html.match(/<script type="application\/json" id="patrond-texts">([^<]*)<\/script>/);
  return m ? JSON.parse(m[1]) : null;
}

const CYRILLIC = /[\u0400-\u04FF]/;
// long English texts of the catalogue: none may show on a Ukrainian page
const englishTexts = keysOf(cat.en.pages, 'pages').map((k) => lookup(cat.en, k))
  .filter((v) => typeof v === 'string' && v.length > 12 && !/^[{}() a-z_]*$/.test(v));

function assertPage(html, lang, page, where) {
  assert.match(html, new RegExp(`<html lang="${lang}"`), `${where}: <html lang>`);
  const shown = visible(html);
  assert.doesNotMatch(shown, /\{\{|\}\}/, `${where}: every directive filled`);
  assert.doesNotMatch(shown, /\b(pages|errors)\.[a-z_]+\.[a-z_.]+/, `${where}: no raw key`);
  // its own title and headings from the catalogue
  const title = lookup(cat[lang], `pages.${page}.title`);
  assert.ok(shown.includes(`<title>${title.replace(/'/g, '&#39;')}</title>`), `${where}: the title "${title}"`);
  if (lang === 'en') {
    assert.doesNotMatch(shown, CYRILLIC, `${where}: no Ukrainian on the English page`);
  } else {
    assert.match(shown, CYRILLIC);
    for (const text of englishTexts) {
      assert.ok(!shown.includes(text), `${where}: English "${text}" on the Ukrainian page`);
    }
  }
  // the language switch names every language and marks the current one
  assert.match(html, new RegExp(`<a id="lang-${lang}" href="\\?lang=${lang}"[^>]*aria-current="true"`), `${where}: switch`);
  for (const other of LANGS) assert.match(html, new RegExp(`href="\\?lang=${other}" hreflang="${other}"`));
  const texts = textsBlock(html);
  if (page !== 'thanks') {
    assert.ok(texts, `${where}: the script's texts`);
    assert.equal(texts.lang, lang);
    assert.deepEqual(texts.pages[page], cat[lang].pages[page], `${where}: this page's texts in ${lang}`);
    assert.deepEqual(texts.errors, cat[lang].errors);
    const json = JSON.stringify(texts);
    if (lang === 'en') assert.doesNotMatch(json, CYRILLIC, `${where}: the script's texts are English`);
  }
}

test('each page in each language by ?lang=, with its own ETag, Vary and Content-Language', async () => {
  for (const [url, page] of Object.entries(PAGES)) {
    const etags = new Set();
    for (const lang of LANGS) {
      const r = await s.request('GET', `${url}?lang=${lang}`);
      assert.equal(r.status, 200, url);
      assert.equal(r.headers['content-language'], lang, url);
      assert.equal(r.headers.vary, 'Accept-Language', url);
      assertPage(r.text, lang, page, `${url}?lang=${lang}`);
      etags.add(r.headers.etag);
      const again = await s.request('GET', `${url}?lang=${lang}`, { headers: { 'If-None-Match': r.headers.etag } });
      assert.equal(again.status, 304, `${url}?lang=${lang}: revalidated`);
    }
    assert.equal(etags.size, 2, `${url}: a tag per language`);
    // a tag of the other language's copy does not match
    const en = await s.request('GET', `${url}?lang=en`);
    const uk = await s.request('GET', `${url}?lang=uk`, { headers: { 'If-None-Match': en.headers.etag } });
    assert.equal(uk.status, 200);
  }
});

test('the language by Accept-Language, q-values and primary subtags; ?lang= first; else the default', async () => {
  const cases = [
    [{ 'Accept-Language': 'en-GB,en;q=0.9' }, '', 'en'],
    [{ 'Accept-Language': 'uk-UA,uk;q=0.9,en;q=0.8' }, '', 'uk'],
    [{ 'Accept-Language': 'de-DE,de;q=0.9,en;q=0.7,uk;q=0.5' }, '', 'en'],
    [{ 'Accept-Language': 'uk;q=0.2, en;q=0.8' }, '', 'en'],
    [{ 'Accept-Language': 'fr' }, '', 'uk'],
    [{ 'Accept-Language': '*' }, '', 'uk'],
    [{}, '', 'uk'],
    [{ 'Accept-Language': 'en' }, '?lang=uk', 'uk'],
    [{ 'Accept-Language': 'uk' }, '?lang=en-US', 'en'],
    [{ 'Accept-Language': 'en' }, '?lang=xx', 'en'],
    [{ 'Accept-Language': 'en' }, '?lang=', 'en'],
  ];
  for (const [url, page] of Object.entries(PAGES)) {
    for (const [headers, query, want] of cases) {
      const r = await s.request('GET', `${url}${query}`, { headers });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-language'], want, `${url}${query} ${JSON.stringify(headers)}`);
      assertPage(r.text, want, page, `${url}${query} ${JSON.stringify(headers)}`);
    }
  }
});

test('the catalogues are served for scripts on other sites', async () => {
  for (const lang of LANGS) {
    const r = await s.request('GET', `/assets/i18n/${lang}.json`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.deepEqual(r.json, cat[lang]);
  }
  assert.equal((await s.request('GET', '/assets/i18n/xx.json')).status, 404);
});

// ---- in Chromium ----

async function openPage(locale = 'en-US') {
  return openCheckedPage(browser, { locale, viewport: { width: 900, height: 1200 } });
}

async function assertRendered(page, lang, where) {
  assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `${where}: <html lang>`);
  const text = await page.evaluate(() => {
    const clone = document.body.cloneNode(true);
    clone.querySelector('.lang-switch')?.remove();
    return clone.innerText;
  });
  assert.doesNotMatch(text, /\b(pages|errors)\.[a-z_]+\.[a-z_.]+|\{[a-z_]+\}/, `${where}: no raw key or placeholder`);
  if (lang === 'en') assert.doesNotMatch(text, CYRILLIC, `${where}: no Ukrainian`);
  else for (const t of englishTexts) assert.ok(!text.includes(t), `${where}: English "${t}"`);
}

test('Chromium: the switch changes the language, keeps the address and is remembered on every page', async () => {
  const page = await openPage('en-US');
  await page.goto(`${s.url}/donate?currency=USD`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  await assertRendered(page, 'en', '/donate by Accept-Language');
  assert.match(await page.locator('label[for=preset-0]').textContent(), /\$3\.00 a month/);

  await page.click('#lang-uk');
  await page.waitForURL(/lang=uk/);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('currency'), 'USD', 'the rest of the address is kept');
  await assertRendered(page, 'uk', '/donate after the switch');
  assert.equal(await page.locator('h1').textContent(), cat.uk.pages.donate.title);
  // money in Ukrainian: "3,00 USD щомісяця"
  assert.match(await page.locator('label[for=preset-0]').textContent(), /^3,00\s(USD|\$) щомісяця$/);
  assert.equal(await page.evaluate(() => localStorage.getItem('patrond.lang')), 'uk');

  // the kept choice beats Accept-Language on every page, with no ?lang=
  for (const [url2, pg] of Object.entries(PAGES)) {
    await page.goto(`${s.url}${url2}`);
    await page.waitForURL(/lang=uk/);
    await page.waitForLoadState('load');
    await assertRendered(page, 'uk', `${url2} remembered`);
    assert.equal(await page.title(), cat.uk.pages[pg].title);
    assert.equal(await page.getAttribute('#lang-uk', 'aria-current'), 'true');
  }
  // ?lang= in the address wins over the kept choice, without replacing it
  await page.goto(`${s.url}/members?lang=en`);
  await page.locator('#signin').waitFor();
  await assertRendered(page, 'en', '/members?lang=en');
  assert.equal(await page.evaluate(() => localStorage.getItem('patrond.lang')), 'uk');
  // switching back is kept too
  await page.click('#lang-en');
  await page.waitForURL(/lang=en/);
  await page.goto(`${s.url}/donate/thanks`);
  await assertRendered(page, 'en', '/donate/thanks after switching back');
  assert.match(await page.getAttribute('a[href^="/members"]', 'href'), /lang=en/, 'an internal link keeps the language');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('Chromium: plurals and an error by its code, in Ukrainian', async () => {
  const page = await openPage('uk-UA');
  await page.goto(`${s.url}/members?token=${'x'.repeat(43)}`);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'uk', 'by Accept-Language');
  // the used link's problem, sign_in_link_invalid, in the catalogue's words
  await page.locator('#page-errors').getByText(cat.uk.errors.sign_in_link_invalid).waitFor();
  const shown = await page.locator('#page-errors').textContent();
  assert.doesNotMatch(shown, /[A-Za-z]{4,}/, 'no English detail');
  await assertRendered(page, 'uk', '/members with a bad link');
  // Intl.PluralRules picks the catalogue's forms
  const forms = await page.evaluate(() => [1, 2, 5, 11, 21, 22, 25, 111].map((n) => patrond.t('pages.members.votes', { count: n })));
  assert.deepEqual(forms, ['1 голос', '2 голоси', '5 голосів', '11 голосів', '21 голос', '22 голоси', '25 голосів', '111 голосів']);
  const thousands = await page.evaluate(() => patrond.t('pages.members.votes', { count: 1000 }));
  assert.match(thousands, /^1\s000 голосів$/, 'numbers through Intl');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('Chromium: the member page in Ukrainian lists pledges and payments, cancels with a confirmation and sets the mail language', async () => {
  const p = await s.post('/v1/patrons', { email: uniqueEmail('uk-self') });
  assert.equal(p.status, 201, p.text);
  const periodEnd = new Date(Date.now() + 20 * 24 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const manual = await s.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 15000, currency: 'UAH', interval: 'month', provider: 'manual',
    status: 'active', current_period_end: periodEnd,
  });
  assert.equal(manual.status, 201, manual.text);
  const patreon = await s.post('/v1/pledges', {
    patron_id: p.json.id, amount_minor: 500, currency: 'USD', interval: 'month', provider: 'patreon',
    provider_ref: `pat_${Date.now()}`, status: 'active', current_period_end: periodEnd,
  });
  assert.equal(patreon.status, 201, patreon.text);
  await s.psql(`INSERT INTO payments (kind, status, amount_minor, currency, provider, provider_payment_id, pledge_id,
                                      patron_id, occurred_at, failure_reason)
                VALUES ('charge', 'succeeded', 15000, 'UAH', 'manual', 'i18n_${Date.now()}_1', '${manual.json.id}',
                        '${p.json.id}', now() - interval '2 days', NULL),
                       ('charge', 'failed', 15000, 'UAH', 'manual', 'i18n_${Date.now()}_2', '${manual.json.id}',
                        '${p.json.id}', now() - interval '1 day', 'Card declined')`);
  const [token] = await sessionsFor(s, [p.json.id]);

  const page = await openPage('uk-UA');
  await page.addInitScript((t) => sessionStorage.setItem('patrond.session', t), token);
  await page.goto(`${s.url}/members`);
  await page.locator(`#pledges tr[data-pledge-id="${manual.json.id}"]`).waitFor();
  await page.locator('#membership').getByText(cat.uk.pages.members.is_member).waitFor();
  await assertRendered(page, 'uk', '/members signed in');

  const row = page.locator(`#pledges tr[data-pledge-id="${manual.json.id}"] td`);
  const cells = await row.allTextContents();
  assert.match(cells[0], /^150,00\s(грн|₴|UAH) щомісяця$/, 'the amount in Ukrainian');
  assert.equal(cells[1], cat.uk.pages.common.providers.manual);
  assert.equal(cells[2], 'Діє');
  const ukDate = new Date(periodEnd).toLocaleDateString('uk', { dateStyle: 'long' });
  assert.equal(cells[3], `наступне списання ${ukDate}`);
  assert.match(ukDate, /\d{4}\sр\./, 'a Ukrainian date');
  const payments = await page.locator('#payments tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(payments.length, 2);
  assert.equal(payments[0][2], 'Невдала оплата', 'the newest first: the failed one');
  assert.equal(payments[1][2], 'Оплата');
  assert.match(payments[1][1], /^150,00\s(грн|₴|UAH)$/);

  // Patreon: cancelled there; the 409's manage_url is offered as a link
  await page.locator(`#pledges tr[data-pledge-id="${patreon.json.id}"] button`).click();
  const manage = page.locator('#pledges-errors a');
  await manage.waitFor();
  assert.equal(await manage.textContent(), 'Скасувати на сайті Patreon');
  assert.match(await manage.getAttribute('href'), /^https:\/\//);
  assert.match(await page.locator('#pledges-errors').textContent(), new RegExp(cat.uk.errors.pledge_not_cancelable));

  // the manual pledge: «Скасувати внесок», a confirmation saying until when
  const button = page.locator(`#pledges tr[data-pledge-id="${manual.json.id}"] button`);
  assert.equal(await button.textContent(), 'Скасувати внесок');
  await button.click();
  const dialog = page.locator('#cancel-dialog');
  await dialog.waitFor();
  // a date ending in "р." ends the sentence itself
  const sentence = (text) => text.replace(/\.\.$/, '.');
  assert.equal(await page.locator('#cancel-dialog-text').textContent(),
    sentence(`Більше жодних списань не буде. Ваше членство діятиме до ${ukDate}.`));
  assert.doesNotMatch(await page.locator('#cancel-dialog-text').textContent(), /\.\.$/);
  // keeping it changes nothing and gives focus back
  await page.click('#cancel-keep');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.pledgeId), manual.json.id);
  assert.equal((await s.get(`/v1/pledges/${manual.json.id}`)).json.status, 'active');
  await button.click();
  await page.click('#cancel-confirm');
  await page.locator('#pledges-status').getByText(sentence(`Внесок скасовано. Ваше членство діятиме до ${ukDate}.`)).waitFor();
  await waitFor('the focus on the outcome', () => page.evaluate(() => document.activeElement.id === 'pledges-status'));
  assert.equal((await s.get(`/v1/pledges/${manual.json.id}`)).json.status, 'canceled');
  await waitFor('the row shows the cancellation', async () => (await row.nth(2).textContent()) === 'Скасовано');
  assert.equal(await row.nth(3).textContent(), `скасовано, членство діє до ${ukDate}`);
  assert.equal(await page.locator(`#pledges tr[data-pledge-id="${manual.json.id}"] button`).count(), 0);

  // the mails' language: the switch's languages, the patron's current one chosen
  assert.deepEqual(await page.locator('#locale option').allTextContents(), ['Українська', 'English']);
  assert.equal(await page.inputValue('#locale'), 'uk');
  await page.selectOption('#locale', 'en');
  await page.click('#language-form button[type=submit]');
  await page.locator('#language-status').getByText('Збережено.').waitFor();
  assert.equal((await s.get(`/v1/patrons/${p.json.id}`)).json.locale, 'en');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('Chromium: the form\'s own checks speak Ukrainian and tie each message to its field', async () => {
  const page = await openPage('uk-UA');
  await page.goto(`${s.url}/donate`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  await page.click('#submit');
  await page.locator('#errors li').first().waitFor();
  assert.deepEqual(await page.locator('#errors li').allTextContents(), [cat.uk.pages.donate.err_email, cat.uk.pages.donate.err_consent]);
  assert.equal(await page.getAttribute('#email', 'aria-describedby'), 'email-hint problem-email');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email', 'the first field to fix has the focus');
  await page.fill('#email', 'reader@example.org');
  assert.equal(await page.getAttribute('#email', 'aria-describedby'), 'email-hint');
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), null);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('Chromium: the donation form pre-fills from its address and sends its language; sign-in sends it too', async () => {
  const page = await openPage('uk-UA');
  const sent = [];
  await page.route('**/v1/checkout', async (route) => {
    sent.push(JSON.parse(route.request().postData()));
    await route.continue();
  });
  await page.route('https://buy.stripe.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: 'stripe' }));
  await page.goto(`${s.url}/donate?lang=en&amount_minor=1234&currency=USD&interval=year&provider=stripe`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  assert.equal(await page.inputValue('#currency'), 'USD');
  assert.equal(await page.isChecked('#interval-year'), true);
  assert.equal(await page.isChecked('#provider-stripe'), true);
  assert.equal(await page.inputValue('#custom-amount'), '12.34');
  assert.equal(await page.locator('#presets input:checked').count(), 0);
  // a preset amount selects the preset
  await page.goto(`${s.url}/donate?lang=uk&amount_minor=500&currency=USD`);
  await page.locator('#presets input').first().waitFor({ state: 'attached' });
  assert.equal(await page.inputValue('#custom-amount'), '');
  assert.equal(await page.locator('#presets input:checked').getAttribute('value'), '500');

  const email = uniqueEmail('uk-donor');
  await page.fill('#email', email);
  await page.check('#consent');
  await page.check('#provider-stripe', { force: true });
  await page.click('#submit');
  await waitFor('the checkout request', () => sent.length > 0);
  await page.waitForURL(/buy\.stripe\.com/);
  assert.equal(sent[0].locale, 'uk');
  assert.equal(sent[0].amount_minor, 500);
  assert.match(sent[0].return_url, /\/donate\/thanks\?lang=uk$/);
  await waitFor('the patron with the form\'s language', async () =>
    (await s.psql(`SELECT locale FROM patrons WHERE email = '${email}'`)).trim() === 'uk');

  // the sign-in form: the magic link is asked for in the page's language
  const en = uniqueEmail('en-signin');
  const created = await s.post('/v1/patrons', { email: en });
  assert.equal(created.status, 201, created.text);
  await page.goto(`${s.url}/members?lang=en`);
  await page.locator('#signin').waitFor();
  await page.fill('#signin-email', en);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-status').getByText(cat.en.pages.members.signin_sent).waitFor();
  await waitFor('the sign-in mail in English', async () =>
    (await s.psql(`SELECT o.locale FROM outbox o JOIN patrons p ON p.id = o.patron_id
                    WHERE o.kind = 'magic_link' AND p.email = '${en}'`)).trim() === 'en');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
