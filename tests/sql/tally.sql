-- Tally totals (SPEC §4 Tally): the live tally is read from running totals
-- (round_topic_totals, round_shards) that every ballot transaction keeps, so
-- its cost does not grow with the ballots. Whatever happens to the ballots -
-- puts, replacements, withdrawals, re-weighing by tier or membership, the
-- clock's sweep - those totals must equal a recount from the ballots
-- themselves, shard by shard. Then the tally's own arithmetic: ranks,
-- shares, order, and an ETag that changes exactly when the tally does.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(17);

-- ---- fixtures: 48 voters over three tiers, four topics ----

INSERT INTO tiers (name, amount_minor, currency, vote_weight)
VALUES ('Friend', 1000, 'EUR', 2), ('Sustainer', 5000, 'EUR', 5);
CREATE TEMP TABLE topic_no (n integer, id uuid);
INSERT INTO topic_no
SELECT n, (topic_create('Topic ' || n, NULL, 'open', NULL)->>'id')::uuid FROM generate_series(1, 4) n;
SELECT round_create('Which first', (SELECT jsonb_agg(id ORDER BY n) FROM topic_no),
                    now() - interval '1 day', now() + interval '6 days', 2) ->> 'id' AS r \gset

-- Voter i's pledge by i % 4: a bank transfer (weight 1), monthly provider
-- pledges reaching Friend (2) and Sustainer (5), a one-off reaching Friend.
-- Their ballot: topic i % 4 + 1, and every third voter also the next one.
CREATE TEMP TABLE voter (i integer, patron uuid, pledge uuid, choice uuid[]);
DO $$
DECLARE
  patron uuid;
  pledge uuid;
BEGIN
  FOR i IN 1..48 LOOP
    INSERT INTO patrons (email) VALUES ('v' || i || '@example.org') RETURNING id INTO patron;
    INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref, status,
                         activated_at, current_period_end)
    VALUES (patron, (ARRAY[500, 1000, 5000, 1000])[i % 4 + 1], 'EUR',
            CASE WHEN i % 4 = 3 THEN 'once' ELSE 'month' END,
            CASE WHEN i % 4 = 0 THEN 'manual' ELSE 'stripe' END,
            CASE WHEN i % 4 <> 0 THEN 'sub_v' || i END, 'active', now() - interval '5 days',
            CASE WHEN i % 4 <> 0 THEN now() + interval '20 days' END)
    RETURNING id INTO pledge;
    INSERT INTO voter
    SELECT i, patron, pledge, ARRAY(SELECT id FROM topic_no
                                     WHERE n = i % 4 + 1 OR (i % 3 = 0 AND n = (i + 1) % 4 + 1)
                                     ORDER BY n);
  END LOOP;
END
$$;

-- The running totals, and the same recounted from the ballots.
\ir lib/recount.sql

SELECT is((SELECT count(*) FROM voter v WHERE ballot_put(:'r', v.patron, v.choice) IS NOT NULL), 48::bigint,
          'all 48 members cast a ballot');
SELECT cmp_ok((SELECT count(*) FROM shards), '>', 1::bigint, 'the ballots spread over several shards');
SELECT set_eq('SELECT * FROM totals', 'SELECT * FROM recount',
              'after the ballots, the topic totals equal a recount, shard by shard');
SELECT set_eq('SELECT * FROM shards', 'SELECT * FROM shards_recount',
              'after the ballots, the voters and weight per shard equal a recount');

-- ---- everything that moves a ballot ----

-- every fifth voter changes their mind; every seventh withdraws
SELECT count(ballot_put(:'r', patron, ARRAY(SELECT id FROM topic_no WHERE n = 4))) AS last
  FROM voter WHERE i % 5 = 0 \gset
SELECT count(ballot_delete(:'r', patron)) AS last FROM voter WHERE i % 7 = 0 \gset
-- every sixth voter's provider pledge is canceled (by webhook, which
-- syncs) after its paid period ran out: a canceled pledge counts until then
UPDATE pledges SET current_period_end = now() - interval '1 day'
 WHERE provider_ref IN (SELECT 'sub_v' || i FROM voter WHERE i % 6 = 1);
