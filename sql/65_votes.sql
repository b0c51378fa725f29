-- Voting rounds, ballots and their running tally (SPEC §4). PTnnn
-- messages reach the client as the problem's detail; a PT422 names the
-- offending request field in its CONSTRAINT, which becomes errors[].field.
-- A ballot weighs only while its voter is a member.
--
-- Ballots without a hot row: a round is guarded by a transaction-scoped
-- advisory lock (round_lock), not by locks on its row. Ballots take it
-- shared, which lives in the lock manager's memory and writes nothing
-- (share-locking the round's row made every concurrent voter rewrite its
-- lock into a new MultiXact and queue on its buffer); whatever must see
-- every ballot or none (freezing the result, changing a scheduled round's
-- terms) takes it exclusively and so waits for the ballots in flight,
-- which then find the round closed.

-- Ballots spread over vote_shards() rows per topic (round_topic_totals).
-- At 16 shards, 64 concurrent voters spent most of a ballot waiting for
-- each other's shard rows; 128 raised ballots/s by about half in `make bench`,
-- while a tally sums topics × 128 small rows only when its cached body is
-- stale. A power of two (vote_shard masks the hash). Changing it needs a
-- migration that adds the rows of existing rounds and rebuilds their
-- per-shard totals (migrations/0005_vote_shards.sql).

CREATE OR REPLACE FUNCTION vote_shards() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 128 $$;

CREATE OR REPLACE FUNCTION vote_shard(patron uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (hashtext(patron::text) & (vote_shards() - 1))::smallint
$$;

-- The best vote_weight among the tiers of the patron's membership pledges.
CREATE OR REPLACE FUNCTION patron_vote_weight(patron uuid) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce(patron_member_weight_at(patron, now()), 1);
END
$$;

-- ---- ballots follow membership ----

-- Serialises a patron's ballot writes with changes to their membership:
-- a ballot cast while their pledge is being canceled is either seen and
-- re-weighed by the cancel, or cast after it and refused.
CREATE OR REPLACE FUNCTION patron_vote_lock(patron uuid) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7003, hashtext(patron::text)) $$;

-- The advisory lock's two-integer key space is used by nothing else.
CREATE OR REPLACE FUNCTION round_lock_key(round uuid) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT hashtext(round::text) $$;

-- Held shared by ballot writes, exclusively by whatever must see every
-- ballot or none (see the head of this file).
CREATE OR REPLACE FUNCTION round_lock(round uuid) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7001, round_lock_key(round)) $$;

-- A round an admin changes: its advisory lock first, then its row, or PT404.
CREATE OR REPLACE FUNCTION round_for_update(target uuid) RETURNS rounds
LANGUAGE plpgsql AS $$
DECLARE
  found_round rounds;
BEGIN
  PERFORM round_lock(target);
  SELECT * INTO found_round FROM rounds WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
  RETURN found_round;
END
$$;

-- ---- rounds ----
CREATE OR REPLACE FUNCTION round_status(r rounds) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN r.closed_at IS NOT NULL OR now() >= r.closes_at THEN 'closed'
    WHEN now() >= r.opens_at THEN 'open'
    ELSE 'scheduled'
  END
$$;

CREATE OR REPLACE FUNCTION round_is_open(r rounds) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT r.result IS NULL AND round_status(r) = 'open'
$$;

CREATE OR REPLACE FUNCTION round_json(r rounds) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', r.id, 'title', r.title,
    'topic_ids', (SELECT coalesce(jsonb_agg(rt.topic_id ORDER BY rt.position), '[]'::jsonb)
                    FROM round_topics rt WHERE rt.round_id = r.id),
    'opens_at', rfc3339(r.opens_at), 'closes_at', rfc3339(r.closes_at),
    'max_choices', r.max_choices, 'status', round_status(r),
    'closed_at', rfc3339(coalesce(r.closed_at,
                                  CASE WHEN now() >= r.closes_at THEN r.closes_at END)),
    'created_at', rfc3339(r.created_at), 'result', r.result)
$$;

