-- Membership by the clock (SPEC §4 Membership): pledge_is_membership_at(p, at)
-- decides from the pledge's paid period, the grace period
-- (patrond.grace_days, default 7) and the moment asked about; patron_status()
-- sums it up as member / lapsed / none. now() is fixed for the whole
-- transaction, so "10 days ago" below means the same instant everywhere.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(33);

INSERT INTO patrons (email) VALUES ('clock@example.org') RETURNING id AS clock \gset

-- A pledge of the patron above, paid from `activated` on, stored so that the
-- function sees a real row. Provider 'stripe' stands for any provider.
CREATE FUNCTION pg_temp.pledge(state text, every text, via text, period_end timestamptz,
                               activated timestamptz DEFAULT now() - interval '90 days',
                               canceled timestamptz DEFAULT NULL) RETURNS pledges
LANGUAGE sql AS $$
  INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                       current_period_end, activated_at, created_at, canceled_at)
  SELECT id, 500, 'EUR', every, via, state, period_end, activated,
         coalesce(activated, now() - interval '90 days'), canceled
    FROM patrons WHERE email = 'clock@example.org'
  RETURNING *
$$;

-- ---- recurring provider pledges: the paid period, then the grace ----

SELECT ok(pledge_is_membership_at(pg_temp.pledge('active', 'month', 'stripe', now() + interval '10 days'), now()),
          'recurring: a period paid into the future is a membership');
SELECT ok(pledge_is_membership_at(pg_temp.pledge('active', 'month', 'stripe', now() - interval '3 days'), now()),
          'recurring: 3 days past the period end is within the default 7-day grace');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('active', 'month', 'stripe', now() - interval '8 days'), now()),
          'recurring: 8 days past the period end is beyond the default grace, even while active');
SELECT ok(pledge_is_membership_at(pg_temp.pledge('past_due', 'month', 'stripe', now() - interval '3 days'), now()),
          'recurring: past_due within the grace is still a membership');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('past_due', 'month', 'stripe', now() - interval '8 days'), now()),
          'recurring: past_due beyond the grace is not');
SELECT ok(pledge_is_membership_at(pg_temp.pledge('active', 'year', 'stripe', now() + interval '200 days'), now()),
          'recurring: a yearly period paid into the future is a membership');
-- A provider pledge without a period end has paid for nothing (a refund
-- pulls the period end back to NULL; see the webhook tests).
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('active', 'month', 'stripe', NULL), now()),
          'recurring: a provider pledge without a period end is no membership');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('pending', 'month', 'stripe', NULL, NULL), now()),
          'a pending pledge, never paid, is no membership');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('expired', 'month', 'stripe', NULL, NULL), now()),
          'an expired pledge is no membership');

-- ---- the grace comes from the setting ----

SAVEPOINT grace;
SET LOCAL patrond.grace_days = '3';
SELECT is(membership_grace(), interval '3 days', 'patrond.grace_days = 3 makes the grace 3 days');
SELECT ok(pledge_is_membership_at(pg_temp.pledge('past_due', 'month', 'stripe', now() - interval '2 days'), now()),
          'grace 3: 2 days past the period end is a membership');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('past_due', 'month', 'stripe', now() - interval '3 days'), now()),
          'grace 3: exactly 3 days past the period end is not (the grace has run out)');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('active', 'month', 'stripe', now() - interval '4 days'), now()),
          'grace 3: 4 days past the period end is not, though within the default 7');
ROLLBACK TO SAVEPOINT grace;
SELECT is(membership_grace(), interval '7 days', 'without the setting the grace is 7 days');

-- ---- one-offs: 31 days, no grace ----

-- A provider one-off's period end is its charge plus 31 days (webhook_period_end).
SELECT ok(pledge_is_membership_at(pg_temp.pledge('active', 'once', 'stripe', now() + interval '1 day',
                                                 now() - interval '30 days'), now()),
          'one-off: a charge 30 days ago (period end tomorrow) is a membership');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('active', 'once', 'stripe', now() - interval '1 day',
                                                     now() - interval '32 days'), now()),
          'one-off: a day past its 31 days is not: one-offs get no grace');
SELECT ok(pledge_is_membership_at(pg_temp.pledge('active', 'once', 'manual', NULL, now() - interval '30 days'), now()),
          'one-off manual without period end: paid 30 days ago is a membership');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('active', 'once', 'manual', NULL, now() - interval '32 days'), now()),
          'one-off manual without period end: paid 32 days ago is not');

-- ---- manual pledges (bank transfer) without a period end ----

