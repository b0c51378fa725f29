-- Mails that keep members (SPEC §4c), the SQL side: what is queued (kind,
-- the patron's locale, parameters; never text), when, and how often. The
-- rendering is the delivery job's (tests/unit/test_mail_text.c,
-- tests/blackbox/mails.test.js). now() is fixed for the transaction.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(24);

\ir lib/event.sql

CREATE FUNCTION pg_temp.mails(addr text) RETURNS text
LANGUAGE sql AS $$
  SELECT coalesce(string_agg(o.kind, ',' ORDER BY o.seq), '')
    FROM outbox o JOIN patrons p ON p.id = o.patron_id WHERE lower(p.email) = lower(addr)
$$;

-- ---- a patron's mail is queued as kind, locale and parameters ----

INSERT INTO patrons (email, locale) VALUES ('en@example.org', 'en') RETURNING id AS en \gset
SELECT outbox_enqueue_mail(:'en', 'welcome', '{"x": 1}') AS queued \gset
SELECT results_eq(
  format($$SELECT kind, to_address, locale, params, subject, body FROM outbox WHERE id = %L$$, :'queued'),
  $$VALUES ('welcome', 'en@example.org', 'en', '{"x": 1}'::jsonb, '', '')$$,
  'a mail is queued with the patron''s address and locale and its parameters, no text');
SELECT patron_erase(:'en') AS ignored \gset
SELECT is(outbox_enqueue_mail(:'en', 'welcome', '{}'), NULL, 'an erased patron gets no mail');

-- ---- payments: welcome once, a receipt per payment, failures with their reason ----

SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '1 hour',
         jsonb_build_object('email', 'pay@example.org', 'subscription_ref', 'sub_pay',
                            'payment_id', 'pay_1', 'amount_minor', 15000, 'currency', 'UAH',
                            'interval', 'month',
                            'period_end', now() - interval '1 hour' + interval '21 days'))) AS r \gset
SELECT is(pg_temp.mails('pay@example.org'), 'welcome,receipt', 'the first payment: welcome, then its receipt');
SELECT results_eq(
  $$SELECT params FROM outbox WHERE kind = 'receipt' AND to_address = 'pay@example.org'$$,
  format($$VALUES (jsonb_build_object('amount_minor', 15000, 'currency', 'UAH', 'paid_at', %L::text,
                                      'payment_id', 'pay_1', 'until', %L::text, 'count', 21))$$,
         rfc3339(now() - interval '1 hour'), rfc3339(now() - interval '1 hour' + interval '21 days')),
  'the receipt names the amount, the day, the reference, the period paid and its length in days');
SELECT pg_temp.event('payment_succeeded', now(),
         jsonb_build_object('email', 'pay@example.org', 'subscription_ref', 'sub_pay',
                            'payment_id', 'pay_2', 'amount_minor', 15000, 'currency', 'UAH',
                            'interval', 'month', 'period_end', now() + interval '50 days')) AS pay_2 \gset
SELECT webhook_apply('standard', :'pay_2') AS r \gset
SELECT webhook_apply('standard', :'pay_2') AS r \gset
SELECT is(pg_temp.mails('pay@example.org'), 'welcome,receipt,receipt',
          'a second payment: a receipt and no second welcome; the same payment again: nothing');
SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now(),
         jsonb_build_object('email', 'pay@example.org', 'subscription_ref', 'sub_pay_other',
                            'payment_id', 'pay_3', 'amount_minor', 500, 'currency', 'USD',
                            'interval', 'month'))) AS r \gset
SELECT is(pg_temp.mails('pay@example.org'), 'welcome,receipt,receipt,receipt',
          'the first payment of a second pledge is no new welcome');

SELECT pg_temp.event('payment_failed', now(),
         jsonb_build_object('email', 'pay@example.org', 'subscription_ref', 'sub_pay',
                            'payment_id', 'pay_f1', 'amount_minor', 15000, 'currency', 'UAH',
                            'reason', 'Insufficient funds')) AS pay_f1 \gset
SELECT webhook_apply('standard', :'pay_f1') AS r \gset
SELECT webhook_apply('standard', :'pay_f1') AS r \gset
SELECT results_eq(
  $$SELECT params - 'pledge_id' FROM outbox WHERE kind = 'payment_failed' AND to_address = 'pay@example.org'$$,
  $$VALUES ('{"amount_minor": 15000, "currency": "UAH", "interval": "month", "provider": "standard",
              "reason": "Insufficient funds"}'::jsonb)$$,
  'a failed payment: one mail per payment, with the reason and what paying again needs');
SELECT is((SELECT params->>'pledge_id' FROM outbox WHERE kind = 'payment_failed' AND to_address = 'pay@example.org'),
          (SELECT id::text FROM pledges WHERE provider_ref = 'sub_pay'), 'it names the pledge');

-- ---- cancellation, whatever cancels ----

