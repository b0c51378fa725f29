-- Topics, voting rounds, ballots and their running tally (SPEC §4). PTnnn
-- messages reach the client as the problem's detail; a PT422 names the
-- offending request field in its CONSTRAINT, which becomes errors[].field.

CREATE TABLE topics (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description  text CHECK (length(description) <= 5000),
  status       text NOT NULL DEFAULT 'proposed'
               CHECK (status IN ('proposed', 'open', 'covered', 'declined')),
  proposed_by  uuid REFERENCES patrons (id),
  covered_url  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT topics_covered_url CHECK ((status = 'covered') = (covered_url IS NOT NULL))
);
CREATE INDEX topics_status ON topics (status);
CREATE INDEX topics_proposals ON topics (proposed_by) WHERE status = 'proposed';

-- `closed_at` and `result` are written together, once, by round_freeze().
-- `eligible`/`eligible_at` cache the member count while the round runs.
CREATE TABLE rounds (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  opens_at     timestamptz NOT NULL,
  closes_at    timestamptz NOT NULL,
  max_choices  integer NOT NULL DEFAULT 1 CHECK (max_choices BETWEEN 1 AND 50),
  closed_at    timestamptz,
  result       jsonb,
  eligible     integer,
  eligible_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (closes_at > opens_at)
);
CREATE INDEX rounds_unfrozen ON rounds (closes_at) WHERE result IS NULL;

CREATE TABLE round_topics (
  round_id  uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  topic_id  uuid NOT NULL REFERENCES topics (id),
  position  integer NOT NULL,
  PRIMARY KEY (round_id, topic_id)
);
CREATE INDEX round_topics_topic ON round_topics (topic_id);

-- Running totals, kept by the ballot transactions so a tally reads
-- O(topics × shards) rows however many ballots there are. Each patron
-- always lands in the same shard (vote_shard), so concurrent voters spread
-- over several rows instead of queueing on one per topic and per round.
CREATE TABLE round_topic_totals (
  round_id  uuid NOT NULL,
  topic_id  uuid NOT NULL,
  shard     smallint NOT NULL,
  votes     integer NOT NULL DEFAULT 0,
  weight    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (round_id, topic_id, shard),
  FOREIGN KEY (round_id, topic_id) REFERENCES round_topics ON DELETE CASCADE
);

CREATE TABLE round_shards (
  round_id      uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  shard         smallint NOT NULL,
  voters        integer NOT NULL DEFAULT 0,
  total_weight  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (round_id, shard)
);

-- A ballot keeps the weight it was cast with, so replacing or withdrawing
-- it takes exactly that weight back out of the totals.
CREATE TABLE ballots (
  round_id    uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  patron_id   uuid NOT NULL REFERENCES patrons (id),
  topic_ids   uuid[] NOT NULL,
  weight      integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, patron_id)
);
CREATE INDEX ballots_patron ON ballots (patron_id);

CREATE TRIGGER topics_audit AFTER INSERT OR UPDATE OR DELETE ON topics
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER rounds_audit AFTER INSERT OR UPDATE OR DELETE ON rounds
  FOR EACH ROW EXECUTE FUNCTION audit_row();

CREATE FUNCTION vote_shards() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 16 $$;

CREATE FUNCTION vote_shard(patron uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (hashtext(patron::text) & (vote_shards() - 1))::smallint
$$;

-- ---- membership, as voting sees it ----

-- Why the patron may not vote or propose, worded for them; NULL for a
-- member. The reason comes from the pledge that came closest to counting.
CREATE FUNCTION patron_vote_refusal(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM pledges p
                  WHERE p.patron_id = patron AND pledge_is_membership(p)) THEN NULL
    ELSE coalesce((
      SELECT CASE
        WHEN p.interval = 'once' AND p.status IN ('active', 'past_due')
          THEN 'one-off pledge paid more than 31 days ago'
        WHEN p.status = 'past_due' THEN 'pledge past_due beyond the 7-day grace period'
        WHEN p.status = 'canceled' THEN 'pledge canceled'
        WHEN p.status = 'pending' THEN 'pledge still pending its first payment'
        ELSE 'no active pledge'
      END
      FROM pledges p WHERE p.patron_id = patron
      ORDER BY CASE p.status WHEN 'active' THEN 0 WHEN 'past_due' THEN 0
                             WHEN 'canceled' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
               p.seq DESC
      LIMIT 1), 'no active pledge')
  END
$$;

-- The best vote_weight among the tiers of the patron's membership pledges.
CREATE FUNCTION patron_vote_weight(patron uuid) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(t.vote_weight), 1)
    FROM pledges p JOIN tiers t ON t.id = pledge_tier(p)
   WHERE p.patron_id = patron AND pledge_is_membership(p)
$$;

CREATE FUNCTION member_count() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT p.patron_id)::integer
    FROM pledges p JOIN patrons pa ON pa.id = p.patron_id
   WHERE p.status IN ('active', 'past_due') AND pa.erased_at IS NULL
     AND pledge_is_membership(p)
$$;

-- ---- topics ----

