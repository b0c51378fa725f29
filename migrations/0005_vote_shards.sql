-- Ballots spread over 128 shards instead of 16 (vote_shards() in
-- sql/65_votes.sql). Existing rounds get the rows of the new shards, and
-- their per-shard totals are rebuilt from the ballots: a patron's shard is
-- now hashtext(id) & 127, so a later change to a ballot counted under the
-- old shard must find it in the new one. The sums, and so every tally,
-- are the same before and after. 128 is spelled out because migrations run
-- before the functions of sql/ are (re)applied.

INSERT INTO round_shards (round_id, shard)
SELECT r.id, s FROM rounds r, generate_series(0, 127) s
ON CONFLICT DO NOTHING;

INSERT INTO round_topic_totals (round_id, topic_id, shard)
SELECT rt.round_id, rt.topic_id, s FROM round_topics rt, generate_series(0, 127) s
ON CONFLICT DO NOTHING;

UPDATE round_topic_totals x SET votes = coalesce(c.votes, 0), weight = coalesce(c.weight, 0)
  FROM round_topic_totals t
  LEFT JOIN (SELECT b.round_id, (hashtext(b.patron_id::text) & 127)::smallint AS shard,
                    u.id AS topic_id, count(*)::integer AS votes, sum(b.weight)::bigint AS weight
               FROM ballots b, unnest(b.topic_ids) AS u(id)
              WHERE b.weight > 0
              GROUP BY 1, 2, 3) c
    ON c.round_id = t.round_id AND c.shard = t.shard AND c.topic_id = t.topic_id
 WHERE x.round_id = t.round_id AND x.topic_id = t.topic_id AND x.shard = t.shard;

UPDATE round_shards x SET voters = coalesce(c.voters, 0), total_weight = coalesce(c.total_weight, 0)
  FROM round_shards t
  LEFT JOIN (SELECT b.round_id, (hashtext(b.patron_id::text) & 127)::smallint AS shard,
                    count(*)::integer AS voters, sum(b.weight)::bigint AS total_weight
               FROM ballots b
              WHERE b.weight > 0
              GROUP BY 1, 2) c
    ON c.round_id = t.round_id AND c.shard = t.shard
 WHERE x.round_id = t.round_id AND x.shard = t.shard;
