-- Topics show whether a member proposed them, and only admins see which
-- patron did (SPEC §4 Topics); webhook replays are audited (SPEC §4 Audit).

-- The admin's view. Patrons' own exports (0010) use it too: the patron
-- named there is the reader themselves.
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
CREATE FUNCTION topic_view(t topics, admin boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN admin THEN topic_json(t) ELSE topic_json(t) - 'proposed_by' END
$$;

-- An audit entry written by a function, for what the row trigger
-- (audit_row, 0001) cannot say: that a change was a replay, without
-- copying a webhook event's payload, which holds the payer's data. Like
-- the trigger, it records only what an admin key did.
CREATE FUNCTION audit_record(act text, ent text, target uuid, old jsonb, new jsonb)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO audit_log (actor, action, entity, entity_id, before, after, request_id)
  SELECT a.actor, act, ent, target, old, new,
         nullif(current_setting('patrond.request_id', true), '')
    FROM (SELECT current_setting('patrond.actor', true) AS actor) a
   WHERE a.actor <> ''
$$;

-- POST /v1/webhook-events/{id}/replay: webhook_replay (0005), audited
-- with the event as the API lists it, without payload or parsed event.
-- A refused replay raises, so it leaves no entry.
CREATE FUNCTION webhook_replay_audited(target uuid, key text, typ text, ev jsonb,
                                       parse_error text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old jsonb;
  result jsonb;
BEGIN
  SELECT webhook_event_json(e) INTO old FROM webhook_events e WHERE e.id = target FOR UPDATE;
  result := webhook_replay(target, key, typ, ev, parse_error);
  PERFORM audit_record('replay', 'webhook_events', target, old, result - 'event');
  RETURN result;
END
$$;
