-- Topics (SPEC §4 Topics): admins write any, members propose. PTnnn
-- messages reach the client as the problem's detail; a PT422 names the
-- offending request field in its CONSTRAINT, which becomes errors[].field.
-- Topics show whether a member proposed them, and only admins see which
-- patron did.

-- The admin's view. Patrons' own exports (member_export_all) use it too:
-- the patron named there is the reader themselves.
CREATE OR REPLACE FUNCTION topic_json(t topics) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'title', t.title, 'description', t.description, 'status', t.status,
    'proposed_by', t.proposed_by, 'proposed_by_member', t.proposed_by IS NOT NULL,
    'covered_url', t.covered_url,
    'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;

-- Everyone else's view: a reader's proposal must not tie them to the
-- topic for the whole internet to see.
CREATE OR REPLACE FUNCTION topic_view(t topics, admin boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN admin THEN topic_json(t) ELSE topic_json(t) - 'proposed_by' END
$$;

-- The published story's URL belongs to covered topics, and only to them.
CREATE OR REPLACE FUNCTION topic_check_covered(status text, url text) RETURNS void
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

CREATE OR REPLACE FUNCTION topic_create(title text, description text, status text, url text)
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
CREATE OR REPLACE FUNCTION topic_propose(patron uuid, title text, description text)
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
CREATE OR REPLACE FUNCTION topic_patch(target uuid, patch jsonb) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION topic_delete(target uuid) RETURNS jsonb
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

