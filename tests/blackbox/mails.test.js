'use strict';
// Mails that keep members (SPEC §4c), end to end through
// PATROND_MAIL_COMMAND: each in the patron's language (`locale`, set at
// checkout, sign-in, PATCH /v1/me or by an admin), rendered from the
// catalogue's "mail" object, with the newsroom's name (PATROND_SITE_NAME).
// Provider events are signed with the official `standardwebhooks` library.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const {
  startServer, assertProblem, uniqueEmail, sessionsFor, waitFor,
} = require('./lib/harness');
const { standardSecret, standardBody, sendStandard } = require('./lib/webhooks');
const { mailbox, readMails } = require('./lib/mailbox');

const PUBLIC_URL = 'https://news.example.org';
const SITE = 'Новини Громади';
const SECRET = standardSecret();
const DAY = 86400000;
let s, box;

before(async () => {
  box = mailbox();
  s = await startServer({
    env: {
      PATROND_MAIL_COMMAND: box.command,
      PATROND_PUBLIC_URL: PUBLIC_URL,
      PATROND_SITE_NAME: SITE,
      PATROND_STANDARD_WEBHOOK_SECRET: SECRET,
      PATROND_LIQPAY_PUBLIC_KEY: 'sandbox_i00000000',
      PATROND_LIQPAY_PRIVATE_KEY: 'sandbox_private_test_key',
    },
  });
});
after(async () => {
  await s?.stop();
  if (box) fs.rmSync(box.dir, { recursive: true, force: true });
});

const ref = (p) => `${p}_${crypto.randomBytes(6).toString('hex')}`;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// A standard event, its timestamp (the time it happened) `at`.
async function send(type, data, at = new Date()) {
  const r = await sendStandard(s, standardBody(type, data, at), { secret: SECRET });
  assert.equal(r.status, 200, r.text);
}

function mailsTo(email) {
  return readMails(box.dir).filter((m) => m.headers.to === email);
}

async function waitMails(email, count) {
  return waitFor(`${count} mail(s) to ${email}`, () => {
    const mine = mailsTo(email);
    return mine.length >= count ? mine : null;
  });
}

async function newPatron(locale) {
  const email = uniqueEmail('mail');
  const r = await s.post('/v1/patrons', { email, name: 'Reader' });
  assert.equal(r.status, 201, r.text);
  if (locale) {
    const p = await s.patch(`/v1/patrons/${r.json.id}`, { locale });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.locale, locale);
  }
  return { id: r.json.id, email };
}

const dateIn = (lang, ms) => new Intl.DateTimeFormat(lang, {
  day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC',
}).format(new Date(ms));

function assertFramed(mail) {
  assert.equal(mail.headers.from, `${SITE} <patrond@news.example.org>`);
  assert.equal(mail.headers['auto-submitted'], 'auto-generated');
  assert.equal(mail.headers['content-type'], 'text/plain; charset=utf-8');
  assert.ok(mail.headers.subject.includes(SITE), mail.headers.subject);
}

test('the patron representation carries a locale: the default until set; only offered languages', async () => {
  const p = await newPatron();
  assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.locale, 'uk', 'the default language');
  const bad = await s.patch(`/v1/patrons/${p.id}`, { locale: 'de' });
  assertProblem(assert, bad, 422);
  assert.equal(bad.json.errors[0].field, 'locale');
  assert.equal((await s.patch(`/v1/patrons/${p.id}`, { locale: 'en' })).json.locale, 'en');
  assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.locale, 'en');
});

