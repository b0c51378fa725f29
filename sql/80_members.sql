-- Members (SPEC §3, §4 Membership): sign-in by magic link, sessions, a
-- patron's own view of their membership, self-service export and erasure.
-- Tokens reach these functions already hashed; only a magic link's outbox
-- message carries the token itself, since the patron needs it in the mail.
-- Erasure and export cover everything stored about a patron, ballots,
-- proposals and providers' webhook payloads included.

-- GET /v1/me: pledges and payments as sql/79_self_service.sql shows them.
CREATE OR REPLACE FUNCTION member_json(pa patrons) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('patron', patron_json(pa),
                            'locale', coalesce(pa.locale, default_language()))
    || member_self_service(pa.id)
    || patron_membership(pa.id)
$$;

-- PATCH /v1/me {"locale"}: the language of the patron's mails, chosen on
-- /members; answers the /v1/me body.
CREATE OR REPLACE FUNCTION member_set_locale(patron uuid, lang text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  pa patrons;
BEGIN
  UPDATE patrons SET locale = lang, updated_at = now()
   WHERE id = patron AND erased_at IS NULL
  RETURNING * INTO pa;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such patron.' USING ERRCODE = 'PT404';
  END IF;
  RETURN member_json(pa);
END
$$;

-- POST /v1/auth/magic-link. Does nothing visible for an unknown or erased
-- address, or past 5 links in 15 minutes: the caller answers 202 either way.
-- The patron row is locked so concurrent requests cannot overrun the limit.
-- `lang` (the form's language, NULL when the form sent none) becomes the
-- patron's locale, so this mail and the later ones are in it.
CREATE OR REPLACE FUNCTION magic_link_request(addr text, link_hash bytea, link text, lang text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  target patrons;
  recent integer;
BEGIN
  -- Only a transaction that wrote would wait for the WAL flush, and that
  -- wait would tell known addresses from unknown ones by timing. A link
  -- lost in a crash costs the patron one more request.
  PERFORM set_config('synchronous_commit', 'off', true);
  SELECT * INTO target FROM patrons
   WHERE lower(email) = lower(addr) AND erased_at IS NULL
   FOR NO KEY UPDATE;
  SELECT count(*) INTO recent FROM magic_links
   WHERE patron_id = target.id AND created_at > now() - interval '15 minutes';
  IF target.id IS NULL OR recent >= 5 THEN
    RETURN;
  END IF;
  UPDATE patrons SET locale = lang
   WHERE id = target.id AND lang IS NOT NULL AND locale IS DISTINCT FROM lang;
  INSERT INTO magic_links (patron_id, token_hash, expires_at)
  VALUES (target.id, link_hash, now() + interval '15 minutes');
  PERFORM outbox_enqueue_mail(target.id, 'magic_link', jsonb_build_object('link', link));
END
$$;

-- POST /v1/auth/session: spends the magic link and opens a 30-day session.
-- NULL when the link is unknown, used, expired or its patron erased. Of two
-- concurrent exchanges of one link, the second waits on the row lock and
-- then no longer finds it unused.
CREATE OR REPLACE FUNCTION session_open(link_hash bytea, session_hash bytea) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  who uuid;
  s sessions;
BEGIN
  UPDATE magic_links m SET used_at = now()
    FROM patrons p
   WHERE m.token_hash = link_hash AND m.used_at IS NULL AND m.expires_at > now()
     AND p.id = m.patron_id AND p.erased_at IS NULL
  RETURNING m.patron_id INTO who;
  IF who IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO sessions (patron_id, token_hash, expires_at)
  VALUES (who, session_hash, now() + interval '30 days')
  RETURNING * INTO s;
  RETURN jsonb_build_object('expires_at', rfc3339(s.expires_at),
                            'patron', (SELECT patron_json(p) FROM patrons p WHERE p.id = who));
END
$$;

-- What GET /v1/me/export adds to the admin export (db_patron_export):
-- sign-in metadata (never token hashes) and the mail we sent them.
CREATE OR REPLACE FUNCTION member_export_extra(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'membership', patron_membership(patron),
    'sessions', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'id', s.id, 'created_at', rfc3339(s.created_at),
               'expires_at', rfc3339(s.expires_at), 'revoked_at', rfc3339(s.revoked_at))
             ORDER BY s.created_at, s.id)
        FROM sessions s WHERE s.patron_id = patron), '[]'::jsonb),
    'magic_links', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'id', m.id, 'created_at', rfc3339(m.created_at),
               'expires_at', rfc3339(m.expires_at), 'used_at', rfc3339(m.used_at))
             ORDER BY m.created_at, m.id)
        FROM magic_links m WHERE m.patron_id = patron), '[]'::jsonb),
    'messages', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'id', o.id, 'kind', o.kind, 'to_address', o.to_address, 'subject', o.subject,
               'body', redact_link_token(o.body), 'locale', o.locale,
               'params', CASE WHEN o.params ? 'link'
                              THEN jsonb_set(o.params, '{link}',
                                             to_jsonb(redact_link_token(o.params->>'link')))
                              ELSE o.params END,
               'created_at', rfc3339(o.created_at),
               'attempts', o.attempts, 'sent_at', rfc3339(o.sent_at),
               'last_error', o.last_error)
             ORDER BY o.seq)
        FROM outbox o WHERE o.patron_id = patron), '[]'::jsonb))