SELECT count(webhook_apply('stripe', jsonb_build_object('kind', 'pledge_canceled',
                                                         'subscription_ref', 'sub_v' || i))) AS last
  FROM voter WHERE i % 6 = 1 \gset
-- the Sustainer tier gets cheaper in votes; the clock's sweep re-weighs
UPDATE tiers SET vote_weight = 4, updated_at = now() WHERE name = 'Sustainer';
SELECT membership_sweep('-infinity') AS last \gset

SELECT ok(bool_and(b.weight = coalesce(patron_member_weight(b.patron_id), 0)),
          'every ballot weighs its voter''s weight now (0 for those who are no members)')
  FROM ballots b WHERE b.round_id = :'r';
SELECT ok(EXISTS (SELECT 1 FROM ballots WHERE round_id = :'r' AND weight = 4)
          AND EXISTS (SELECT 1 FROM ballots WHERE round_id = :'r' AND weight = 0),
          'the changes reached the ballots: some weigh the new 4, some nothing');
SELECT set_eq('SELECT * FROM totals', 'SELECT * FROM recount',
              'after replacements, withdrawals and re-weighing, the topic totals equal a recount');
SELECT set_eq('SELECT * FROM shards', 'SELECT * FROM shards_recount',
              'after replacements, withdrawals and re-weighing, the shards equal a recount');

-- ---- the tally read from the totals ----

SELECT round_live_tally(r, 48, now()) AS tally FROM rounds r WHERE id = :'r' \gset
CREATE TEMP TABLE tally_topics AS
  SELECT (x->>'topic_id')::uuid AS topic_id, (x->>'votes')::bigint AS votes,
         (x->>'weight')::bigint AS weight, (x->>'share')::float8 AS share,
         (x->>'rank')::bigint AS rank, o AS position
    FROM jsonb_array_elements(:'tally'::jsonb->'topics') WITH ORDINALITY AS a(x, o);

SELECT is((:'tally'::jsonb->>'voters')::bigint,
          (SELECT count(*) FROM ballots WHERE round_id = :'r' AND weight > 0),
          'the tally''s voters are the ballots that weigh something');
SELECT is((:'tally'::jsonb->>'total_weight')::bigint,
          (SELECT sum(weight)::bigint FROM ballots WHERE round_id = :'r'),
          'the tally''s total weight is the sum of the ballots'' weights');
SELECT set_eq('SELECT topic_id, votes, weight FROM tally_topics WHERE votes > 0',
              'SELECT topic_id, sum(votes)::bigint AS votes, sum(weight)::bigint AS weight FROM recount GROUP BY 1',
              'each topic''s votes and weight in the tally are the recount''s');
SELECT is((SELECT count(*) FROM tally_topics), 4::bigint, 'the tally lists every topic of the round');
SELECT ok(abs((SELECT sum(share) FROM tally_topics) * (:'tally'::jsonb->>'total_weight')::float8
              - (SELECT sum(weight) FROM tally_topics)) < 1e-6,
          'shares are each topic''s weight over the total weight');
SELECT ok(bool_and(t.rank = 1 + (SELECT count(*) FROM tally_topics u
                                   WHERE (u.weight, u.votes) > (t.weight, t.votes))),
          'a topic''s rank is one plus the topics ahead of it (equal weight and votes share a rank)')
  FROM tally_topics t;
SELECT ok(bool_and(NOT EXISTS (SELECT 1 FROM tally_topics u
                                WHERE u.position > t.position AND (u.weight, u.votes) > (t.weight, t.votes))),
          'topics are listed by weight, then votes, descending')
  FROM tally_topics t;

-- ---- the ETag ----

SELECT round_tally(:'r')->>'etag' AS etag1 \gset
SELECT patron, choice FROM voter WHERE i = 2 \gset
SELECT ballot_put(:'r', :'patron', :'choice') AS last \gset
SELECT is(round_tally(:'r')->>'etag', :'etag1', 'putting the same ballot again leaves the ETag');
SELECT ballot_put(:'r', :'patron', ARRAY(SELECT id FROM topic_no WHERE n = 1)) AS last \gset
SELECT isnt(round_tally(:'r')->>'etag', :'etag1', 'a changed ballot changes the ETag');

SELECT * FROM finish();
ROLLBACK;