test('checkout sets the locale; a Ukrainian patron is welcomed once and gets Ukrainian receipts', async () => {
  const email = uniqueEmail('uk');
  const order = { email, amount_minor: 12345, currency: 'UAH', interval: 'month', provider: 'liqpay' };
  const bad = await s.request('POST', '/v1/checkout', { body: { ...order, locale: 'xx' } });
  assertProblem(assert, bad, 422);
  assert.equal(bad.json.errors[0].field, 'locale');
  const co = await s.request('POST', '/v1/checkout', { body: { ...order, locale: 'uk' } });
  assert.equal(co.status, 201, co.text);
  assert.equal((await s.get(`/v1/patrons/${co.json.patron_id}`)).json.locale, 'uk');

  const sub = ref('sub');
  const t0 = Date.now();
  const pays = [];
  for (const days of [21, 22]) {
    const id = ref('pay');
    pays.push(id);
    await send('payment.succeeded', {
      email, subscription_id: sub, payment_id: id, amount_minor: 123456, currency: 'UAH',
      interval: 'month', period_end: iso(t0 + days * DAY),
    }, new Date(t0));
  }
  const mails = await waitMails(email, 3);
  await new Promise((r) => setTimeout(r, 1500));
  const all = mailsTo(email);
  assert.deepEqual(all.map((m) => m.headers.subject), [
    `«${SITE}»: вітаємо серед меценатів!`,
    `«${SITE}»: ми отримали ваш внесок 1\u00a0234,56\u00a0грн`,
    `«${SITE}»: ми отримали ваш внесок 1\u00a0234,56\u00a0грн`,
  ], 'one welcome, then a receipt per payment');
  for (const m of mails) assertFramed(m);
  assert.match(all[0].body, /приєдналися до меценатів «Новини Громади»/);
  assert.ok(all[0].body.includes(`${PUBLIC_URL}/members?lang=uk`));
  assert.ok(all[1].body.includes(`Він оплачує 21 день членства — до ${dateIn('uk', t0 + 21 * DAY)}.`), all[1].body);
  assert.ok(all[1].body.includes(`(${dateIn('uk', t0)}, номер платежу ${pays[0]})`), all[1].body);
  assert.ok(all[2].body.includes('Він оплачує 22 дні членства'), all[2].body);
  assert.ok(all[1].body.endsWith(`—\nРедакція «${SITE}»\n`), 'signed with the newsroom\'s name');
  // the outbox keeps what was sent
  const sent = await s.psqlJson(`SELECT jsonb_build_object('subject', subject, 'locale', locale)
                                   FROM outbox WHERE to_address = '${email}' AND kind = 'receipt' ORDER BY seq`);
  assert.deepEqual(sent[0], { subject: all[1].headers.subject, locale: 'uk' });
});

test('plural forms in a receipt: 1, 2, 5 and 21 days in Ukrainian and in English', async () => {
  const uk = await newPatron('uk');
  const en = await newPatron('en');
  const t0 = Date.now();
  for (const p of [uk, en]) {
    const sub = ref('sub');
    for (const days of [1, 2, 5, 21]) {
      await send('payment.succeeded', {
        email: p.email, subscription_id: sub, payment_id: ref('pay'), amount_minor: 500, currency: 'USD',
        interval: 'month', period_end: iso(t0 + days * DAY),
      }, new Date(t0));
    }
  }
  const receipts = async (p) => (await waitMails(p.email, 5)).filter((m) => !/вітаємо|Welcome/i.test(m.headers.subject));
  const ukBodies = (await receipts(uk)).map((m) => m.body.match(/оплачує (.*) членства/)[1]);
  assert.deepEqual(ukBodies, ['1 день', '2 дні', '5 днів', '21 день']);
  const enBodies = (await receipts(en)).map((m) => m.body.match(/pays for (.*) of membership/)[1]);
  assert.deepEqual(enBodies, ['1 day', '2 days', '5 days', '21 days']);
  const enMail = mailsTo(en.email)[1];
  assert.equal(enMail.headers.subject, `${SITE}: we received your payment of 5.00 USD`);
  assert.ok(enMail.body.includes(`until ${dateIn('en', t0 + DAY)}.`), enMail.body);
});

