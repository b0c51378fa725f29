-- Migration 0005 (more vote shards) on a round voted under the old 16
-- shards: every shard row exists afterwards, the per-shard totals follow
-- the new shard of each voter (so a later change to a ballot finds its
-- votes where it looks for them), and the tally reads exactly as before.
-- The old state is rebuilt by hand: the rows of shards 16..127 removed and
-- every ballot counted under hashtext(patron) & 15, as vote_shards() = 16
-- counted it.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(7);

-- ---- a round voted by 60 members (bank transfers, weight 1) ----

CREATE TEMP TABLE topic_no (n integer, id uuid);
INSERT INTO topic_no
SELECT n, (topic_create('Topic ' || n, NULL, 'open', NULL)->>'id')::uuid FROM generate_series(1, 3) n;
SELECT round_create('Which first', (SELECT jsonb_agg(id ORDER BY n) FROM topic_no),
                    now() - interval '1 day', now() + interval '6 days', 2) ->> 'id' AS r \gset
CREATE TEMP TABLE voter (i integer, patron uuid);
WITH p AS (
  INSERT INTO patrons (email) SELECT 'v' || i || '@example.org' FROM generate_series(1, 60) i
  RETURNING id, email
), l AS (
  INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
  SELECT id, 500, 'EUR', 'month', 'manual', 'active', now() - interval '5 days' FROM p
)
INSERT INTO voter SELECT substring(email FROM 'v(\d+)@')::integer, id FROM p;
SELECT count(ballot_put(:'r', patron, ARRAY(SELECT id FROM topic_no WHERE n = i % 3 + 1 OR (i % 4 = 0 AND n = (i + 1) % 3 + 1))))
       AS last FROM voter \gset

-- ---- the state before the migration ----

DELETE FROM round_topic_totals WHERE round_id = :'r' AND shard >= 16;
DELETE FROM round_shards WHERE round_id = :'r' AND shard >= 16;
UPDATE round_topic_totals x SET votes = coalesce(c.votes, 0), weight = coalesce(c.weight, 0)
  FROM (SELECT t.topic_id, t.shard, c.votes, c.weight FROM round_topic_totals t
          LEFT JOIN (SELECT u.id AS topic_id, (hashtext(b.patron_id::text) & 15)::smallint AS shard,
                            count(*)::integer AS votes, sum(b.weight)::bigint AS weight
                       FROM ballots b, unnest(b.topic_ids) AS u(id)
                      WHERE b.round_id = :'r' GROUP BY 1, 2) c USING (topic_id, shard)
         WHERE t.round_id = :'r') c
 WHERE x.round_id = :'r' AND x.topic_id = c.topic_id AND x.shard = c.shard;
UPDATE round_shards x SET voters = coalesce(c.voters, 0), total_weight = coalesce(c.total_weight, 0)
  FROM (SELECT t.shard, c.voters, c.total_weight FROM round_shards t
          LEFT JOIN (SELECT (hashtext(patron_id::text) & 15)::smallint AS shard,
                            count(*)::integer AS voters, sum(weight)::bigint AS total_weight
                       FROM ballots WHERE round_id = :'r' GROUP BY 1) c USING (shard)
         WHERE t.round_id = :'r') c
 WHERE x.round_id = :'r' AND x.shard = c.shard;

SELECT round_live_tally(r, 60, now()) - 'as_of' AS before FROM rounds r WHERE id = :'r' \gset

-- ---- the migration ----

\ir ../../migrations/0005_vote_shards.sql

\ir lib/recount.sql

SELECT is((SELECT count(*) FROM round_shards WHERE round_id = :'r'), vote_shards()::bigint,
          'the round has a row for every shard');
SELECT is((SELECT count(*) FROM round_topic_totals WHERE round_id = :'r'), 3 * vote_shards()::bigint,
          'each topic of the round has a row for every shard');
SELECT set_eq('SELECT * FROM totals', 'SELECT * FROM recount',
              'the topic totals sit in each voter''s new shard');
SELECT set_eq('SELECT * FROM shards', 'SELECT * FROM shards_recount',
              'the voters and weight sit in each voter''s new shard');
SELECT is((SELECT round_live_tally(r, 60, now()) - 'as_of' FROM rounds r WHERE id = :'r'), :'before'::jsonb,
          'the tally reads as before the migration');

-- ---- ballots changed after it ----

SELECT count(ballot_put(:'r', patron, ARRAY(SELECT id FROM topic_no WHERE n = 3))) AS last
  FROM voter WHERE i % 5 = 0 \gset
SELECT count(ballot_delete(:'r', patron)) AS last FROM voter WHERE i % 7 = 0 \gset
SELECT set_eq('SELECT * FROM totals', 'SELECT * FROM recount',
              'after replacements and withdrawals, the topic totals still equal a recount');
SELECT ok(NOT EXISTS (SELECT 1 FROM round_topic_totals WHERE round_id = :'r' AND (votes < 0 OR weight < 0))
          AND NOT EXISTS (SELECT 1 FROM round_shards WHERE round_id = :'r' AND (voters < 0 OR total_weight < 0)),
          'no shard went below zero');

SELECT * FROM finish();
ROLLBACK;
