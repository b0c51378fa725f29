-- Self-service pledges (SPEC §4c, sql/79_self_service.sql) and the
-- membership of a canceled pledge (sql/20_membership.sql): it runs to the
-- end of the paid period, without grace, however the pledge was canceled;
-- asking for an end at the period end (Stripe) also drops the grace.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(35);

INSERT INTO patrons (email) VALUES ('self@example.org') RETURNING id AS me \gset
INSERT INTO patrons (email) VALUES ('other@example.org') RETURNING id AS other \gset

CREATE FUNCTION pg_temp.cancel_pledge(patron uuid, state text, every text, via text, period_end timestamptz,
                               ref text DEFAULT NULL, canceled timestamptz DEFAULT NULL,
                               requested timestamptz DEFAULT NULL) RETURNS pledges
LANGUAGE sql AS $$
  INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref, status,
                       current_period_end, activated_at, created_at, canceled_at, cancel_requested_at)
  VALUES (patron, 500, 'EUR', every, via, ref, state, period_end,
          CASE WHEN state <> 'pending' THEN now() - interval '60 days' END,
          now() - interval '60 days', canceled, requested)
  RETURNING *
$$;

-- ---- membership of a canceled pledge ----

SELECT pg_temp.cancel_pledge(:'other', 'canceled', 'month', 'manual', now() + interval '10 days',
                      canceled => now() - interval '1 hour') AS p \gset
SELECT ok(pledge_is_membership(:'p'::pledges),
          'canceled at once, its paid period ahead: still a membership');
SELECT is(pledge_membership_until(:'p'::pledges), now() + interval '10 days',
          'until the end of the paid period, without grace');
SELECT ok(NOT pledge_is_membership_at(:'p'::pledges, now() + interval '10 days'),
          'no longer once the paid period ended');
SELECT is(pledge_membership_reason(:'p'::pledges), 'canceled pledge, paid until the end of its period',
          'and says why');

SELECT pg_temp.cancel_pledge(:'other', 'canceled', 'month', 'stripe', now() - interval '1 day',
                      canceled => now() - interval '2 days') AS p \gset
SELECT ok(NOT pledge_is_membership(:'p'::pledges),
          'canceled, its paid period over a day ago: no grace, no membership');
SELECT ok(pledge_is_membership(pg_temp.cancel_pledge(:'other', 'active', 'month', 'stripe', now() - interval '1 day')),
          '(an active pledge with the same period end is within its grace)');
SELECT ok(NOT pledge_is_membership(pg_temp.cancel_pledge(:'other', 'canceled', 'month', 'manual', NULL,
                                                  canceled => now() - interval '1 minute')),
          'a canceled manual pledge that paid for no period ends with the cancel');
SELECT ok(NOT pledge_is_membership(pg_temp.cancel_pledge(:'other', 'canceled', 'month', 'stripe', NULL,
                                                  canceled => now())),
          'a canceled pledge that was never paid made nobody a member');

SELECT pg_temp.cancel_pledge(:'other', 'past_due', 'month', 'stripe', now() - interval '1 day',
                      requested => now() - interval '5 days') AS p \gset
SELECT ok(NOT pledge_is_membership(:'p'::pledges),
          'an end asked for at the period end: no grace after it, even before the webhook');
SELECT pg_temp.cancel_pledge(:'other', 'active', 'month', 'stripe', now() + interval '3 days',
                      requested => now()) AS p \gset
SELECT is(pledge_membership_until(:'p'::pledges), now() + interval '3 days',
          'an end asked for: the membership runs to the period end exactly');

-- ---- cancelable ----

SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'active', 'month', 'manual', NULL)), 'patrond',
          'manual: patrond');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'active', 'month', 'standard', NULL, 'std_1')), 'patrond',
          'standard: patrond');
SELECT is(array_agg(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'active', 'year', v, NULL, v || '_1')) ORDER BY v),
          ARRAY['provider', 'provider', 'provider'], 'stripe, liqpay, wayforpay: provider')
  FROM unnest(ARRAY['liqpay', 'stripe', 'wayforpay']) v;
SELECT is(array_agg(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'past_due', 'month', v, NULL, v || '_1')) ORDER BY v),
          ARRAY['elsewhere', 'elsewhere', 'elsewhere', 'elsewhere'],
          'patreon, paypal (and monobank, paddle): elsewhere')
  FROM unnest(ARRAY['monobank', 'paddle', 'patreon', 'paypal']) v;
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'active', 'month', 'stripe', NULL)), 'elsewhere',
          'a provider pledge without its subscription id: not through the API');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'canceled', 'month', 'manual', NULL, canceled => now())), 'no',
          'canceled: no');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'expired', 'month', 'liqpay', NULL, 'lq_x')), 'no',
          'expired: no');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'active', 'once', 'manual', NULL)), 'no',
          'a one-off: no');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'pending', 'month', 'stripe', NULL, 'sub_p')), 'no',
          'pending at a provider: no');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'pending', 'month', 'manual', NULL)), 'patrond',
          'a pending manual pledge: patrond');