test('a failed payment: the provider\'s reason and a pay-again link, in the patron\'s language', async () => {
  for (const [lang, subject, says] of [
    ['uk', `«${SITE}»: не вдалося списати внесок`, 'Платіжна система пояснює це так: Недостатньо коштів'],
    ['en', `${SITE}: your payment did not go through`, 'The payment provider\'s reason: Недостатньо коштів'],
  ]) {
    const p = await newPatron(lang);
    const sub = ref('sub');
    await send('payment.succeeded', {
      email: p.email, subscription_id: sub, payment_id: ref('pay'), amount_minor: 7500, currency: 'EUR',
      interval: 'month',
    });
    await send('payment.failed', {
      email: p.email, subscription_id: sub, payment_id: ref('pay'), amount_minor: 7500, currency: 'EUR',
      reason: 'Недостатньо коштів',
    });
    const mails = await waitMails(p.email, 3);
    const failed = mails.find((m) => m.headers.subject === subject);
    assert.ok(failed, `${lang}: ${mails.map((m) => m.headers.subject)}`);
    assertFramed(failed);
    assert.ok(failed.body.includes(says), failed.body);
    assert.ok(failed.body.includes(`${PUBLIC_URL}/donate?amount_minor=7500&currency=EUR&interval=month`
      + `&provider=standard&lang=${lang}\n`), failed.body);
  }
});

test('PATCH /v1/me sets the locale; a sign-in link request may too; both refuse languages not offered', async () => {
  const p = await newPatron();
  const [token] = await sessionsFor(s, [p.id]);
  const auth = { headers: { Authorization: `Bearer ${token}` } };
  const r = await s.request('PATCH', '/v1/me', { body: { locale: 'en' }, ...auth });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.locale, 'en');
  assert.equal(r.json.patron.locale, 'en');
  const me = await s.request('GET', '/v1/me', auth);
  assert.deepEqual(r.json, me.json, 'the /v1/me body');
  for (const body of [{ locale: 'de' }, { locale: 'EN ' }, {}, { locale: 5 }]) {
    assertProblem(assert, await s.request('PATCH', '/v1/me', { body, ...auth }), 422, JSON.stringify(body));
  }
  assert.equal((await s.request('PATCH', '/v1/me', { body: { locale: 'en' } })).status, 401);

  const link = await s.request('POST', '/v1/auth/magic-link', { body: { email: p.email } });
  assert.equal(link.status, 202);
  const [en] = await waitMails(p.email, 1);
  assert.equal(en.headers.subject, `${SITE}: your sign-in link`);
  assert.match(en.body, /members\?token=[A-Za-z0-9_-]{43}\n/);

  assertProblem(assert, await s.request('POST', '/v1/auth/magic-link', { body: { email: p.email, locale: 'fr' } }), 422);
  assert.equal((await s.request('POST', '/v1/auth/magic-link', { body: { email: p.email, locale: 'uk' } })).status, 202);
  const mails = await waitMails(p.email, 2);
  assert.equal(mails[1].headers.subject, `«${SITE}»: посилання для входу`);
  assert.equal((await s.get(`/v1/patrons/${p.id}`)).json.locale, 'uk', 'the form\'s language is the patron\'s now');
});

test('a cancellation is confirmed, with until when the membership runs, whoever canceled', async () => {
  const p = await newPatron('en');
  const end = Date.parse('2031-03-04T12:00:00Z');
  const created = await s.post('/v1/pledges', {
    patron_id: p.id, amount_minor: 900, currency: 'EUR', interval: 'month', provider: 'manual', status: 'active',
  });
  assert.equal(created.status, 201, created.text);
  await s.psql(`UPDATE pledges SET current_period_end = '${iso(end)}', activated_at = now() WHERE id = '${created.json.id}'`);
  const c = await s.patch(`/v1/pledges/${created.json.id}`, { status: 'canceled' });
  assert.equal(c.status, 200, c.text);
  const [mail] = await waitMails(p.email, 1);
  assert.equal(mail.headers.subject, `${SITE}: your pledge is canceled`);
  assert.ok(mail.body.includes('your pledge of 9.00 EUR is canceled'), mail.body);
  assert.ok(mail.body.includes('Your membership runs until March 4, 2031'), mail.body);

  const q = await newPatron('uk');
  const sub = ref('sub');
  await send('payment.succeeded', {
    email: q.email, subscription_id: sub, payment_id: ref('pay'), amount_minor: 5000, currency: 'UAH',
    interval: 'month', period_end: iso(end),
  });
  await send('pledge.canceled', { email: q.email, subscription_id: sub });
  const mails = await waitMails(q.email, 3);
  const canceled = mails.filter((m) => m.headers.subject === `«${SITE}»: ваш внесок скасовано`);
  assert.equal(canceled.length, 1, mails.map((m) => m.headers.subject).join(' / '));
  assert.ok(canceled[0].body.includes('Ваш внесок 50,00\u00a0грн скасовано'), canceled[0].body);
  assert.ok(canceled[0].body.includes(`Членство триває до ${dateIn('uk', end)}`), canceled[0].body);
});

