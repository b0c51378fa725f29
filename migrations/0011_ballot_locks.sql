-- Ballots without a hot row. Until now every ballot share-locked its
-- round's row (FOR KEY SHARE, and again through the ballots → rounds
-- foreign key), so concurrent voters of one round all rewrote that row's
-- lock into a new MultiXact and queued on its buffer. A round is now
-- guarded by a transaction-scoped advisory lock instead: ballots take it
-- shared, which lives in the lock manager's memory and writes nothing;
-- whatever must see every ballot or none (freezing the result, changing a
-- scheduled round's terms) takes it exclusively and so waits for the
-- ballots in flight, which then find the round closed.

-- Rounds are never deleted, and ballot_put checks the round exists under
-- the lock, so the foreign key adds nothing but the contention above.
ALTER TABLE ballots DROP CONSTRAINT ballots_round_id_fkey;

-- The advisory lock's two-integer key space is used by nothing else.
CREATE FUNCTION round_lock_key(round uuid) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT hashtext(round::text) $$;

CREATE FUNCTION round_lock(round uuid) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7001, round_lock_key(round)) $$;

-- PostgreSQL 15 parses and plans a LANGUAGE sql function on every call
-- unless it can inline it, which made such calls most of a ballot's cost.
-- The functions on the hot paths are therefore plpgsql (whose plans are
-- kept per session) or inlinable: rfc3339's to_char is only STABLE, and
-- an IMMUTABLE declaration kept it from being inlined.
ALTER FUNCTION rfc3339(timestamptz) STABLE;

CREATE OR REPLACE FUNCTION json_uuids(doc jsonb) RETURNS uuid[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN ARRAY(SELECT e::uuid FROM jsonb_array_elements_text(doc) WITH ORDINALITY AS a(e, n)
                ORDER BY n);
END
$$;

-- A member's vote weight (the best tier among their membership pledges,
-- chosen as pledge_tier() does, which its subquery keeps from being
-- inlined), or NULL when they are not a member: one
-- look at their pledges where patron_vote_refusal and patron_vote_weight
-- took two.
CREATE FUNCTION patron_member_weight(patron uuid) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
  pledges_found bigint;
  best integer;
BEGIN
  SELECT count(*), max(t.vote_weight) INTO pledges_found, best
    FROM pledges p
    LEFT JOIN tiers t ON t.id = coalesce(p.tier_id, (
      SELECT x.id FROM tiers x
       WHERE x.currency = p.currency AND x.amount_minor <= monthly_amount(p)
       ORDER BY x.amount_minor DESC, x.seq LIMIT 1))
   WHERE p.patron_id = patron AND pledge_is_membership(p);
  RETURN CASE WHEN pledges_found > 0 THEN coalesce(best, 1) END;
END
$$;

-- The round a ballot write may change, with the shared lock held until
-- commit, and the voter's weight when membership is needed (NULL when it
-- is not). The state is checked after the lock is granted: a statement in
-- a function sees what committed before it started, so a freeze that ran
-- first is seen, and one that comes later waits for us.
DROP FUNCTION round_for_ballot(uuid, uuid, boolean);
CREATE FUNCTION round_for_ballot(target uuid, patron uuid, need_member boolean,
                                 OUT r rounds, OUT weight integer)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7001, round_lock_key(target));
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

CREATE OR REPLACE FUNCTION ballot_put(round uuid, patron uuid, choice uuid[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  voting record := round_for_ballot(round, patron, true);
  r rounds := voting.r;
  w integer := voting.weight;
  old ballots;
  cur ballots;
BEGIN
  PERFORM ballot_check(r, choice);
  LOOP
    SELECT * INTO old FROM ballots WHERE round_id = round AND patron_id = patron FOR UPDATE;
    EXIT WHEN FOUND;
    INSERT INTO ballots (round_id, patron_id, topic_ids, weight)
    VALUES (round, patron, choice, w)
    ON CONFLICT DO NOTHING RETURNING * INTO cur;
    IF FOUND THEN
      PERFORM ballot_count(round, patron, '{}', 0, choice, w);
      RETURN ballot_json(cur);
    END IF;
  END LOOP;
  IF old.weight = w AND old.topic_ids @> choice AND choice @> old.topic_ids THEN
    RETURN ballot_json(old);
  END IF;
  UPDATE ballots SET topic_ids = choice, weight = w, updated_at = now()
   WHERE round_id = round AND patron_id = patron RETURNING * INTO cur;
  PERFORM ballot_count(round, patron, old.topic_ids, old.weight, choice, w);
  RETURN ballot_json(cur);
END
$$;

-- As in 0007, with the exclusive round lock taken first: it waits for the
-- ballots in flight, and every path that freezes or closes takes it
-- before the row lock, so the two are always taken in the same order.
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
  members := member_count();
  frozen := round_live_tally(r, members, r.closed_at) - 'round_id' - 'status' - 'closes_at';
  frozen := frozen || jsonb_build_object('winners', coalesce((
    SELECT jsonb_agg(x->'topic_id') FROM jsonb_array_elements(frozen->'topics') x
     WHERE (x->>'rank')::integer = 1 AND (x->>'votes')::bigint > 0), '[]'::jsonb));
  UPDATE rounds SET closed_at = r.closed_at, result = frozen,
                    eligible = members, eligible_at = now()
   WHERE id = round;
END
$$;

CREATE OR REPLACE FUNCTION round_close(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
BEGIN
  PERFORM round_lock(target);
  SELECT * INTO r FROM rounds WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
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

CREATE OR REPLACE FUNCTION round_patch(target uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur rounds;
  ids uuid[];
BEGIN
  PERFORM round_lock(target);
  SELECT * INTO cur FROM rounds WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
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

-- As in 0007, except that a round never counted yet has no earlier count
-- to serve while another request counts: those requests now wait for that
-- count instead of each running member_count() at once.
CREATE OR REPLACE FUNCTION round_eligible(r rounds) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  IF r.eligible_at > now() - interval '60 seconds' THEN
    RETURN r.eligible;
  END IF;
  PERFORM 1 FROM rounds
    WHERE id = r.id AND (eligible_at IS NULL OR eligible_at <= now() - interval '60 seconds')
    FOR NO KEY UPDATE SKIP LOCKED;
  IF FOUND THEN
    n := member_count();
    UPDATE rounds SET eligible = n, eligible_at = now() WHERE id = r.id;
    RETURN n;
  END IF;
  IF r.eligible IS NOT NULL THEN
    RETURN r.eligible;
  END IF;
  PERFORM 1 FROM rounds WHERE id = r.id FOR NO KEY UPDATE;
  SELECT eligible INTO n FROM rounds WHERE id = r.id;
  RETURN coalesce(n, member_count());
END
$$;