SELECT ok(pledge_is_membership_at(pg_temp.pledge('active', 'month', 'manual', NULL), now()),
          'manual recurring without a period end counts while active');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('past_due', 'month', 'manual', NULL), now()),
          'manual recurring without a period end does not count once past_due');

-- ---- the moment asked about ----

SELECT pg_temp.pledge('canceled', 'month', 'stripe', now() + interval '20 days',
                      now() - interval '40 days', now() - interval '1 day') AS p \gset
SELECT ok(pledge_is_membership_at(:'p'::pledges, now() - interval '2 days'),
          'a pledge canceled after `at` was still a membership at `at` (reports look back)');
SELECT ok(pledge_is_membership_at(:'p'::pledges, now()),
          'the same pledge, asked after its cancellation, counts until its paid period ends');
SELECT ok(NOT pledge_is_membership_at(:'p'::pledges, now() + interval '20 days' + interval '1 second'),
          'and not a moment longer: a canceled pledge has no grace');
SELECT ok(NOT pledge_is_membership_at(:'p'::pledges, now() - interval '41 days'),
          'a pledge is no membership before it was activated');
SELECT ok(NOT pledge_is_membership_at(pg_temp.pledge('active', 'month', 'stripe', now() + interval '10 days'),
                                      now() + interval '18 days'),
          'a period paid until 10 days ahead is over 18 days ahead (8 days past it, beyond the grace)');
SELECT ok(pledge_is_membership(pg_temp.pledge('active', 'month', 'stripe', now() + interval '1 day')),
          'pledge_is_membership(p) is pledge_is_membership_at(p, now())');

-- ---- patron_status ----

INSERT INTO patrons (email) VALUES ('member@example.org') RETURNING id AS member \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at,
                     current_period_end)
VALUES (:'member', 500, 'EUR', 'month', 'stripe', 'past_due', now() - interval '40 days',
        now() - interval '2 days'),
       (:'member', 500, 'EUR', 'month', 'paypal', 'canceled', now() - interval '400 days',
        now() - interval '300 days');
SELECT is(patron_status(:'member'), 'member', 'patron_status: one pledge within its grace makes a member');

INSERT INTO patrons (email) VALUES ('lapsed@example.org') RETURNING id AS lapsed \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at,
                     current_period_end)
VALUES (:'lapsed', 500, 'EUR', 'month', 'stripe', 'active', now() - interval '60 days',
        now() - interval '10 days');
SELECT is(patron_status(:'lapsed'), 'lapsed',
          'patron_status: paid once, period and grace over (though still active) is lapsed');

INSERT INTO patrons (email) VALUES ('none@example.org') RETURNING id AS never \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status)
VALUES (:'never', 500, 'EUR', 'month', 'stripe', 'pending'),
       (:'never', 500, 'EUR', 'month', 'liqpay', 'expired');
SELECT is(patron_status(:'never'), 'none', 'patron_status: only unpaid pledges is none (never a member)');

INSERT INTO patrons (email) VALUES ('nopledge@example.org') RETURNING id AS bare \gset
SELECT is(patron_status(:'bare'), 'none', 'patron_status: no pledge at all is none');

-- A trial: the provider activated the pledge but charged nothing.
INSERT INTO patrons (email) VALUES ('trial@example.org') RETURNING id AS trial \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
VALUES (:'trial', 500, 'EUR', 'month', 'stripe', 'active', now() - interval '3 days')
RETURNING id AS trial_pledge \gset
SELECT is(patron_status(:'trial'), 'none', 'patron_status: an activation that charged nothing made no member');
-- A charge of theirs that went through (whatever became of it since): paid once, so lapsed.
INSERT INTO payments (kind, status, amount_minor, currency, provider, provider_payment_id, pledge_id,
                      patron_id, occurred_at)
VALUES ('charge', 'succeeded', 500, 'EUR', 'stripe', 'in_trial', :'trial_pledge', :'trial',
        now() - interval '2 days');
SELECT is(patron_status(:'trial'), 'lapsed', 'patron_status: a charge that went through, refunded or not, is lapsed');

INSERT INTO patrons (email) VALUES ('manual@example.org') RETURNING id AS manual \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at,
                     canceled_at)
VALUES (:'manual', 500, 'EUR', 'month', 'manual', 'canceled', now() - interval '60 days',
        now() - interval '30 days');
SELECT is(patron_status(:'manual'), 'lapsed', 'patron_status: a manual pledge an admin activated, since canceled, is lapsed');

SELECT * FROM finish();
ROLLBACK;
