-- Webhook apply (SPEC §4 Webhooks step 3, Pledges, Membership): a parsed,
-- provider-neutral event (the jsonb that api/db/webhooks.c's event_text()
-- writes: kind, email, subscription_ref, payment_id, charge_ref,
-- amount_minor, currency, interval, period_end, occurred_at, reason, ...)
-- applied to patrons, pledges and payments. Out-of-order events converge;
-- the provider's confirmed figures win; money back pays for nothing;
-- canceled is final.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(57);

\ir lib/event.sql
-- Events applied only for their effect keep their answer in :last (\gset),
-- so that it does not clutter the TAP output.

-- ---- a payment for an unknown subscription creates the patron and pledge ----

SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '2 days',
         jsonb_build_object('email', 'a@example.org', 'name', 'A', 'subscription_ref', 'sub_a',
                            'payment_id', 'pay_a1', 'amount_minor', 500, 'currency', 'EUR',
                            'interval', 'month', 'period_end', now() + interval '28 days'))) AS r1 \gset
SELECT :'r1'::jsonb->>'pledge_id' AS a \gset

SELECT is(:'r1'::jsonb->>'status', 'applied', 'a first payment is applied');
SELECT results_eq(
  format($$SELECT pa.email, p.provider, p.provider_ref, p.amount_minor, p.currency, p.interval
             FROM pledges p JOIN patrons pa ON pa.id = p.patron_id WHERE p.id = %L$$, :'a'),
  $$VALUES ('a@example.org', 'standard', 'sub_a', 500::bigint, 'EUR'::char(3), 'month')$$,
  'a payment for an unknown subscription creates the patron and its pledge from the event');
SELECT is((SELECT status FROM pledges WHERE id = :'a'), 'active', 'the first payment activates the pledge');
SELECT is((SELECT current_period_end FROM pledges WHERE id = :'a'), now() + interval '28 days',
          'the pledge is paid until the provider''s period end');
SELECT results_eq(
  format($$SELECT kind, status, amount_minor, provider_payment_id FROM payments WHERE pledge_id = %L$$, :'a'),
  $$VALUES ('charge', 'succeeded', 500::bigint, 'pay_a1')$$,
  'the payment is booked as one charge in the ledger');
SELECT ok(NOT :'r1'::jsonb ? 'adjusted', 'a first payment matching the pledge adjusts nothing');
SELECT is(patron_status((SELECT patron_id FROM pledges WHERE id = :'a')), 'member',
          'the paying patron is a member');

-- ---- a confirming event with another amount: the provider's figures win ----

SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '1 day',
         jsonb_build_object('email', 'a@example.org', 'subscription_ref', 'sub_a',
                            'payment_id', 'pay_a2', 'amount_minor', 700, 'currency', 'EUR',
                            'interval', 'month', 'period_end', now() + interval '58 days'))) AS r2 \gset
SELECT is(:'r2'::jsonb->>'pledge_id', :'a', 'a renewal of the subscription finds the same pledge');
SELECT is(:'r2'::jsonb->'adjusted',
          '{"from": {"amount_minor": 500, "currency": "EUR", "interval": "month"},
            "to":   {"amount_minor": 700, "currency": "EUR", "interval": "month"}}'::jsonb,
          'a confirming event with another amount answers what it adjusted');
SELECT is((SELECT amount_minor FROM pledges WHERE id = :'a'), 700::bigint,
          'the confirmed amount overwrites the pledge''s amount');
SELECT is((SELECT current_period_end FROM pledges WHERE id = :'a'), now() + interval '58 days',
          'the renewal moves the period end to the later one');

-- the same payment reported again (a second event type, a redelivery)
SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '1 day',
         jsonb_build_object('subscription_ref', 'sub_a', 'payment_id', 'pay_a2',
                            'amount_minor', 700, 'currency', 'EUR'))) AS last \gset
SELECT is((SELECT count(*) FROM payments WHERE pledge_id = :'a'), 2::bigint,
          'a payment id already booked is not booked twice');

-- ---- canceled is final ----