SELECT is(pledge_cancelable(pg_temp.cancel_pledge(:'me', 'active', 'month', 'stripe', NULL, 'sub_r',
                                           requested => now())), 'no',
          'an end already asked for: no');

-- ---- the cancel ----

SELECT pg_temp.cancel_pledge(:'other', 'active', 'month', 'manual', now() + interval '9 days') AS theirs \gset
SELECT throws_ok(format('SELECT me_pledge_cancel_target(%L, %L)', :'me', (:'theirs'::pledges).id),
                 'PT404', 'no such pledge', 'another patron''s pledge is not found');
SELECT throws_ok(format('SELECT me_pledge_cancel(%L, %L, true)', :'me', (:'theirs'::pledges).id),
                 'PT404', 'no such pledge', 'nor can it be canceled');

SELECT pg_temp.cancel_pledge(:'me', 'active', 'month', 'stripe', now() + interval '9 days', 'sub_c') AS s \gset
SELECT is(me_pledge_cancel_target(:'me', (:'s'::pledges).id) - 'why_not',
          jsonb_build_object('provider', 'stripe', 'provider_ref', 'sub_c', 'status', 'active',
                             'cancelable', 'provider',
                             'effective_until', rfc3339(now() + interval '9 days')),
          'the target: provider, subscription, how, and until when');
SELECT is(me_pledge_cancel(:'me', (:'s'::pledges).id, false) - 'ballots_changed',
          jsonb_build_object('status', 'active', 'effective_until', rfc3339(now() + interval '9 days')),
          'ending at the period end: still active');
SELECT is((SELECT cancel_requested_at FROM pledges WHERE id = (:'s'::pledges).id), now(),
          'with the request recorded');
SELECT is(me_pledge_cancel_target(:'me', (:'s'::pledges).id) ->> 'why_not',
          format('Its cancellation was already asked for; it ends on %s.', rfc3339(now() + interval '9 days')),
          'asked twice: says when it ends');

SELECT pg_temp.cancel_pledge(:'me', 'active', 'month', 'manual', now() + interval '4 days') AS m \gset
SELECT is(me_pledge_cancel(:'me', (:'m'::pledges).id, true) - 'ballots_changed',
          jsonb_build_object('status', 'canceled', 'effective_until', rfc3339(now() + interval '4 days')),
          'ended: canceled now, effective to the period end');
SELECT is((SELECT (status, canceled_at) FROM pledges WHERE id = (:'m'::pledges).id)::text,
          format('(canceled,"%s")', now()), 'canceled_at is now');

-- ---- a renewal after the request: the subscription goes on ----

UPDATE pledges SET current_period_end = now() + interval '40 days' WHERE id = (:'s'::pledges).id;
SELECT is((SELECT cancel_requested_at FROM pledges WHERE id = (:'s'::pledges).id), NULL,
          'a renewal paid after the request forgets it');
SELECT is(pledge_cancelable((SELECT p FROM pledges p WHERE id = (:'s'::pledges).id)), 'provider',
          'and the pledge is cancelable again');
UPDATE pledges SET cancel_requested_at = now(), current_period_end = now() + interval '41 days'
 WHERE id = (:'s'::pledges).id;
SELECT isnt((SELECT cancel_requested_at FROM pledges WHERE id = (:'s'::pledges).id), NULL,
            '(a write that sets the request itself keeps it)');

-- ---- the clock: a canceled pledge's paid period running out re-weighs ballots ----

INSERT INTO patrons (email) VALUES ('voter@example.org') RETURNING id AS voter \gset
INSERT INTO topics (title, status) VALUES ('Bridges', 'open') RETURNING id AS t1 \gset
SELECT round_create('Next', jsonb_build_array(:'t1'), now() - interval '1 day', now() + interval '3 days', 1)
  ->> 'id' AS r \gset
SELECT pg_temp.cancel_pledge(:'voter', 'canceled', 'month', 'manual', now() + interval '1 day',
                      canceled => now() - interval '1 day') AS v \gset
SELECT is((ballot_put(:'r', :'voter', ARRAY[:'t1']::uuid[]) ->> 'weight')::integer, 1,
          'a canceled pledge within its paid period may vote');
UPDATE pledges SET current_period_end = now() - interval '1 second' WHERE id = (:'v'::pledges).id;
SELECT is(membership_sweep(now() - interval '1 minute'), 1,
          'the sweep finds the canceled pledge whose paid period just ended');
SELECT is((SELECT weight FROM ballots WHERE round_id = :'r' AND patron_id = :'voter'), 0,
          'and its ballot weighs nothing');

SELECT * FROM finish();
ROLLBACK;
