-- Ballots (SPEC §4 Ballots, Rounds): members put, replace and withdraw a
-- ballot, which weighs their best tier's vote_weight and counts only while
-- they are members; when membership ends or the tier changes,
-- patron_ballots_sync() re-weighs it in the running totals. round_freeze()
-- stores a recount of the ballots of those who were members at the close.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(38);

-- ---- fixtures ----

INSERT INTO topics (title, status) VALUES ('Rivers', 'open') RETURNING id AS t1 \gset
INSERT INTO topics (title, status) VALUES ('Rents', 'open') RETURNING id AS t2 \gset
INSERT INTO topics (title, status) VALUES ('Roads', 'open') RETURNING id AS t3 \gset
SELECT round_create('What next', jsonb_build_array(:'t1', :'t2', :'t3'),
                    now() - interval '1 day', now() + interval '3 days', 2) ->> 'id' AS r \gset
INSERT INTO tiers (name, amount_minor, currency, vote_weight)
VALUES ('Sustainer', 1000, 'EUR', 3) RETURNING id AS sustainer \gset

-- m1: a bank transfer below the tier (weight 1), member for good.
INSERT INTO patrons (email) VALUES ('m1@example.org') RETURNING id AS m1 \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
VALUES (:'m1', 500, 'EUR', 'month', 'manual', 'active', now() - interval '30 days')
RETURNING id AS m1_pledge \gset
-- m2: a provider pledge reaching the Sustainer tier (weight 3).
INSERT INTO patrons (email) VALUES ('m2@example.org') RETURNING id AS m2 \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref, status,
                     activated_at, current_period_end)
VALUES (:'m2', 1000, 'EUR', 'month', 'stripe', 'sub_m2', 'active', now() - interval '10 days',
        now() + interval '20 days') RETURNING id AS m2_pledge \gset
-- m3: a member now, in the grace after a period that ended 5 days ago; the
-- grace (7 days) runs out 2 days from now.
INSERT INTO patrons (email) VALUES ('m3@example.org') RETURNING id AS m3 \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref, status,
                     activated_at, current_period_end)
VALUES (:'m3', 500, 'EUR', 'month', 'stripe', 'sub_m3', 'past_due', now() - interval '35 days',
        now() - interval '5 days');
-- n: never paid.
INSERT INTO patrons (email) VALUES ('n@example.org') RETURNING id AS n \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status)
VALUES (:'n', 500, 'EUR', 'month', 'stripe', 'pending');

-- The running totals of the round per topic, and the same recounted from
-- the ballots: the two must always agree.
CREATE TEMP VIEW totals AS
  SELECT topic_id, sum(votes)::bigint AS votes, sum(weight)::bigint AS weight
    FROM round_topic_totals WHERE round_id = :'r' GROUP BY topic_id;
CREATE TEMP VIEW recount AS
  SELECT u.id AS topic_id, count(*)::bigint AS votes, sum(b.weight)::bigint AS weight
    FROM ballots b, unnest(b.topic_ids) AS u(id)
   WHERE b.round_id = :'r' AND b.weight > 0 GROUP BY u.id;
CREATE TEMP VIEW turnout AS
  SELECT sum(voters)::bigint AS voters, sum(total_weight)::bigint AS total_weight
    FROM round_shards WHERE round_id = :'r';
CREATE FUNCTION pg_temp.topic(t uuid) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce((SELECT format('%s votes, weight %s', votes, weight) FROM totals WHERE topic_id = t),
                  'no row')
$$;

-- ---- ballot_put ----

SELECT is((ballot_put(:'r', :'m1', ARRAY[:'t1']::uuid[])->>'weight')::integer, 1,
          'a member without a tier casts a ballot of weight 1');
SELECT is((ballot_put(:'r', :'m2', ARRAY[:'t1', :'t2']::uuid[])->>'weight')::integer, 3,
          'a member casts a ballot weighing their tier''s vote_weight');
SELECT is((ballot_put(:'r', :'m3', ARRAY[:'t3']::uuid[])->>'weight')::integer, 1,
          'a member within the grace may vote');
SELECT throws_ok(format('SELECT ballot_put(%L, %L, %L)', :'r', :'n', ARRAY[:'t1']::uuid[]),
                 'PT403', 'Only members may vote: pledge still pending its first payment.',
                 'a non-member is refused with PT403, and told why');
SELECT throws_ok(format('SELECT ballot_put(%L, %L, %L)', :'r', :'m1', ARRAY[:'t1', :'t2', :'t3']::uuid[]),
                 'PT422', NULL, 'more choices than max_choices is PT422');
SELECT throws_ok(format('SELECT ballot_put(%L, %L, %L)', :'r', :'m1', ARRAY[gen_random_uuid()]),
                 'PT422', NULL, 'a topic outside the round is PT422');
SELECT throws_ok(format('SELECT ballot_put(%L, %L, %L)', :'r', :'m1', ARRAY[:'t1', :'t1']::uuid[]),
                 'PT422', NULL, 'a topic named twice is PT422');

SELECT is(pg_temp.topic(:'t1'), '2 votes, weight 4', 'the totals count both ballots for topic 1 with their weights');
SELECT is(pg_temp.topic(:'t2'), '1 votes, weight 3', 'the totals count the ballot for topic 2');
SELECT is((SELECT (voters, total_weight)::text FROM turnout), '(3,5)', 'three voters weighing 5 in all');

-- ---- replace and withdraw ----

