-- The pledge state machine (SPEC §4 Pledges): pending → active ⇄ past_due →
-- canceled, pending → expired; pending and active may also be canceled
-- directly. pledge_transition_ok() is the rule; pledge_patch() is the admin's
-- write that must obey it, and must not let an admin rewrite what a provider
-- confirmed.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(31);

-- ---- pledge_transition_ok: every allowed move ----

SELECT ok(pledge_transition_ok('pending', 'active'), 'pending → active: the first payment');
SELECT ok(pledge_transition_ok('pending', 'expired'), 'pending → expired: never paid within 48 h');
SELECT ok(pledge_transition_ok('pending', 'canceled'), 'pending → canceled');
SELECT ok(pledge_transition_ok('active', 'past_due'), 'active → past_due: a renewal failed');
SELECT ok(pledge_transition_ok('active', 'canceled'), 'active → canceled');
SELECT ok(pledge_transition_ok('past_due', 'active'), 'past_due → active: a renewal succeeded');
SELECT ok(pledge_transition_ok('past_due', 'canceled'), 'past_due → canceled');

-- Staying put is not a move: a patch that leaves the status alone must pass.
SELECT ok(bool_and(pledge_transition_ok(s, s)), 'every status may stay what it is')
  FROM unnest(ARRAY['pending', 'active', 'past_due', 'canceled', 'expired']) s;

-- ---- refused moves ----

SELECT ok(NOT pledge_transition_ok('canceled', 'active'), 'canceled → active is refused: canceled is final');
SELECT ok(NOT pledge_transition_ok('canceled', 'past_due'), 'canceled → past_due is refused');
SELECT ok(NOT pledge_transition_ok('canceled', 'pending'), 'canceled → pending is refused');
SELECT ok(NOT pledge_transition_ok('expired', 'active'), 'expired → active is refused to an admin');
SELECT ok(NOT pledge_transition_ok('expired', 'canceled'), 'expired → canceled is refused');
SELECT ok(NOT pledge_transition_ok('pending', 'past_due'), 'pending → past_due is refused: it was never paid');
SELECT ok(NOT pledge_transition_ok('active', 'pending'), 'active → pending is refused: no way back to unpaid');
SELECT ok(NOT pledge_transition_ok('past_due', 'pending'), 'past_due → pending is refused');
SELECT ok(NOT pledge_transition_ok('active', 'expired'), 'active → expired is refused: it was paid');
SELECT ok(NOT pledge_transition_ok('past_due', 'expired'), 'past_due → expired is refused');

-- The whole 5×5 table at once, so a move added by mistake anywhere is seen.
SELECT set_eq(
  $$SELECT f, t FROM unnest(ARRAY['pending', 'active', 'past_due', 'canceled', 'expired']) f,
                     unnest(ARRAY['pending', 'active', 'past_due', 'canceled', 'expired']) t
     WHERE f <> t AND pledge_transition_ok(f, t)$$,
  $$VALUES ('pending', 'active'), ('pending', 'expired'), ('pending', 'canceled'),
           ('active', 'past_due'), ('active', 'canceled'),
           ('past_due', 'active'), ('past_due', 'canceled')$$,
  'the allowed moves are exactly the seven of SPEC §4');

-- ---- pledge_patch ----

INSERT INTO patrons (email, name) VALUES ('state@example.org', 'State') RETURNING id AS patron \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status)
VALUES (:'patron', 1000, 'EUR', 'month', 'manual', 'pending') RETURNING id AS manual \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref,
                     status, activated_at, current_period_end)
VALUES (:'patron', 500, 'EUR', 'month', 'stripe', 'sub_state', 'active', now() - interval '10 days',
        now() + interval '20 days') RETURNING id AS stripe \gset

SELECT is(pledge_patch(:'manual', '{"status": "active"}')->>'status', 'active',
          'pledge_patch: pending → active is applied');
SELECT isnt((SELECT activated_at FROM pledges WHERE id = :'manual'), NULL,
            'pledge_patch: activating stamps activated_at');
SELECT throws_ok(format('SELECT pledge_patch(%L, %L)', :'manual', '{"status": "pending"}'),
                 'PT409', 'a pledge cannot move from active to pending',
                 'pledge_patch: active → pending is refused with PT409');
SELECT is(pledge_patch(:'manual', '{"status": "canceled"}')->>'status', 'canceled',
          'pledge_patch: active → canceled is applied');
SELECT isnt((SELECT canceled_at FROM pledges WHERE id = :'manual'), NULL,
            'pledge_patch: canceling stamps canceled_at');
SELECT throws_ok(format('SELECT pledge_patch(%L, %L)', :'manual', '{"status": "active"}'),
                 'PT409', NULL, 'pledge_patch: canceled → active is refused with PT409');
SELECT is((SELECT status FROM pledges WHERE id = :'manual'), 'canceled',
          'pledge_patch: a refused move leaves the status alone');

-- SPEC §4: a provider pledge's amount is what the provider confirmed.
SELECT throws_ok(format('SELECT pledge_patch(%L, %L)', :'stripe', '{"amount_minor": 900}'),
                 'PT422', NULL,
                 'pledge_patch: changing the amount of a provider pledge is refused with PT422');
SELECT is((SELECT amount_minor FROM pledges WHERE id = :'stripe'), 500::bigint,
          'pledge_patch: the refused amount change left the provider''s amount');
SELECT lives_ok(format('SELECT pledge_patch(%L, %L)', :'stripe', '{"amount_minor": 500}'),
                'pledge_patch: repeating a provider pledge''s own amount is no change, and passes');

INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
VALUES (:'patron', 1000, 'EUR', 'month', 'manual', 'active', now()) RETURNING id AS bank \gset
SELECT is((pledge_patch(:'bank', '{"amount_minor": 1500}')->>'amount_minor')::bigint, 1500::bigint,
          'pledge_patch: a manual pledge takes its amount from the admin');

SELECT throws_ok(format('SELECT pledge_patch(%L, %L)', gen_random_uuid(), '{"status": "active"}'),
                 'PT404', NULL, 'pledge_patch: an unknown pledge is PT404');

SELECT * FROM finish();
ROLLBACK;
