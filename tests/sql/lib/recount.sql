-- Included (\ir) by the pgTAP files that check the running totals of the
-- round in psql variable `r` against a recount of its ballots, shard by
-- shard: totals ~ recount (topics), shards ~ shards_recount (voters and
-- weight). Only rows that hold something are compared.
CREATE TEMP VIEW totals AS
  SELECT topic_id, shard, votes::bigint, weight FROM round_topic_totals
   WHERE round_id = :'r' AND (votes <> 0 OR weight <> 0);
CREATE TEMP VIEW recount AS
  SELECT u.id AS topic_id, vote_shard(b.patron_id) AS shard, count(*)::bigint AS votes,
         sum(b.weight)::bigint AS weight
    FROM ballots b, unnest(b.topic_ids) AS u(id)
   WHERE b.round_id = :'r' AND b.weight > 0 GROUP BY 1, 2;
CREATE TEMP VIEW shards AS
  SELECT shard, voters::bigint, total_weight FROM round_shards
   WHERE round_id = :'r' AND (voters <> 0 OR total_weight <> 0);
CREATE TEMP VIEW shards_recount AS
  SELECT vote_shard(patron_id) AS shard, count(*)::bigint AS voters, sum(weight)::bigint AS total_weight
    FROM ballots WHERE round_id = :'r' AND weight > 0 GROUP BY 1;