SELECT ballot_put(:'r', :'m1', ARRAY[:'t3']::uuid[]) AS last \gset
SELECT is(pg_temp.topic(:'t1'), '1 votes, weight 3', 'replacing a ballot takes it out of the old topic');
SELECT is(pg_temp.topic(:'t3'), '2 votes, weight 2', '... and into the new one');
SELECT is((SELECT voters FROM turnout), 3::bigint, 'replacing a ballot leaves the number of voters');

SELECT ok((ballot_delete(:'r', :'m1'))::boolean, 'a member withdraws their ballot');
SELECT is(pg_temp.topic(:'t3'), '1 votes, weight 1', 'a withdrawn ballot leaves the totals');
SELECT is((SELECT voters FROM turnout), 2::bigint, 'a withdrawn ballot is no voter');
SELECT throws_ok(format('SELECT ballot_delete(%L, %L)', :'r', :'m1'), 'PT404', NULL,
                 'withdrawing a ballot that is not there is PT404');
SELECT ballot_put(:'r', :'m1', ARRAY[:'t1', :'t3']::uuid[]) AS last \gset

-- ---- re-weighing: the ballot follows the voter's tier and membership ----

SELECT is((pledge_patch(:'m1_pledge', jsonb_build_object('tier_id', :'sustainer'))->>'ballots_changed')::integer, 1,
          'giving a voter a better tier re-weighs their ballot in the same transaction');
SELECT is((SELECT weight FROM ballots WHERE round_id = :'r' AND patron_id = :'m1'), 3,
          'the re-weighed ballot weighs the new tier');
SELECT is(pg_temp.topic(:'t3'), '2 votes, weight 4', 'the totals follow the new weight');
UPDATE tiers SET vote_weight = 5 WHERE id = :'sustainer';
SELECT is((SELECT weight FROM ballots WHERE round_id = :'r' AND patron_id = :'m1'), 5,
          'a tier''s new vote_weight re-weighs its members'' ballots in the same statement');
UPDATE tiers SET vote_weight = 3 WHERE id = :'sustainer';
SELECT is(pg_temp.topic(:'t3'), '2 votes, weight 4', 'and back: the totals follow the tier');

-- A cancellation that reaches the database some other way than pledge_patch
-- or a webhook (those call the sync themselves): the sync is what moves it.
-- Its paid period is over (a canceled pledge counts until then).
UPDATE pledges SET status = 'canceled', canceled_at = now(), current_period_end = now()
 WHERE id = :'m2_pledge';
SELECT is(patron_ballots_sync(:'m2'), 1, 'patron_ballots_sync re-weighs a canceled voter''s ballot');
SELECT is((SELECT weight FROM ballots WHERE round_id = :'r' AND patron_id = :'m2'), 0,
          'a canceled voter''s ballot weighs 0');
SELECT is(pg_temp.topic(:'t2'), '0 votes, weight 0', 'a ballot of weight 0 is out of round_topic_totals');
SELECT is((SELECT (voters, total_weight)::text FROM turnout), '(2,4)',
          'a ballot of weight 0 is out of round_shards: neither a voter nor weight');
SELECT is(patron_ballots_sync(:'m2'), 0, 'syncing again changes nothing');
SELECT throws_ok(format('SELECT ballot_put(%L, %L, %L)', :'r', :'m2', ARRAY[:'t2']::uuid[]),
                 'PT403', 'Only members may vote: pledge canceled.',
                 'a canceled patron may no longer vote');
SELECT set_eq('SELECT * FROM totals WHERE votes <> 0 OR weight <> 0', 'SELECT * FROM recount',
              'the live totals equal a recount from the ballots');

-- ---- the close: a recount of who was a member then ----

-- The clock cannot move inside one transaction, so the round is closed
-- three days ahead: m3's grace has run out by then (2 days from now), m1 is
-- a member still, m2 canceled.
UPDATE rounds SET closes_at = now() + interval '3 days', closed_at = now() + interval '3 days'
 WHERE id = :'r';
SELECT round_freeze(:'r') AS last \gset
SELECT result AS result FROM rounds WHERE id = :'r' \gset

SELECT is((:'result'::jsonb->>'voters')::integer, 1,
          'the frozen result counts only ballots of members at the close (m3''s period ended before it)');
SELECT is((SELECT weight FROM ballots WHERE round_id = :'r' AND patron_id = :'m3'), 0,
          'the recount gave the ballot of a patron who was no member at the close weight 0');
SELECT is((:'result'::jsonb->>'eligible')::integer, member_count_at(now() + interval '3 days'),
          'eligible is the number of members at the close');
SELECT cmp_ok((:'result'::jsonb->>'voters')::integer, '<=', (:'result'::jsonb->>'eligible')::integer,
              'voters never exceed eligible');
SELECT is((:'result'::jsonb->>'total_weight')::bigint, 3::bigint, 'the frozen total weight is the recount''s');
SELECT set_eq(format('SELECT jsonb_array_elements_text(%L::jsonb->''winners'')::uuid', :'result'),
              format('VALUES (%L::uuid), (%L::uuid)', :'t1', :'t3'),
              'the winners are the topics tied at rank 1');
SELECT set_eq('SELECT * FROM totals WHERE votes <> 0 OR weight <> 0', 'SELECT * FROM recount',
              'after the close the stored totals are the recount');

SELECT round_freeze(:'r') AS last \gset
SELECT is((SELECT result FROM rounds WHERE id = :'r'), :'result'::jsonb,
          'freezing again changes nothing: the result is stored once');
SELECT throws_ok(format('SELECT ballot_put(%L, %L, %L)', :'r', :'m1', ARRAY[:'t2']::uuid[]),
                 'PT409', NULL, 'a closed round takes no ballot (PT409)');

SELECT * FROM finish();
ROLLBACK;