$$;

-- Ballots in rounds still open are withdrawn (a closed round's frozen
-- result never changes); ballots in closed rounds stay, as counted.
CREATE OR REPLACE FUNCTION patron_withdraw_open_ballots(patron uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  b ballots;
BEGIN
  FOR b IN SELECT bl.* FROM ballots bl JOIN rounds r ON r.id = bl.round_id
            WHERE bl.patron_id = patron AND r.result IS NULL AND round_status(r) = 'open'
            ORDER BY bl.round_id
  LOOP
    PERFORM ballot_delete(b.round_id, patron);
  END LOOP;
END
$$;

-- Webhook records hold the e-mail and name the provider sent: their raw
-- payload is dropped and the parsed event keeps only what the ledger needs.
CREATE OR REPLACE FUNCTION patron_scrub_webhooks(patron uuid, old_email text) RETURNS void
LANGUAGE sql AS $$
  UPDATE webhook_events e
     SET payload = ''::bytea,
         headers = '{}'::jsonb,
         event = e.event - 'email' - 'name'
   WHERE e.pledge_id IN (SELECT id FROM pledges WHERE patron_id = patron)
      OR (old_email IS NOT NULL AND lower(e.event ->> 'email') = lower(old_email))
$$;

-- DELETE /v1/me: the admin erasure plus everything sign-in and mail keep.
-- Unsent mail is dropped so nothing reaches the address afterwards; sent
-- mail keeps only its kind and times; ballots in open rounds are withdrawn
-- and providers' payloads scrubbed. Idempotent, like patron_erase().
CREATE OR REPLACE FUNCTION member_erase(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old_email text;
BEGIN
  SELECT email INTO old_email FROM patrons WHERE id = target;
  PERFORM patron_withdraw_open_ballots(target);
  PERFORM patron_erase(target);
  PERFORM patron_scrub_webhooks(target, old_email);
  UPDATE sessions SET revoked_at = now() WHERE patron_id = target AND revoked_at IS NULL;
  DELETE FROM magic_links WHERE patron_id = target AND used_at IS NULL;
  DELETE FROM outbox WHERE patron_id = target AND sent_at IS NULL;
  UPDATE outbox SET to_address = NULL, subject = '', body = '', params = NULL, last_error = NULL
   WHERE patron_id = target
     AND (to_address IS NOT NULL OR body <> '' OR subject <> '' OR params IS NOT NULL);
  RETURN to_jsonb(true);
END
$$;

CREATE OR REPLACE FUNCTION patron_votes_json(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'ballots', coalesce((SELECT jsonb_agg(ballot_json(b) ORDER BY b.created_at)
                           FROM ballots b WHERE b.patron_id = patron), '[]'::jsonb),
    'proposed_topics', coalesce((SELECT jsonb_agg(topic_json(t) ORDER BY t.created_at)
                                   FROM topics t WHERE t.proposed_by = patron), '[]'::jsonb))
$$;

-- Everything export adds beyond the admin record: sign-in, mail and
-- votes.
CREATE OR REPLACE FUNCTION member_export_all(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT member_export_extra(patron) || patron_votes_json(patron)
$$;