SELECT webhook_apply('standard', pg_temp.event('pledge_canceled', now() - interval '12 hours',
         '{"subscription_ref": "sub_a"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'a'), 'canceled', 'a cancellation cancels the pledge');
SELECT isnt((SELECT canceled_at FROM pledges WHERE id = :'a'), NULL, 'a cancellation stamps canceled_at');
SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now(),
         '{"subscription_ref": "sub_a", "payment_id": "pay_a3", "amount_minor": 700, "currency": "EUR"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'a'), 'canceled',
          'canceled is final: a later payment does not revive the pledge');
SELECT is((SELECT count(*) FROM payments WHERE pledge_id = :'a'), 3::bigint,
          '... but its money is real and booked');
SELECT webhook_apply('standard', pg_temp.event('pledge_activated', now(), '{"subscription_ref": "sub_a"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'a'), 'canceled',
          'canceled is final: a later activation does not revive the pledge');

-- ---- a payment for a pledge made by checkout links to it ----

INSERT INTO patrons (email) VALUES ('b@example.org') RETURNING id AS bp \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status)
VALUES (:'bp', 1000, 'EUR', 'month', 'standard', 'pending') RETURNING id AS b \gset
SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '1 hour',
         jsonb_build_object('pledge_id', :'b', 'subscription_ref', 'sub_b', 'payment_id', 'pay_b1',
                            'amount_minor', 1000, 'currency', 'EUR'))) AS rb \gset
SELECT is(:'rb'::jsonb->>'pledge_id', :'b', 'a payment naming our pledge id links to that pledge');
SELECT is((SELECT provider_ref FROM pledges WHERE id = :'b'), 'sub_b',
          'the linked pledge learns its subscription');
SELECT is((SELECT current_period_end FROM pledges WHERE id = :'b'),
          now() - interval '1 hour' + interval '1 month',
          'without a provider period end, the charge pays for one interval');
SELECT is((SELECT count(*) FROM pledges WHERE patron_id = :'bp'), 1::bigint, 'linking creates no second pledge');

-- ---- out-of-order events converge on the provider's order ----

SELECT webhook_apply('standard', pg_temp.event('payment_failed', now() - interval '2 hours',
         '{"subscription_ref": "sub_b", "payment_id": "pay_b0", "reason": "card declined"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'b'), 'active',
          'a failure stamped before the success, delivered after it, does not make the pledge past_due');
SELECT is((SELECT failure_reason FROM payments WHERE provider_payment_id = 'pay_b0'), 'card declined',
          'the late failure is still booked, with its reason');
SELECT webhook_apply('standard', pg_temp.event('payment_failed', now() - interval '30 minutes',
         '{"subscription_ref": "sub_b", "payment_id": "pay_b2"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'b'), 'past_due',
          'a failure stamped after the success makes the pledge past_due');
SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '45 minutes',
         '{"subscription_ref": "sub_b", "payment_id": "pay_b1bis", "amount_minor": 1000, "currency": "EUR"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'b'), 'past_due',
          'a success stamped before that failure, delivered after it, does not undo it');
SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '10 minutes',
         '{"subscription_ref": "sub_b", "payment_id": "pay_b3", "amount_minor": 1000, "currency": "EUR"}')) AS last \gset
SELECT is((SELECT status FROM pledges WHERE id = :'b'), 'active', 'a newer success makes it active again');

-- ---- a refund of a one-off's whole charge ends its membership ----

SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '1 day',
         '{"email": "d@example.org", "payment_id": "pay_d1", "amount_minor": 1000, "currency": "EUR",
           "interval": "once"}')) ->> 'pledge_id' AS d \gset
SELECT id AS dp FROM patrons WHERE email = 'd@example.org' \gset
SELECT is((SELECT interval FROM pledges WHERE id = :'d'), 'once', 'a one-off payment makes a one-off pledge');
SELECT is(patron_status(:'dp'), 'member', 'a one-off paid yesterday makes a member');
SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now() - interval '12 hours',
         '{"payment_id": "re_d1", "charge_ref": "pay_d1", "amount_minor": 400, "currency": "EUR"}')) AS last \gset
SELECT is((SELECT refunds_payment_id FROM payments WHERE provider_payment_id = 're_d1'),
          (SELECT id FROM payments WHERE provider_payment_id = 'pay_d1'),
          'a refund names the charge it concerns');
SELECT is(patron_status(:'dp'), 'member', 'a partial refund leaves the one-off paying for its 31 days');
SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now() - interval '6 hours',
         '{"payment_id": "re_d2", "charge_ref": "pay_d1", "amount_minor": 600, "currency": "EUR"}')) AS last \gset
SELECT is(payment_net((SELECT id FROM payments WHERE provider_payment_id = 'pay_d1')), 0::bigint,
          'after both refunds nothing is left of the charge');
SELECT ok(NOT pledge_is_membership((SELECT p FROM pledges p WHERE id = :'d')),
          'a one-off whose whole charge was refunded is no membership');
SELECT is(patron_status(:'dp'), 'lapsed', 'its patron is lapsed');

-- ---- an event listing every refund of its charge books each once ----

SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '1 day',
         '{"email": "f@example.org", "payment_id": "pay_f1", "amount_minor": 1000, "currency": "EUR",
           "interval": "once"}')) AS last \gset
SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now() - interval '1 hour',
         jsonb_build_object('payment_id', 're_f2', 'charge_ref', 'pay_f1', 'amount_minor', 200,
           'currency', 'EUR', 'refunds', jsonb_build_array(
             jsonb_build_object('payment_id', 're_f2', 'amount_minor', 200, 'occurred_at', now() - interval '1 hour'),
             jsonb_build_object('payment_id', 're_f1', 'amount_minor', 300, 'occurred_at', now() - interval '2 hours'))))) AS last \gset
SELECT results_eq($$SELECT provider_payment_id, amount_minor, occurred_at < now() - interval '90 minutes'
                      FROM payments WHERE kind = 'refund' AND provider_payment_id LIKE 're_f%'
                     ORDER BY provider_payment_id$$,
                  $$VALUES ('re_f1', -300::bigint, true), ('re_f2', -200::bigint, false)$$,
                  'every refund the event lists is booked, at its own time, the one it did not announce too');
SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now(),
         jsonb_build_object('payment_id', 're_f3', 'charge_ref', 'pay_f1', 'amount_minor', 100,
           'currency', 'EUR', 'refunds', jsonb_build_array(
             jsonb_build_object('payment_id', 're_f1', 'amount_minor', 300, 'occurred_at', now() - interval '2 hours'),
             jsonb_build_object('payment_id', 're_f2', 'amount_minor', 200, 'occurred_at', now() - interval '1 hour'),
             jsonb_build_object('payment_id', 're_f3', 'amount_minor', 100, 'occurred_at', now()))))) AS last \gset
SELECT is(payment_net((SELECT id FROM payments WHERE provider_payment_id = 'pay_f1')), 400::bigint,
          'listed again with a new one, the earlier refunds are not booked twice');

-- ---- a refund restating its charge books the charge whose own delivery was lost ----

SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', now() - interval '40 days',
         '{"email": "g@example.org", "subscription_ref": "sub_g", "payment_id": "pay_g0",
           "amount_minor": 500, "currency": "EUR", "interval": "month"}')) AS last \gset
SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now() - interval '1 hour',
         jsonb_build_object('subscription_ref', 'sub_g', 'payment_id', 're_g1', 'charge_ref', 'pay_g1',
           'amount_minor', 200, 'currency', 'EUR', 'charge_amount_minor', 500,
           'charge_occurred_at', now() - interval '10 days'))) AS last \gset
SELECT results_eq($$SELECT provider_payment_id, amount_minor, occurred_at = now() - interval '10 days'
                      FROM payments WHERE provider_payment_id LIKE 'pay_g%' ORDER BY 1$$,
                  $$VALUES ('pay_g0', 500::bigint, false), ('pay_g1', 500::bigint, true)$$,
                  'the charge a refund restates is booked, at its own time');
SELECT is((SELECT c.provider_payment_id FROM payments r JOIN payments c ON c.id = r.refunds_payment_id
            WHERE r.provider_payment_id = 're_g1'), 'pay_g1',
          'the refund voids the charge it restates, not the pledge''s latest before it');
SELECT is((SELECT current_period_end FROM pledges WHERE provider_ref = 'sub_g'),
          now() - interval '10 days' + interval '1 month',
          'the restated charge, partly refunded, pays for its period');
SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now(),
         jsonb_build_object('subscription_ref', 'sub_g', 'payment_id', 're_g2', 'charge_ref', 'pay_g1',
           'amount_minor', 300, 'currency', 'EUR', 'charge_amount_minor', 500,
           'charge_occurred_at', now() - interval '10 days'))) AS last \gset
SELECT is((SELECT count(*) FROM payments WHERE provider_payment_id = 'pay_g1'), 1::bigint,
          'a charge restated again is booked once');

-- ---- a refund that knows its charge only by when it was made (Stripe since
-- API 2025-03-31: the invoice names no payment intent) ----

CREATE FUNCTION pg_temp.stripe(key text, ev jsonb) RETURNS text
LANGUAGE sql AS $$ SELECT webhook_receive('stripe', key, NULL, '\x7b7d'::bytea, '{}', ev, NULL)->>'outcome' $$;
CREATE FUNCTION pg_temp.invoice(cus text, id text, at timestamptz) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT pg_temp.event('payment_succeeded', at, jsonb_build_object(
    'email', cus || '@example.org', 'subscription_ref', 'sub_' || cus, 'customer_ref', cus,
    'payment_id', id, 'amount_minor', 500, 'currency', 'EUR', 'interval', 'month',
    'period_end', at + interval '1 month'))