-- The round's choices and their zeroed totals, replacing any earlier set
-- (only ever before the round opens, so no ballot refers to them).
CREATE OR REPLACE FUNCTION round_set_topics(round uuid, ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM round_topics WHERE round_id = round;
  INSERT INTO round_topics (round_id, topic_id, position)
  SELECT round, u.id, u.n FROM unnest(ids) WITH ORDINALITY AS u(id, n);
  INSERT INTO round_topic_totals (round_id, topic_id, shard)
  SELECT round, u.id, s FROM unnest(ids) AS u(id), generate_series(0, vote_shards() - 1) s;
  INSERT INTO round_shards (round_id, shard)
  SELECT round, s FROM generate_series(0, vote_shards() - 1) s
  ON CONFLICT DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION round_check(r rounds, ids uuid[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF r.closes_at <= r.opens_at THEN
    RAISE EXCEPTION 'must be later than opens_at' USING ERRCODE = 'PT422', CONSTRAINT = 'closes_at';
  END IF;
  IF r.max_choices > cardinality(ids) THEN
    RAISE EXCEPTION 'must be at most the number of topics (%)', cardinality(ids)
      USING ERRCODE = 'PT422', CONSTRAINT = 'max_choices';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(ids) u(id) WHERE NOT EXISTS (SELECT 1 FROM topics WHERE id = u.id)) THEN
    RAISE EXCEPTION 'names a topic that does not exist' USING ERRCODE = 'PT422', CONSTRAINT = 'topic_ids';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION round_create(title text, topic_ids jsonb, opens_at timestamptz,
                             closes_at timestamptz, max_choices integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[] := json_uuids(topic_ids);
  r rounds;
BEGIN
  r.opens_at := opens_at;
  r.closes_at := closes_at;
  r.max_choices := max_choices;
  PERFORM round_check(r, ids);
  INSERT INTO rounds (title, opens_at, closes_at, max_choices)
  VALUES (title, opens_at, closes_at, max_choices) RETURNING * INTO r;
  PERFORM round_set_topics(r.id, ids);
  RETURN round_json(r);
END
$$;

-- PATCH, only while the round is scheduled: once it opens its terms are
-- what members vote on. The lock keeps ballots out while it changes.
CREATE OR REPLACE FUNCTION round_patch(target uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur rounds;
  ids uuid[];
BEGIN
  cur := round_for_update(target);
  IF round_status(cur) <> 'scheduled' THEN
    RAISE EXCEPTION 'Only a scheduled round can be changed; this one is %.', round_status(cur)
      USING ERRCODE = 'PT409';
  END IF;
  ids := CASE WHEN patch ? 'topic_ids' THEN json_uuids(patch->'topic_ids')
              ELSE ARRAY(SELECT topic_id FROM round_topics
                          WHERE round_id = target ORDER BY position) END;
  IF patch ? 'title' THEN cur.title := patch->>'title'; END IF;
  IF patch ? 'opens_at' THEN cur.opens_at := (patch->>'opens_at')::timestamptz; END IF;
  IF patch ? 'closes_at' THEN cur.closes_at := (patch->>'closes_at')::timestamptz; END IF;
  IF patch ? 'max_choices' THEN cur.max_choices := (patch->>'max_choices')::integer; END IF;
  PERFORM round_check(cur, ids);
  UPDATE rounds SET title = cur.title, opens_at = cur.opens_at, closes_at = cur.closes_at,
                    max_choices = cur.max_choices, updated_at = now()
   WHERE id = target RETURNING * INTO cur;
  IF patch ? 'topic_ids' THEN
    PERFORM round_set_topics(target, ids);
  END IF;
  RETURN round_json(cur);
END
$$;

-- ---- the tally ----

-- The tally from the running totals, ranked by weight then votes (equal
-- pairs share a rank: 1, 1, 3), ties listed in topic creation order.
CREATE OR REPLACE FUNCTION round_live_tally(r rounds, eligible integer, as_of timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  WITH turnout AS (
    SELECT coalesce(sum(s.voters), 0)::bigint AS voters,
           coalesce(sum(s.total_weight), 0)::bigint AS total_weight
      FROM round_shards s WHERE s.round_id = r.id
  ), totals AS (
    SELECT rt.topic_id, t.title, t.seq,
           coalesce(sum(x.votes), 0)::bigint AS votes,
           coalesce(sum(x.weight), 0)::bigint AS weight
      FROM round_topics rt
      JOIN topics t ON t.id = rt.topic_id
      LEFT JOIN round_topic_totals x ON x.round_id = rt.round_id AND x.topic_id = rt.topic_id
     WHERE rt.round_id = r.id
     GROUP BY rt.topic_id, t.title, t.seq
  ), ranked AS (
    SELECT totals.*, rank() OVER (ORDER BY weight DESC, votes DESC) AS rank FROM totals
  )
  SELECT jsonb_build_object(
    'round_id', r.id, 'status', round_status(r),
    'closes_at', rfc3339(coalesce(r.closed_at, r.closes_at)),
    'voters', v.voters, 'eligible', eligible, 'total_weight', v.total_weight,
    'topics', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'topic_id', k.topic_id, 'title', k.title, 'votes', k.votes, 'weight', k.weight,
               'share', CASE WHEN v.total_weight = 0 THEN 0
                             ELSE k.weight::float8 / v.total_weight END,
               'rank', k.rank)
             ORDER BY k.weight DESC, k.votes DESC, k.seq)
        FROM ranked k), '[]'::jsonb),
    'as_of', rfc3339(as_of))
  FROM turnout v
$$;

-- The frozen result is a recount: every ballot of the round takes its
-- voter's weight at the close (0 for whoever was no member then), and the
-- totals are rebuilt from the ballots, so what is stored does not depend
-- on every earlier re-weighing having happened.
CREATE OR REPLACE FUNCTION round_recount(round uuid, at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ballots b SET weight = w.weight
    FROM (SELECT patron_id, coalesce(patron_member_weight_at(patron_id, at), 0) AS weight
            FROM ballots WHERE round_id = round) w
   WHERE b.round_id = round AND b.patron_id = w.patron_id AND b.weight <> w.weight;
  UPDATE round_topic_totals x SET votes = coalesce(c.votes, 0), weight = coalesce(c.weight, 0)
    FROM round_topic_totals t
    LEFT JOIN (SELECT vote_shard(b.patron_id) AS shard, u.id AS topic_id,
                      count(*)::integer AS votes, sum(b.weight)::bigint AS weight
                 FROM ballots b, unnest(b.topic_ids) AS u(id)
                WHERE b.round_id = round AND b.weight > 0
                GROUP BY 1, 2) c ON c.shard = t.shard AND c.topic_id = t.topic_id
   WHERE t.round_id = round AND x.round_id = t.round_id AND x.topic_id = t.topic_id
     AND x.shard = t.shard;
  UPDATE round_shards s SET voters = coalesce(c.voters, 0),
                            total_weight = coalesce(c.total_weight, 0)
    FROM round_shards t
    LEFT JOIN (SELECT vote_shard(b.patron_id) AS shard, count(*)::integer AS voters,
                      sum(b.weight)::bigint AS total_weight
                 FROM ballots b WHERE b.round_id = round AND b.weight > 0
                GROUP BY 1) c ON c.shard = t.shard
   WHERE t.round_id = round AND s.round_id = t.round_id AND s.shard = t.shard;
END
$$;

-- Stores the final tally of a round that has closed (explicitly, or by
-- the clock), exactly once: the row lock makes a concurrent closer wait
-- and then find the result already there. The exclusive round lock,
-- taken first, waits for the ballots in flight, so the result counts
-- every ballot accepted before the close and no later one; every path
-- that freezes or closes takes it before the row lock, so the two are
-- always taken in the same order. The recount makes `eligible` the
-- members at the close, and voters (ballots of members then) never
-- exceed it.
CREATE OR REPLACE FUNCTION round_freeze(round uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  members integer;
  frozen jsonb;
BEGIN
  PERFORM round_lock(round);
  SELECT * INTO r FROM rounds WHERE id = round FOR UPDATE;
  IF NOT FOUND OR r.result IS NOT NULL OR (r.closed_at IS NULL AND now() < r.closes_at) THEN
    RETURN;
  END IF;
  r.closed_at := coalesce(r.closed_at, r.closes_at);
  PERFORM round_recount(round, r.closed_at);
  members := member_count_at(r.closed_at);
  frozen := round_live_tally(r, members, r.closed_at) - 'round_id' - 'status' - 'closes_at';
  frozen := frozen || jsonb_build_object('winners', coalesce((
    SELECT jsonb_agg(x->'topic_id') FROM jsonb_array_elements(frozen->'topics') x
     WHERE (x->>'rank')::integer = 1 AND (x->>'votes')::bigint > 0), '[]'::jsonb));
  UPDATE rounds SET closed_at = r.closed_at, result = frozen,
                    eligible = members, eligible_at = now()
   WHERE id = round;
END
$$;

-- The round as it stands, frozen first if it has closed since anyone
-- last looked (the sweep job does the same for rounds nobody reads).
CREATE OR REPLACE FUNCTION round_settled(r rounds) RETURNS rounds
LANGUAGE plpgsql AS $$
BEGIN
  IF r.result IS NULL AND (r.closed_at IS NOT NULL OR now() >= r.closes_at) THEN
    PERFORM round_freeze(r.id);
    SELECT * INTO r FROM rounds WHERE id = r.id;
  END IF;
  RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION round_close(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
BEGIN
  r := round_for_update(target);
  IF r.result IS NULL AND now() < r.closes_at THEN
    UPDATE rounds SET closed_at = now(), updated_at = now() WHERE id = target;
  END IF;
  PERFORM round_freeze(target);
  SELECT * INTO r FROM rounds WHERE id = target;
  RETURN round_json(r);
END
$$;

-- The sweep locks due rounds it can get without waiting, so it too must
-- not hold a row lock while waiting for the advisory one.
CREATE OR REPLACE FUNCTION round_sweep(batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  due uuid;
  n integer := 0;
BEGIN
  FOR due IN SELECT id FROM rounds WHERE result IS NULL AND closes_at <= now()
              ORDER BY closes_at LIMIT batch LOOP
    PERFORM round_freeze(due);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- Members eligible to vote, recounted at most once a minute per round. A
-- request finding the recount under way serves the previous count rather
-- than wait for it, except that a round never counted yet has no earlier
-- count to serve: those requests wait for that count instead of each
-- running member_count() at once. A count cached before ballots came in
-- is not served below the number of voters: the live tally never shows
-- more voters than members who may vote.
CREATE OR REPLACE FUNCTION round_eligible(r rounds) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  voted bigint := (SELECT coalesce(sum(voters), 0) FROM round_shards WHERE round_id = r.id);
BEGIN
  IF r.eligible_at > now() - interval '60 seconds' AND r.eligible >= voted THEN
    RETURN r.eligible;
  END IF;
  PERFORM 1 FROM rounds
    WHERE id = r.id AND (eligible_at IS NULL OR eligible_at <= now() - interval '60 seconds'
                         OR eligible < voted)
    FOR NO KEY UPDATE SKIP LOCKED;
  IF FOUND THEN
    n := member_count();
    UPDATE rounds SET eligible = n, eligible_at = now() WHERE id = r.id;
    RETURN n;
  END IF;
  IF r.eligible IS NOT NULL THEN
    RETURN greatest(r.eligible, voted);
  END IF;
  PERFORM 1 FROM rounds WHERE id = r.id FOR NO KEY UPDATE;
  SELECT eligible INTO n FROM rounds WHERE id = r.id;
  RETURN coalesce(n, member_count());
END
$$;

-- {etag, tally}. The ETag hashes everything in the tally but as_of, so it
-- changes exactly when a number, the status or a title does.
CREATE OR REPLACE FUNCTION round_tally(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  t jsonb;
BEGIN
  SELECT * INTO r FROM rounds WHERE id = target;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
  r := round_settled(r);
  IF r.result IS NOT NULL THEN
    -- a round closed early closed then, not when it was scheduled to
    t := jsonb_build_object('round_id', r.id, 'status', 'closed',
                            'closes_at', rfc3339(coalesce(r.closed_at, r.closes_at)))
         || (r.result - 'winners');
  ELSE
    t := round_live_tally(r, round_eligible(r), now());
  END IF;
  RETURN jsonb_build_object('etag', md5((t - 'as_of')::text), 'tally', t);
END
$$;

-- The open round closing soonest, if any.
CREATE OR REPLACE FUNCTION round_current_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT id FROM rounds
   WHERE result IS NULL AND closed_at IS NULL AND closes_at > now() AND opens_at <= now()
   ORDER BY closes_at, seq LIMIT 1
$$;

CREATE OR REPLACE FUNCTION round_current_tally() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  target uuid := round_current_id();
BEGIN
  IF target IS NULL THEN
    RAISE EXCEPTION 'No round is open right now.' USING ERRCODE = 'PT404';
  END IF;
  RETURN round_tally(target);
END
$$;

-- ---- ballots ----
CREATE OR REPLACE FUNCTION ballot_json(b ballots) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'round_id', b.round_id, 'topic_ids', to_jsonb(b.topic_ids), 'weight', b.weight,
    'updated_at', rfc3339(b.updated_at))
$$;

-- The topics a ballot adds to the totals: none while it weighs nothing.
CREATE OR REPLACE FUNCTION ballot_counted(ids uuid[], w integer) RETURNS uuid[]
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN w > 0 THEN ids ELSE '{}'::uuid[] END $$;

-- Refuses ballot changes unless the round is open.
CREATE OR REPLACE FUNCTION round_check_open(r rounds) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF r.result IS NOT NULL OR round_status(r) = 'closed' THEN
    RAISE EXCEPTION 'The round is closed; its ballots can no longer change.'
      USING ERRCODE = 'PT409';
  END IF;
  IF round_status(r) = 'scheduled' THEN
    RAISE EXCEPTION 'The round is not open yet; it opens at %.', rfc3339(r.opens_at)
      USING ERRCODE = 'PT409';
  END IF;
END
$$;

-- The round a ballot write may change, with the round lock held shared
-- so no freeze can happen between the check and the commit (round_freeze
-- waits for us). A late ballot is refused before it takes the lock, so a
-- crowd of them cannot keep the freeze waiting. A ballot write takes the patron's lock after the round's (see
-- patron_vote_lock), so the weight it reads cannot be overtaken by a
-- membership change that committed while it was waiting.
CREATE OR REPLACE FUNCTION round_for_ballot(target uuid, patron uuid, need_member boolean,
                                            OUT r rounds, OUT weight integer)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7001, round_lock_key(target));
  PERFORM patron_vote_lock(patron);
  SELECT * INTO r FROM rounds WHERE id = target;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
  IF need_member THEN
    weight := patron_member_weight(patron);
    IF weight IS NULL THEN
      RAISE EXCEPTION 'Only members may vote: %.', patron_vote_refusal(patron)
        USING ERRCODE = 'PT403';
    END IF;
  END IF;
  PERFORM round_check_open(r);
END
$$;

-- Moves one patron's ballot from (old_ids, old_w) to (new_ids, new_w) in
-- the totals; an empty list means no ballot. Topic rows are locked in
-- topic order, then the shard row, so ballots sharing a shard cannot
-- deadlock.
CREATE OR REPLACE FUNCTION ballot_count(round uuid, patron uuid, old_ids uuid[], old_w integer,
                             new_ids uuid[], new_w integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  sh smallint := vote_shard(patron);
  d record;
  dv integer := (cardinality(new_ids) > 0)::integer - (cardinality(old_ids) > 0)::integer;
  dw bigint := CASE WHEN cardinality(new_ids) > 0 THEN new_w ELSE 0 END
             - CASE WHEN cardinality(old_ids) > 0 THEN old_w ELSE 0 END;
BEGIN
  FOR d IN
    SELECT u.id,
           (u.id = ANY (new_ids))::integer - (u.id = ANY (old_ids))::integer AS votes,
           CASE WHEN u.id = ANY (new_ids) THEN new_w ELSE 0 END
             - CASE WHEN u.id = ANY (old_ids) THEN old_w ELSE 0 END AS weight
      FROM unnest(old_ids || new_ids) AS u(id)
     GROUP BY u.id ORDER BY u.id
  LOOP
    CONTINUE WHEN d.votes = 0 AND d.weight = 0;
    UPDATE round_topic_totals SET votes = votes + d.votes, weight = weight + d.weight
     WHERE round_id = round AND topic_id = d.id AND shard = sh;
  END LOOP;
  IF dv <> 0 OR dw <> 0 THEN
    UPDATE round_shards SET voters = voters + dv, total_weight = total_weight + dw
     WHERE round_id = round AND shard = sh;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION ballot_check(r rounds, choice uuid[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF cardinality(choice) = 0 THEN
    RAISE EXCEPTION 'must name at least one topic (to withdraw the ballot, DELETE it)'
      USING ERRCODE = 'PT422', CONSTRAINT = 'topic_ids';
  END IF;
  IF cardinality(choice) <> (SELECT count(DISTINCT c) FROM unnest(choice) c) THEN
    RAISE EXCEPTION 'names a topic more than once' USING ERRCODE = 'PT422', CONSTRAINT = 'topic_ids';
  END IF;
  IF cardinality(choice) > r.max_choices THEN
    RAISE EXCEPTION 'may name at most % topic(s) in this round', r.max_choices
      USING ERRCODE = 'PT422', CONSTRAINT = 'topic_ids';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(choice) c
              WHERE NOT EXISTS (SELECT 1 FROM round_topics rt
                                 WHERE rt.round_id = r.id AND rt.topic_id = c)) THEN
    RAISE EXCEPTION 'names a topic that is not part of this round'
      USING ERRCODE = 'PT422', CONSTRAINT = 'topic_ids';
  END IF;
END
$$;

-- PUT: replaces the patron's ballot, and the totals with it, in one
-- transaction. The same choice at the same weight changes nothing. Two
-- first ballots racing meet at the primary key: the loser waits, then
-- finds and replaces the winner's. A ballot that weighed nothing (its voter had lapsed) was
-- not in the totals, so it is replaced from nothing.
CREATE OR REPLACE FUNCTION ballot_put(round uuid, patron uuid, choice uuid[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  voting record := round_for_ballot(round, patron, true);
  r rounds := voting.r;
  w integer := voting.weight;
  old ballots;
  cur ballots;
  here tid;
BEGIN
  PERFORM ballot_check(r, choice);
  -- A first ballot, the common case, is one insert that finds its place
  -- through the primary key. A replaced one is found by a statement
  -- planned afresh (EXECUTE) and then reached by its row address: a plan
  -- this connection cached while the table was nearly empty is a
  -- sequential scan, and stays one, growing with every ballot, until the
  -- next ANALYZE of the table.
  LOOP
    INSERT INTO ballots (round_id, patron_id, topic_ids, weight)
    VALUES (round, patron, choice, w)
    ON CONFLICT DO NOTHING RETURNING * INTO cur;
    IF FOUND THEN
      PERFORM ballot_count(round, patron, '{}', 0, choice, w);
      RETURN ballot_json(cur);
    END IF;
    EXECUTE 'SELECT ctid FROM ballots WHERE round_id = $1 AND patron_id = $2 FOR UPDATE'
       INTO here USING round, patron;
    EXIT WHEN here IS NOT NULL;
  END LOOP;
  SELECT * INTO old FROM ballots WHERE ctid = here;
  IF old.weight = w AND old.topic_ids @> choice AND choice @> old.topic_ids THEN
    RETURN ballot_json(old);
  END IF;
  UPDATE ballots SET topic_ids = choice, weight = w, updated_at = now()
   WHERE ctid = here RETURNING * INTO cur;
  PERFORM ballot_count(round, patron, ballot_counted(old.topic_ids, old.weight), old.weight,
                       choice, w);
  RETURN ballot_json(cur);
END
$$;

-- DELETE: withdrawing takes influence away and never adds it, so a patron
-- whose membership lapsed may still withdraw what they cast as a member.
CREATE OR REPLACE FUNCTION ballot_delete(round uuid, patron uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old ballots;
BEGIN
  PERFORM round_for_ballot(round, patron, false);
  DELETE FROM ballots WHERE round_id = round AND patron_id = patron RETURNING * INTO old;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'You have no ballot in this round.' USING ERRCODE = 'PT404';
  END IF;
  PERFORM ballot_count(round, patron, ballot_counted(old.topic_ids, old.weight), old.weight,
                       '{}', 0);
  RETURN to_jsonb(true);
END
$$;

-- One ballot to weight w (0: out of the tally, kept should the voter be a
-- member again while the round runs). The round's shared lock is only
-- tried: a round that a close holds is being recounted from the ballots
-- and memberships anyway, and waiting for it while holding the patron's
-- lock could deadlock with a ballot that holds the round and waits for us.
CREATE OR REPLACE FUNCTION ballot_reweigh(round uuid, patron uuid, w integer) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  b ballots;
BEGIN
  IF NOT pg_try_advisory_xact_lock_shared(7001, round_lock_key(round)) THEN
    RETURN false;
  END IF;
  SELECT * INTO r FROM rounds WHERE id = round;
  IF NOT round_is_open(r) THEN
    RETURN false;
  END IF;
  SELECT * INTO b FROM ballots WHERE round_id = round AND patron_id = patron FOR UPDATE;
  IF NOT FOUND OR b.weight = w THEN
    RETURN false;
  END IF;
  UPDATE ballots SET weight = w WHERE round_id = round AND patron_id = patron;
  PERFORM ballot_count(round, patron, ballot_counted(b.topic_ids, b.weight), b.weight,
                       ballot_counted(b.topic_ids, w), w);
  RETURN true;
END
$$;

-- Re-weighs the patron's ballots in open rounds to their weight now;
-- returns how many changed (the caller then announces a tally change).
-- Called in the transaction that changed their membership or tier.
CREATE OR REPLACE FUNCTION patron_ballots_sync(patron uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  w integer;
  round uuid;
  n integer := 0;
BEGIN
  -- The lock first: a ballot put while this transaction changed the
  -- patron's pledge read the old weight, and only once it has committed
  -- (and so released the lock) can this statement's snapshot see it.
  PERFORM patron_vote_lock(patron);
  IF NOT EXISTS (SELECT 1 FROM ballots b JOIN rounds r ON r.id = b.round_id
                  WHERE b.patron_id = patron AND r.result IS NULL) THEN
    RETURN 0;
  END IF;
  w := coalesce(patron_member_weight(patron), 0);
  FOR round IN SELECT b.round_id FROM ballots b JOIN rounds r ON r.id = b.round_id
                WHERE b.patron_id = patron AND r.result IS NULL AND b.weight <> w
                ORDER BY b.round_id LOOP
    n := n + ballot_reweigh(round, patron, w)::integer;
  END LOOP;
  RETURN n;
END
$$;

-- A tier's amount or weight decides its members' ballot weights, so every
-- ballot in an open round is re-weighed in the transaction that changed a
-- tier: no tally ever counts a weight the tiers no longer give, and a
-- rolled-back tier change re-weighs nothing.
CREATE OR REPLACE FUNCTION tiers_reweigh_ballots() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  patron uuid;
BEGIN
  FOR patron IN SELECT DISTINCT b.patron_id FROM ballots b JOIN rounds r ON r.id = b.round_id
                 WHERE r.result IS NULL AND round_status(r) = 'open' ORDER BY 1 LOOP
    PERFORM patron_ballots_sync(patron);
  END LOOP;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER tiers_reweigh_ballots AFTER INSERT OR UPDATE OR DELETE ON tiers
  FOR EACH STATEMENT EXECUTE FUNCTION tiers_reweigh_ballots();
