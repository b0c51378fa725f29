-- The audit trail (SPEC §4 Audit): written by trigger and by function,
-- read through audit_json.

-- A row as the API shows it: its times RFC 3339 UTC with Z (SPEC §2), not
-- jsonb's rendering of a timestamptz (microseconds, +00:00). Applied when
-- the trail is read, not by the trigger: an import writes a row per patron.
CREATE OR REPLACE FUNCTION audit_snapshot(r jsonb, rel oid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN rel IS NULL OR jsonb_typeof(r) <> 'object' THEN r ELSE (
    SELECT jsonb_object_agg(e.key, CASE
             WHEN a.atttypid = 'timestamptz'::regtype AND jsonb_typeof(e.value) = 'string'
             THEN to_jsonb(rfc3339((e.value #>> '{}')::timestamptz))
             ELSE e.value END)
      FROM jsonb_each(r) e
      LEFT JOIN pg_attribute a ON a.attrelid = rel AND a.attname = e.key AND NOT a.attisdropped)
  END
$$;

-- Every write made by an admin key is audited by trigger, so no code path
-- can forget it: the transaction names its actor in `patrond.actor`.
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor text := current_setting('patrond.actor', true);
BEGIN
  IF actor IS NULL OR actor = '' THEN
    RETURN NULL;
  END IF;
  INSERT INTO audit_log (actor, action, entity, entity_id, before, after, request_id)
  VALUES (actor,
          CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
          TG_TABLE_NAME,
          CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
          CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) - 'seq' END,
          CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) - 'seq' END,
          nullif(current_setting('patrond.request_id', true), ''));
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION audit_json(a audit_log) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', a.id, 'who', a.actor, 'actor', a.actor, 'action', a.action, 'entity', a.entity,
    'entity_id', a.entity_id,
    'before', audit_snapshot(a.before, to_regclass(a.entity)),
    'after', audit_snapshot(a.after, to_regclass(a.entity)),
    'request_id', a.request_id, 'created_at', rfc3339(a.created_at))
$$;

-- An audit entry written by a function, for what the row trigger
-- (audit_row) cannot say: that a change was a replay, without
-- copying a webhook event's payload, which holds the payer's data. Like
-- the trigger, it records only what an admin key did.
CREATE OR REPLACE FUNCTION audit_record(act text, ent text, target uuid, old jsonb, new jsonb)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO audit_log (actor, action, entity, entity_id, before, after, request_id)
  SELECT a.actor, act, ent, target, old, new,
         nullif(current_setting('patrond.request_id', true), '')
    FROM (SELECT current_setting('patrond.actor', true) AS actor) a
   WHERE a.actor <> ''
$$;

-- The audited tables.
CREATE OR REPLACE TRIGGER patrons_audit AFTER INSERT OR UPDATE OR DELETE ON patrons
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE OR REPLACE TRIGGER tiers_audit AFTER INSERT OR UPDATE OR DELETE ON tiers
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE OR REPLACE TRIGGER pledges_audit AFTER INSERT OR UPDATE OR DELETE ON pledges
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE OR REPLACE TRIGGER topics_audit AFTER INSERT OR UPDATE OR DELETE ON topics
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE OR REPLACE TRIGGER rounds_audit AFTER INSERT OR UPDATE OR DELETE ON rounds
  FOR EACH ROW EXECUTE FUNCTION audit_row();