CREATE FUNCTION topic_json(t topics) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'title', t.title, 'description', t.description, 'status', t.status,
    'proposed_by', t.proposed_by, 'covered_url', t.covered_url,
    'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;

-- The published story's URL belongs to covered topics, and only to them.
CREATE FUNCTION topic_check_covered(status text, url text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF status = 'covered' AND url IS NULL THEN
    RAISE EXCEPTION 'is required when status is covered'
      USING ERRCODE = 'PT422', CONSTRAINT = 'covered_url';
  END IF;
  IF status <> 'covered' AND url IS NOT NULL THEN
    RAISE EXCEPTION 'is only allowed when status is covered'
      USING ERRCODE = 'PT422', CONSTRAINT = 'covered_url';
  END IF;
END
$$;

CREATE FUNCTION topic_create(title text, description text, status text, url text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t topics;
BEGIN
  PERFORM topic_check_covered(status, url);
  INSERT INTO topics (title, description, status, covered_url)
  VALUES (title, description, status, url) RETURNING * INTO t;
  RETURN topic_json(t);
END
$$;

-- A member's proposal. The patron row lock serialises one patron's
-- concurrent proposals, so none can slip past the limit of three.
CREATE FUNCTION topic_propose(patron uuid, title text, description text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  refusal text;
  t topics;
BEGIN
  PERFORM 1 FROM patrons WHERE id = patron FOR NO KEY UPDATE;
  refusal := patron_vote_refusal(patron);
  IF refusal IS NOT NULL THEN
    RAISE EXCEPTION 'Only members may propose topics: %.', refusal USING ERRCODE = 'PT403';
  END IF;
  IF (SELECT count(*) FROM topics
       WHERE proposed_by = patron AND topics.status = 'proposed') >= 3 THEN
    RAISE EXCEPTION 'You already have 3 proposals waiting for review; propose more once the newsroom has decided on one.'
      USING ERRCODE = 'PT409';
  END IF;
  INSERT INTO topics (title, description, status, proposed_by)
  VALUES (title, description, 'proposed', patron) RETURNING * INTO t;
  RETURN topic_json(t);
END
$$;

-- PATCH: only the keys present change. Leaving `covered` drops the URL
-- unless the patch names one, which topic_check_covered then refuses.
CREATE FUNCTION topic_patch(target uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur topics;
  next_status text;
  next_url text;
BEGIN
  SELECT * INTO cur FROM topics WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such topic.' USING ERRCODE = 'PT404';
  END IF;
  next_status := coalesce(patch->>'status', cur.status);
  next_url := CASE WHEN patch ? 'covered_url' THEN patch->>'covered_url'
                   WHEN next_status = 'covered' THEN cur.covered_url END;
  PERFORM topic_check_covered(next_status, next_url);
  UPDATE topics t SET
    title = CASE WHEN patch ? 'title' THEN patch->>'title' ELSE t.title END,
    description = CASE WHEN patch ? 'description' THEN patch->>'description'
                       ELSE t.description END,
    status = next_status,
    covered_url = next_url,
    updated_at = now()
  WHERE t.id = target
  RETURNING * INTO cur;
  RETURN topic_json(cur);
END
$$;

-- A topic a round has voted on is part of that round's record.
CREATE FUNCTION topic_delete(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM topics WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such topic.' USING ERRCODE = 'PT404';
  END IF;
  IF EXISTS (SELECT 1 FROM round_topics WHERE topic_id = target) THEN
    RAISE EXCEPTION 'The topic is part of a voting round and cannot be deleted; set its status to declined instead.'
      USING ERRCODE = 'PT409';
  END IF;
  DELETE FROM topics WHERE id = target;
  RETURN to_jsonb(target);
END
$$;

-- ---- rounds ----

CREATE FUNCTION round_status(r rounds) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN r.closed_at IS NOT NULL OR now() >= r.closes_at THEN 'closed'
    WHEN now() >= r.opens_at THEN 'open'
    ELSE 'scheduled'
  END
$$;

CREATE FUNCTION round_json(r rounds) RETURNS jsonb
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
CREATE FUNCTION round_set_topics(round uuid, ids uuid[]) RETURNS void
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

CREATE FUNCTION round_check(r rounds, ids uuid[]) RETURNS void
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

CREATE FUNCTION json_uuids(doc jsonb) RETURNS uuid[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(e::uuid ORDER BY n), '{}')
    FROM jsonb_array_elements_text(doc) WITH ORDINALITY AS a(e, n)
$$;

CREATE FUNCTION round_create(title text, topic_ids jsonb, opens_at timestamptz,
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
CREATE FUNCTION round_patch(target uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur rounds;
  ids uuid[];
BEGIN
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

-- ---- the tally ----

-- The tally from the running totals, ranked by weight then votes (equal
-- pairs share a rank: 1, 1, 3), ties listed in topic creation order.
CREATE FUNCTION round_live_tally(r rounds, eligible integer, as_of timestamptz) RETURNS jsonb
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
    'round_id', r.id, 'status', round_status(r), 'closes_at', rfc3339(r.closes_at),
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

-- Stores the final tally of a round that has closed (explicitly, or by
-- the clock), exactly once: the row lock makes a concurrent closer wait
-- and then find the result already there. FOR UPDATE also waits for the
-- ballot transactions holding FOR KEY SHARE, so the result counts every
-- ballot accepted before the close and no later one.
CREATE FUNCTION round_freeze(round uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  members integer;
  frozen jsonb;
BEGIN
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

-- The round as it stands, frozen first if it has closed since anyone
-- last looked (the sweep job does the same for rounds nobody reads).
CREATE FUNCTION round_settled(r rounds) RETURNS rounds
LANGUAGE plpgsql AS $$
BEGIN
  IF r.result IS NULL AND (r.closed_at IS NOT NULL OR now() >= r.closes_at) THEN
    PERFORM round_freeze(r.id);
    SELECT * INTO r FROM rounds WHERE id = r.id;
  END IF;
  RETURN r;
END
$$;

CREATE FUNCTION round_close(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
BEGIN
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

CREATE FUNCTION round_sweep(batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  due uuid;
  n integer := 0;
BEGIN
  FOR due IN SELECT id FROM rounds WHERE result IS NULL AND closes_at <= now()
              ORDER BY closes_at LIMIT batch FOR UPDATE SKIP LOCKED LOOP
    PERFORM round_freeze(due);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- Members eligible to vote, recounted at most once a minute per round. A
-- request finding the recount under way serves the previous count rather
-- than wait for it; FOR NO KEY UPDATE leaves ballots' FOR KEY SHARE alone.
CREATE FUNCTION round_eligible(r rounds) RETURNS integer
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
  SELECT eligible INTO n FROM rounds WHERE id = r.id;
  RETURN coalesce(n, member_count());
END
$$;

-- {etag, tally}. The ETag hashes everything in the tally but as_of, so it
-- changes exactly when a number, the status or a title does.
CREATE FUNCTION round_tally(target uuid) RETURNS jsonb
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
    t := jsonb_build_object('round_id', r.id, 'status', 'closed',
                            'closes_at', rfc3339(r.closes_at)) || (r.result - 'winners');
  ELSE
    t := round_live_tally(r, round_eligible(r), now());
  END IF;
  RETURN jsonb_build_object('etag', md5((t - 'as_of')::text), 'tally', t);
END
$$;

-- The open round closing soonest, if any.
CREATE FUNCTION round_current_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT id FROM rounds
   WHERE result IS NULL AND closed_at IS NULL AND closes_at > now() AND opens_at <= now()
   ORDER BY closes_at, seq LIMIT 1
$$;

CREATE FUNCTION round_current_tally() RETURNS jsonb
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

CREATE FUNCTION ballot_json(b ballots) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'round_id', b.round_id, 'topic_ids', to_jsonb(b.topic_ids), 'weight', b.weight,
    'updated_at', rfc3339(b.updated_at))
$$;

-- Refuses ballot changes unless the round is open.
CREATE FUNCTION round_check_open(r rounds) RETURNS void
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

-- The round a ballot write may change, share-locked so no freeze can
-- happen between the check and the commit (round_freeze waits for us).
-- A late ballot is refused before it takes the lock, so a crowd of them
-- cannot keep the freeze waiting.
CREATE FUNCTION round_for_ballot(target uuid, patron uuid, need_member boolean) RETURNS rounds
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  refusal text;
BEGIN
  SELECT * INTO r FROM rounds WHERE id = target;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
  refusal := CASE WHEN need_member THEN patron_vote_refusal(patron) END;
  IF refusal IS NOT NULL THEN
    RAISE EXCEPTION 'Only members may vote: %.', refusal USING ERRCODE = 'PT403';
  END IF;
  PERFORM round_check_open(r);
  SELECT * INTO r FROM rounds WHERE id = target FOR KEY SHARE;
  PERFORM round_check_open(r);
  RETURN r;
END
$$;

-- Moves one patron's ballot from (old_ids, old_w) to (new_ids, new_w) in
-- the totals; an empty list means no ballot. Topic rows are locked in
-- topic order, then the shard row, so ballots sharing a shard cannot
-- deadlock.
CREATE FUNCTION ballot_count(round uuid, patron uuid, old_ids uuid[], old_w integer,
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

CREATE FUNCTION ballot_check(r rounds, choice uuid[]) RETURNS void
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
-- finds and replaces the winner's.
CREATE FUNCTION ballot_put(round uuid, patron uuid, choice uuid[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r rounds := round_for_ballot(round, patron, true);
  w integer := patron_vote_weight(patron);
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

-- DELETE: withdrawing takes influence away and never adds it, so a patron
-- whose membership lapsed may still withdraw what they cast as a member.
CREATE FUNCTION ballot_delete(round uuid, patron uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old ballots;
BEGIN
  PERFORM round_for_ballot(round, patron, false);
  DELETE FROM ballots WHERE round_id = round AND patron_id = patron RETURNING * INTO old;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'You have no ballot in this round.' USING ERRCODE = 'PT404';
  END IF;
  PERFORM ballot_count(round, patron, old.topic_ids, old.weight, '{}', 0);
  RETURN to_jsonb(true);
END
$$;
