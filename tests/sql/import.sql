-- Importing supporters (SPEC §4b Import, sql/85_import.sql): rows match
-- patrons by e-mail case-insensitively, an empty value changes nothing, a
-- pledge updates the patron's standing manual pledge in that currency and
-- interval or adds one, and a ballot is re-weighed when an imported pledge
-- moves its member to another tier.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(18);

INSERT INTO topics (title, status) VALUES ('Rivers', 'open') RETURNING id AS t1 \gset
SELECT round_create('What next', jsonb_build_array(:'t1'),
                    now() - interval '1 day', now() + interval '3 days', 1) ->> 'id' AS r \gset
INSERT INTO tiers (name, amount_minor, currency, vote_weight)
VALUES ('Sustainer', 1000, 'EUR', 3);

-- a member with a manual pledge below the tier, who has voted
INSERT INTO patrons (email, name) VALUES ('Voter@Example.org', 'Vera') RETURNING id AS voter \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
VALUES (:'voter', 500, 'EUR', 'month', 'manual', 'active', now() - interval '30 days')
RETURNING id AS voter_pledge \gset
SELECT ballot_put(:'r', :'voter', ARRAY[:'t1']::uuid[]) AS vote \gset
-- an erased patron: no e-mail left to match
INSERT INTO patrons (email, name, erased_at)
VALUES (NULL, NULL, now()) RETURNING id AS erased \gset

SELECT patrons_import_begin() AS began \gset

SELECT is(patrons_import_batch(jsonb_build_array(
            jsonb_build_object('line', 2, 'email', 'new@example.org', 'name', 'Nina',
                               'created_at', '2020-02-03T04:05:06Z', 'amount_minor', 300,
                               'currency', 'UAH', 'interval', 'year'),
            jsonb_build_object('line', 3, 'email', 'VOTER@example.ORG'),
            jsonb_build_object('line', 4, 'email', 'plain@example.org'))),
          '{"created": 2, "updated": 0, "unchanged": 1, "ballots_changed": 0}'::jsonb,
          'new addresses are created; a known one without new values is unchanged');
SELECT is((SELECT created_at FROM patrons WHERE email = 'new@example.org'),
          '2020-02-03T04:05:06Z'::timestamptz, 'an imported created_at is the creation time');
SELECT is((SELECT (provider, status, amount_minor, currency, interval, activated_at IS NOT NULL)::text
             FROM pledges p JOIN patrons pa ON pa.id = p.patron_id WHERE pa.email = 'new@example.org'),
          '(manual,active,300,UAH,year,t)', 'a row with an amount adds an active manual pledge');
SELECT is(patron_status((SELECT id FROM patrons WHERE email = 'new@example.org')), 'member',
          'which makes its patron a member by the usual rule');
SELECT is((SELECT count(*)::integer FROM pledges p JOIN patrons pa ON pa.id = p.patron_id
            WHERE pa.email = 'plain@example.org'), 0, 'a row without an amount adds no pledge');
SELECT is((SELECT name FROM patrons WHERE id = :'voter'), 'Vera', 'an absent name changes nothing');

-- the voter's monthly pledge raised to the tier, sent twice
SELECT jsonb_build_array(
         jsonb_build_object('line', 2, 'email', 'voter@example.org', 'amount_minor', 1500,
                            'currency', 'EUR', 'interval', 'month',
                            'current_period_end', '2031-01-01T00:00:00Z')) AS raise \gset
SELECT is(patrons_import_batch(:'raise'::jsonb),
          '{"created": 0, "updated": 1, "unchanged": 0, "ballots_changed": 1}'::jsonb,
          'a new amount for a standing manual pledge is an update, and its ballot moves');
SELECT is((SELECT (amount_minor, current_period_end)::text FROM pledges WHERE id = :'voter_pledge'),
          (1500, '2031-01-01T00:00:00Z'::timestamptz)::text, 'the pledge itself is updated, not doubled');
SELECT is((SELECT count(*)::integer FROM pledges WHERE patron_id = :'voter'), 1,
          'no second pledge for the same currency and interval');
SELECT is((SELECT weight FROM ballots WHERE round_id = :'r' AND patron_id = :'voter'), 3,
          'the ballot weighs the tier the new amount reaches');

SELECT is(patrons_import_batch(:'raise'::jsonb),
          '{"created": 0, "updated": 0, "unchanged": 1, "ballots_changed": 0}'::jsonb,
          'the same row again changes nothing');
SELECT is(patrons_import_batch(jsonb_build_array(
            jsonb_build_object('line', 2, 'email', 'voter@example.org', 'amount_minor', 9900,
                               'currency', 'EUR', 'interval', 'year'))),
          '{"created": 0, "updated": 1, "unchanged": 0, "ballots_changed": 0}'::jsonb,
          'another interval is another pledge');
SELECT is((SELECT count(*)::integer FROM pledges WHERE patron_id = :'voter'), 2,
          'added beside the monthly one');

UPDATE pledges SET status = 'canceled', canceled_at = now() WHERE id = :'voter_pledge';
SELECT is(patrons_import_batch(jsonb_build_array(
            jsonb_build_object('line', 2, 'email', 'voter@example.org', 'amount_minor', 1500,
                               'currency', 'EUR', 'interval', 'month'))),
          '{"created": 0, "updated": 1, "unchanged": 0, "ballots_changed": 0}'::jsonb,
          'a canceled pledge is not revived: a new one is added');
SELECT is((SELECT status FROM pledges WHERE id = :'voter_pledge'), 'canceled',
          'the canceled pledge stays canceled');

SELECT is(patrons_import_batch(jsonb_build_array(
            jsonb_build_object('line', 2, 'email', 'voter@example.org', 'name', 'Vera K.',
                               'created_at', '2019-01-01T00:00:00Z'))),
          '{"created": 0, "updated": 1, "unchanged": 0, "ballots_changed": 0}'::jsonb,
          'a new name and creation time are an update');
SELECT is((SELECT (email, name, created_at)::text FROM patrons WHERE id = :'voter'),
          ('Voter@Example.org', 'Vera K.', '2019-01-01T00:00:00Z'::timestamptz)::text,
          'the e-mail keeps its case; name and creation time change');
SELECT is((SELECT erased_at IS NOT NULL AND email IS NULL FROM patrons WHERE id = :'erased'), true,
          'an erased patron is never matched');

SELECT * FROM finish();
ROLLBACK;