test('"your membership ends on …" three days before a lapse, once per lapse, by the job', async () => {
  const p = await newPatron('uk');
  const sub = ref('sub');
  await send('payment.succeeded', {
    email: p.email, subscription_id: sub, payment_id: ref('pay'), amount_minor: 5000, currency: 'UAH',
    interval: 'month', period_end: iso(Date.now() + 30 * DAY),
  });
  await waitMails(p.email, 2);
  // the clock: the paid period ended 5 days ago; with the 7-day grace the lapse is 2 days away
  const lapse = await s.psql(`WITH moved AS (
                                 UPDATE pledges SET status = 'past_due', current_period_end = now() - interval '5 days'
                                  WHERE provider_ref = '${sub}' RETURNING current_period_end)
                               SELECT rfc3339(current_period_end + interval '7 days') FROM moved`);
  const mails = await waitFor('the ends-soon mail', () => {
    const m = mailsTo(p.email).filter((x) => x.headers.subject.includes('закінчується'));
    return m.length ? m : null;
  }, 30000);
  const expected = dateIn('uk', Date.parse(lapse));
  assert.equal(mails[0].headers.subject, `«${SITE}»: ваше членство закінчується ${expected}`);
  assert.ok(mails[0].body.includes(`${PUBLIC_URL}/donate?lang=uk`), mails[0].body);
  assertFramed(mails[0]);
  // the job's own query again, and the outbox: nothing more for this lapse
  assert.equal(await s.psql('SELECT mail_ends_soon()'), '0');
  assert.equal(await s.psql(`SELECT count(*) FROM outbox WHERE patron_id = '${p.id}' AND kind = 'ends_soon'`), '1');
});

test('erasure: queued mail is dropped, sent mail keeps neither address, text nor parameters', async () => {
  const p = await newPatron('en');
  await s.psql(`SELECT outbox_enqueue_mail('${p.id}', 'magic_link', '{"link": "${PUBLIC_URL}/members?token=abc"}')`);
  const [sent] = await waitMails(p.email, 1);
  assert.ok(sent.body.includes('/members?token=abc'));
  await waitFor('marked sent', async () => (await s.psql(
    `SELECT count(*) FROM outbox WHERE patron_id = '${p.id}' AND sent_at IS NOT NULL`)) === '1');
  assert.equal(await s.psql(`SELECT params->>'link' || ' ' || (strpos(body, 'token=abc') = 0)::text
                               FROM outbox WHERE patron_id = '${p.id}'`),
  `${PUBLIC_URL}/members?token=[redacted] true`, 'a delivered sign-in link loses its token');
  await s.psql(`INSERT INTO outbox (patron_id, kind, to_address, subject, body, locale, params, next_attempt_at)
                VALUES ('${p.id}', 'receipt', '${p.email}', '', '', 'en', '{"payment_id": "x"}',
                        now() + interval '1 hour')`);
  assert.equal((await s.del(`/v1/patrons/${p.id}`)).status, 204);
  assert.equal(await s.psql(`SELECT string_agg(kind || ':' || (to_address IS NULL) || ':' || (params IS NULL)
                                               || ':' || (body = ''), ',') FROM outbox WHERE patron_id = '${p.id}'`),
  'magic_link:true:true:true');
});
