-- Patrons and tiers: JSON, search, guarded updates and GDPR erasure.
-- Messages of PTnnn exceptions reach the client as the problem's detail.

-- The language of PATROND_LANGUAGES' default reaches every session as
-- patrond.default_language (api/db/conn.c); sessions without it (psql)
-- get the default's default.
CREATE OR REPLACE FUNCTION default_language() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('patrond.default_language', true), ''), 'uk')
$$;

-- `locale`: the language of the patron's mails; a patron who never chose
-- one gets the default language.
CREATE OR REPLACE FUNCTION patron_json(p patrons) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'email', p.email, 'name', p.name,
    'locale', coalesce(p.locale, default_language()),
    'status', patron_status(p.id),
    'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at),
    'erased_at', rfc3339(p.erased_at))
$$;

CREATE OR REPLACE FUNCTION tier_json(t tiers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'name', t.name, 'amount_minor', t.amount_minor, 'currency', t.currency,
    'description', t.description, 'vote_weight', t.vote_weight,
    'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;

-- The list filters of GET /v1/patrons; a NULL argument does not filter.
CREATE OR REPLACE FUNCTION patron_matches(p patrons, q text, want_status text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT (q IS NULL OR coalesce(p.email ILIKE like_substring(q) ESCAPE '\'
                                 OR p.name ILIKE like_substring(q) ESCAPE '\', false))
     AND (want_status IS NULL OR patron_status(p.id) = want_status)
$$;

-- PATCH: only the keys present in `patch` change. An erased patron stays
-- erased; writing personal data back into it would undo the erasure.
CREATE OR REPLACE FUNCTION patron_update(target uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur patrons;
BEGIN
  SELECT * INTO cur FROM patrons WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such patron.' USING ERRCODE = 'PT404';
  END IF;
  IF cur.erased_at IS NOT NULL THEN
    RAISE EXCEPTION 'The patron has been erased; their personal data can no longer change.'
      USING ERRCODE = 'PT409';
  END IF;
  UPDATE patrons p SET
    email = CASE WHEN patch ? 'email' THEN patch->>'email' ELSE p.email END,
    name = CASE WHEN patch ? 'name' THEN patch->>'name' ELSE p.name END,
    locale = CASE WHEN patch ? 'locale' THEN patch->>'locale' ELSE p.locale END,
    updated_at = now()
  WHERE p.id = target
  RETURNING * INTO cur;
  RETURN patron_json(cur);
END
$$;

-- GDPR erasure (SPEC §4): personal fields go, the ledger stays. The row
-- update fires the audit trigger, whose `before` still holds the e-mail
-- and name, so the audit trail is scrubbed afterwards, in the same
-- transaction. Erasing twice is harmless: the second call only re-scrubs.
CREATE OR REPLACE FUNCTION patron_erase(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  already timestamptz;
BEGIN
  SELECT erased_at INTO already FROM patrons WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such patron.' USING ERRCODE = 'PT404';
  END IF;
  IF already IS NULL THEN
    UPDATE patrons
       SET email = NULL, name = NULL, erased_at = now(), updated_at = now()
     WHERE id = target;
  END IF;
  UPDATE audit_log
     SET before = before - 'email' - 'name', after = after - 'email' - 'name'
   WHERE entity = 'patrons' AND entity_id = target
     AND (before ?| ARRAY['email', 'name'] OR after ?| ARRAY['email', 'name']);
  -- A stored reply would replay their e-mail after erasure: the reply that
  -- created them now replays the erased record (the key keeps its one
  -- effect), and any other reply mentioning them is forgotten.
  UPDATE idempotency_keys
     SET body = (SELECT patron_json(p)::text FROM patrons p WHERE p.id = target)
   WHERE strpos(body, target::text) > 0 AND content_type = 'application/json'
     AND body::jsonb ->> 'id' = target::text;
  DELETE FROM idempotency_keys
   WHERE strpos(body, target::text) > 0
     AND NOT (content_type = 'application/json' AND body::jsonb ->> 'id' = target::text);
  RETURN to_jsonb(true);
END
$$;

