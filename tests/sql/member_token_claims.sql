-- Member tokens (SPEC §4b): member_token_claims(patron) says what the
-- membership rules say (patron_membership, patron_member_weight), and names
-- the tier that gives the vote weight.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(10);

INSERT INTO tiers (name, amount_minor, currency, vote_weight)
VALUES ('Friend', 100, 'EUR', 1), ('Supporter', 500, 'EUR', 3), ('Patron', 2000, 'EUR', 5);

CREATE FUNCTION pg_temp.patron(addr text) RETURNS uuid
LANGUAGE sql AS $$ INSERT INTO patrons (email) VALUES (addr) RETURNING id $$;

CREATE FUNCTION pg_temp.token_pledge(who uuid, amount bigint, cur text, state text,
                               period_end timestamptz, tier uuid DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status,
                       current_period_end, activated_at, tier_id)
  VALUES (who, amount, cur, 'month', 'manual', state, period_end, now() - interval '40 days', tier)
$$;

SELECT pg_temp.patron('none@example.org') AS nobody \gset
SELECT is(member_token_claims(:'nobody'),
          jsonb_build_object('sub', :'nobody'::uuid, 'member', false, 'member_until', NULL,
                             'tier', NULL, 'vote_weight', 0),
          'no pledge: not a member, no tier, weight 0');

SELECT pg_temp.patron('lapsed@example.org') AS lapsed \gset
SELECT pg_temp.token_pledge(:'lapsed', 2000, 'EUR', 'past_due', now() - interval '30 days');
SELECT is(member_token_claims(:'lapsed') - 'sub',
          '{"member": false, "member_until": null, "tier": null, "vote_weight": 0}'::jsonb,
          'a lapsed pledge gives no membership and no tier, whatever its amount');

SELECT pg_temp.patron('plain@example.org') AS plain \gset
SELECT pg_temp.token_pledge(:'plain', 5000, 'UAH', 'active', NULL);
SELECT is(member_token_claims(:'plain') - 'sub',
          '{"member": true, "member_until": null, "tier": null, "vote_weight": 1}'::jsonb,
          'an open-ended manual pledge without a tier in its currency: member, weight 1');

SELECT pg_temp.patron('two@example.org') AS two \gset
SELECT pg_temp.token_pledge(:'two', 700, 'EUR', 'active', now() + interval '10 days');
SELECT pg_temp.token_pledge(:'two', 150, 'EUR', 'active', now() + interval '20 days');
SELECT is(member_token_claims(:'two')->>'tier', 'Supporter',
          'of two membership pledges, the tier with the higher vote weight');
SELECT is((member_token_claims(:'two')->>'vote_weight')::integer, patron_member_weight(:'two'),
          'the vote weight is patron_member_weight()');
SELECT is(member_token_claims(:'two')->'member_until', patron_membership(:'two')->'member_until',
          'member_until is patron_membership()''s: the pledge that lasts longest');
SELECT is(member_token_claims(:'two')->>'member_until',
          rfc3339(now() + interval '20 days' + interval '7 days'),
          'that is the later period end plus the grace');

SELECT pg_temp.patron('chosen@example.org') AS chosen \gset
SELECT pg_temp.token_pledge(:'chosen', 3000, 'EUR', 'active', NULL, (SELECT id FROM tiers WHERE name = 'Friend'));
SELECT is(member_token_claims(:'chosen') - 'sub',
          '{"member": true, "member_until": null, "tier": "Friend", "vote_weight": 1}'::jsonb,
          'a tier set on the pledge wins over its amount, as pledge_tier() decides');

SELECT pg_temp.patron('mixed@example.org') AS mixed \gset
SELECT pg_temp.token_pledge(:'mixed', 2500, 'EUR', 'past_due', now() - interval '30 days');
SELECT pg_temp.token_pledge(:'mixed', 120, 'EUR', 'active', now() + interval '5 days');
SELECT is(member_token_claims(:'mixed')->>'tier', 'Friend',
          'only membership pledges count for the tier: a lapsed Patron pledge does not');
SELECT is((member_token_claims(:'mixed')->>'vote_weight')::integer, 1,
          'nor for the weight');

SELECT * FROM finish();
ROLLBACK;