$$;
CREATE FUNCTION pg_temp.refund(cus text, id text, charge text, made timestamptz) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT pg_temp.event('payment_refunded', now(), jsonb_build_object(
    'customer_ref', cus, 'payment_id', id, 'charge_ref', charge, 'amount_minor', 500,
    'currency', 'EUR', 'charge_occurred_at', made))
$$;

-- In order: June, July, then July's refund, whose charge was made 30 s before its invoice was paid.
SELECT pg_temp.stripe('evt_h0', pg_temp.invoice('cus_h', 'in_h0', now() - interval '40 days')) AS last \gset
SELECT pg_temp.stripe('evt_h1', pg_temp.invoice('cus_h', 'in_h1', now() - interval '10 days')) AS last \gset
SELECT is(pg_temp.stripe('evt_h2', pg_temp.refund('cus_h', 're_h1', 'pi_h1',
            now() - interval '10 days' - interval '30 seconds')), 'applied',
          'a refund naming an unknown payment intent finds its charge by when it was made');
SELECT results_eq($$SELECT c.provider_payment_id, c.charge_ref FROM payments r
                      JOIN payments c ON c.id = r.refunds_payment_id WHERE r.provider_payment_id = 're_h1'$$,
                  $$VALUES ('in_h1', 'pi_h1')$$,
                  'it voids that charge, which from then on carries the reference');
-- A bank debit made four days before its invoice was paid, the month before 30 days earlier.
SELECT pg_temp.stripe('evt_s0', pg_temp.invoice('cus_s', 'in_s0', now() - interval '44 days')) AS last \gset
SELECT pg_temp.stripe('evt_s1', pg_temp.invoice('cus_s', 'in_s1', now() - interval '10 days')) AS last \gset
SELECT pg_temp.stripe('evt_s2', pg_temp.refund('cus_s', 're_s1', 'pi_s1', now() - interval '14 days')) AS last \gset
SELECT is((SELECT c.provider_payment_id FROM payments r JOIN payments c ON c.id = r.refunds_payment_id
            WHERE r.provider_payment_id = 're_s1'), 'in_s1',
          'a debit paid days after it was made is still its refund''s charge, not the month before');