INSERT INTO patrons (email, locale) VALUES ('cancel@example.org', 'uk') RETURNING id AS cp \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                     current_period_end, activated_at)
VALUES (:'cp', 900, 'EUR', 'month', 'manual', 'active', now() + interval '12 days', now() - interval '18 days')
RETURNING id AS paid \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status)
VALUES (:'cp', 900, 'EUR', 'month', 'stripe', 'pending') RETURNING id AS unpaid \gset
UPDATE pledges SET status = 'canceled', canceled_at = now() WHERE id IN (:'paid', :'unpaid');
SELECT results_eq(
  $$SELECT o.kind, o.locale, o.params->>'until', o.params->>'amount_minor' FROM outbox o JOIN patrons p ON p.id = o.patron_id
     WHERE p.email = 'cancel@example.org'$$,
  format($$VALUES ('canceled', 'uk', %L, '900')$$, rfc3339(now() + interval '12 days')),
  'a paid pledge moving to canceled sends one confirmation, until the end of the paid period; a never-paid one none');
UPDATE pledges SET updated_at = now() WHERE id = :'paid';
SELECT is(pg_temp.mails('cancel@example.org'), 'canceled', 'a canceled pledge written again sends nothing more');
SELECT webhook_apply('standard', pg_temp.event('pledge_canceled', now(),
         jsonb_build_object('email', 'pay@example.org', 'subscription_ref', 'sub_pay'))) AS r \gset
SELECT is((SELECT count(*)::int FROM outbox WHERE kind = 'canceled' AND to_address = 'pay@example.org'), 1,
          'a provider''s cancellation sends it too');
SELECT is((SELECT params->>'until' FROM outbox WHERE kind = 'canceled' AND to_address = 'pay@example.org'),
          rfc3339(now() + interval '50 days'), 'until the end of what was paid');

-- ---- "your membership ends on …": three days before a lapse, once per lapse ----

-- patrond.grace_days is unset here: 7 days. A lapse is the period end plus the grace.
INSERT INTO patrons (email) VALUES ('soon@example.org') RETURNING id AS soon \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                     current_period_end, activated_at)
VALUES (:'soon', 500, 'USD', 'month', 'stripe', 'past_due', now() - interval '5 days', now() - interval '40 days')
RETURNING id AS soon_pledge \gset
INSERT INTO patrons (email) VALUES ('later@example.org') RETURNING id AS later \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                     current_period_end, activated_at)
VALUES (:'later', 500, 'USD', 'month', 'stripe', 'past_due', now() - interval '3 days', now() - interval '40 days');
INSERT INTO patrons (email) VALUES ('open@example.org') RETURNING id AS open \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                     current_period_end, activated_at)
VALUES (:'open', 500, 'USD', 'month', 'stripe', 'past_due', now() - interval '5 days', now() - interval '40 days'),
       (:'open', 500, 'USD', 'month', 'manual', 'active', NULL, now() - interval '40 days');
INSERT INTO patrons (email) VALUES ('gone@example.org') RETURNING id AS gone \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                     current_period_end, activated_at)
VALUES (:'gone', 500, 'USD', 'month', 'stripe', 'past_due', now() - interval '8 days', now() - interval '40 days');

SELECT is(mail_ends_soon() >= 1, true, 'the job queues mails');
SELECT is(pg_temp.mails('soon@example.org'), 'ends_soon', 'a lapse two days away: the mail');
SELECT is((SELECT params->>'until' FROM outbox WHERE kind = 'ends_soon' AND patron_id = :'soon'),
          rfc3339(now() + interval '2 days'), 'it says when the membership ends: the period end plus the grace');
SELECT is(pg_temp.mails('later@example.org'), '', 'a lapse four days away: not yet');
SELECT is(pg_temp.mails('open@example.org'), '', 'a membership that does not end (a manual pledge) has no lapse');
SELECT is(pg_temp.mails('gone@example.org'), '', 'a membership already over: no mail');
SELECT is(mail_ends_soon(), 0, 'run again: nothing more');
SELECT is(pg_temp.mails('soon@example.org'), 'ends_soon', 'one mail per lapse');

-- a payment moves the lapse away; when the new one nears, it gets its own mail
UPDATE pledges SET status = 'active', current_period_end = now() + interval '30 days' WHERE id = :'soon_pledge';
SELECT is(mail_ends_soon(), 0, 'after a payment, no lapse is near');
UPDATE pledges SET status = 'past_due', current_period_end = now() - interval '6 days' WHERE id = :'soon_pledge';
SELECT mail_ends_soon() AS ignored \gset
SELECT is(pg_temp.mails('soon@example.org'), 'ends_soon,ends_soon', 'a new lapse: a new mail');
SELECT is((SELECT params->>'until' FROM outbox WHERE kind = 'ends_soon' AND patron_id = :'soon' ORDER BY seq DESC LIMIT 1),
          rfc3339(now() + interval '1 day'), 'about the new lapse');

UPDATE patrons SET lapse_notice_for = NULL WHERE id = :'soon';
SELECT patron_erase(:'soon') AS ignored \gset
SELECT is(mail_ends_soon(), 0, 'an erased patron is not told');

SELECT * FROM finish();
ROLLBACK;