-- A charge made long before anything booked (before patrond, or a sample
-- payload's time) is not waited for: the refund voids the latest charge.
SELECT pg_temp.stripe('evt_o0', pg_temp.invoice('cus_o', 'in_o0', now() - interval '2 days')) AS last \gset
SELECT pg_temp.stripe('evt_o2', pg_temp.refund('cus_o', 're_o1', 'pi_o1', now() - interval '900 days')) AS last \gset
SELECT is((SELECT c.provider_payment_id FROM payments r JOIN payments c ON c.id = r.refunds_payment_id
            WHERE r.provider_payment_id = 're_o1'), 'in_o0',
          'a refund of a charge older than every booked one falls back to the latest');
-- Out of order: July's refund arrives before July's invoice.
SELECT pg_temp.stripe('evt_k0', pg_temp.invoice('cus_k', 'in_k0', now() - interval '40 days')) AS last \gset
SELECT is(pg_temp.stripe('evt_k2', pg_temp.refund('cus_k', 're_k1', 'pi_k1',
            now() - interval '10 days' - interval '30 seconds')), 'failed',
          'a refund whose charge has not arrived waits for it');
SELECT alike((SELECT reason FROM webhook_events WHERE event_key = 'evt_k2'),
             'The charge pi_k1 this refund names has not arrived yet%', 'and says so');
SELECT is(payment_net((SELECT id FROM payments WHERE provider_payment_id = 'in_k0')), 500::bigint,
          'the month before is not voided in its place');
SELECT pg_temp.stripe('evt_k1', pg_temp.invoice('cus_k', 'in_k1', now() - interval '10 days')) AS last \gset
SELECT is((SELECT status FROM webhook_events WHERE event_key = 'evt_k2'), 'applied',
          'the waiting refund is applied when its charge arrives');
SELECT results_eq(
  $$SELECT c.provider_payment_id, p.status, p.current_period_end FROM payments r
      JOIN payments c ON c.id = r.refunds_payment_id JOIN pledges p ON p.id = c.pledge_id
     WHERE r.provider_payment_id = 're_k1'$$,
  $$SELECT 'in_k1', status, current_period_end FROM pledges WHERE provider_ref = 'sub_cus_h'$$,
  'it voids July, and the pledge ends as if both had come in order');
-- Before the new rule, the refund voided June: the pledge stayed paid through August.
SELECT ok((SELECT current_period_end < now() FROM pledges WHERE provider_ref = 'sub_cus_k'),
          'nothing refunded pays for a period');

-- ---- a refund under its charge's own payment id is that charge's ----

-- A Standard payment of 500 EUR for sub_<who>, and its refund sent under the payment's own id.
CREATE FUNCTION pg_temp.paid(who text, id text, at timestamptz) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT webhook_apply('standard', pg_temp.event('payment_succeeded', at, jsonb_build_object(
    'email', who || '@example.org', 'subscription_ref', 'sub_' || who, 'payment_id', id,
    'amount_minor', 500, 'currency', 'EUR', 'interval', 'month')))
$$;
CREATE FUNCTION pg_temp.refunded(who text, id text) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT webhook_apply('standard', pg_temp.event('payment_refunded', now(), jsonb_build_object(
    'subscription_ref', 'sub_' || who, 'payment_id', id, 'event_key', 'msg_' || who,
    'amount_minor', 500, 'currency', 'EUR')))
$$;

SELECT pg_temp.paid('x', 'pay_x1', now() - interval '3 days') AS last \gset
SELECT pg_temp.refunded('x', 'pay_x1') AS last \gset
SELECT results_eq($$SELECT r.provider_payment_id, r.amount_minor, c.provider_payment_id
                      FROM payments r JOIN payments c ON c.id = r.refunds_payment_id
                     WHERE r.provider_payment_id LIKE 'pay_x1:%'$$,
                  $$VALUES ('pay_x1:refund:msg_x', -500::bigint, 'pay_x1')$$,
                  'it is booked under an id of its own, voiding that charge');

-- Out of order: that refund first, then the payment it names. Before, the
-- refund held the id and the payment was taken for a duplicate: lost.
SELECT pg_temp.paid('y', 'pay_y0', now() - interval '40 days') AS last \gset
SELECT pg_temp.refunded('y', 'pay_y1') AS last \gset
SELECT pg_temp.paid('y', 'pay_y1', now() - interval '10 days') AS last \gset
SELECT results_eq($$SELECT kind, amount_minor, (SELECT provider_payment_id FROM payments c WHERE c.id = p.refunds_payment_id)
                      FROM payments p WHERE provider_payment_id LIKE 'pay_y1%' ORDER BY seq$$,
                  $$VALUES ('refund', -500::bigint, 'pay_y1'), ('charge', 500::bigint, NULL)$$,
                  'the late payment is booked, and the refund that came first is its refund');
SELECT ok((SELECT status = 'past_due' AND current_period_end <= now() FROM pledges WHERE provider_ref = 'sub_y'),
          'and it pays for nothing, as in order');

-- ---- webhook_receive: once per event key; what cannot apply is kept as failed ----

SELECT webhook_receive('standard', 'evt_1', 'payment.succeeded', '\x7b7d'::bytea, '{}',
         pg_temp.event('payment_succeeded', now(), '{"email": "e@example.org", "payment_id": "pay_e1",
                    "amount_minor": 300, "currency": "EUR", "subscription_ref": "sub_e"}'), NULL)
       ->> 'outcome' AS first \gset
SELECT is(:'first'::text, 'applied', 'webhook_receive applies a new event');
SELECT is(webhook_receive('standard', 'evt_1', 'payment.succeeded', '\x7b7d'::bytea, '{}',
            pg_temp.event('payment_succeeded', now(), '{"email": "e@example.org", "payment_id": "pay_e1",
                       "amount_minor": 300, "currency": "EUR", "subscription_ref": "sub_e"}'), NULL)
            ->> 'outcome', 'duplicate',
          'the same event key again is a duplicate');
SELECT is((SELECT count(*) FROM webhook_events WHERE provider = 'standard' AND event_key = 'evt_1'), 1::bigint,
          'a duplicate is recorded once');
SELECT is(webhook_receive('standard', 'evt_2', 'payment.refunded', '\x7b7d'::bytea, '{}',
            '{"kind": "payment_refunded", "payment_id": "re_x", "charge_ref": "nothing",
              "amount_minor": 1, "currency": "EUR"}', NULL) ->> 'outcome', 'failed',
          'a refund for no known pledge cannot apply: its outcome is failed');
SELECT alike((SELECT status || ': ' || reason FROM webhook_events WHERE event_key = 'evt_2'),
            'failed: No pledge matches this event%',
            'the failed event is kept, with its reason, for a replay');

SELECT * FROM finish();
ROLLBACK;
