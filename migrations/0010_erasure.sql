-- Erasure and export cover everything later migrations store about a
-- patron: ballots and proposals (0007) and providers' webhook payloads (0005).

-- Ballots in rounds still open are withdrawn (a closed round's frozen
-- result never changes); ballots in closed rounds stay, as counted.
CREATE FUNCTION patron_withdraw_open_ballots(patron uuid) RETURNS void
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
CREATE FUNCTION patron_scrub_webhooks(patron uuid, old_email text) RETURNS void
LANGUAGE sql AS $$
  UPDATE webhook_events e
     SET payload = ''::bytea,
         headers = '{}'::jsonb,
         event = e.event - 'email' - 'name'
   WHERE e.pledge_id IN (SELECT id FROM pledges WHERE patron_id = patron)
      OR (old_email IS NOT NULL AND lower(e.event ->> 'email') = lower(old_email))
$$;

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
  UPDATE outbox SET to_address = NULL, subject = '', body = '', last_error = NULL
   WHERE patron_id = target AND (to_address IS NOT NULL OR body <> '' OR subject <> '');
  RETURN to_jsonb(true);
END
$$;

CREATE FUNCTION patron_votes_json(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'ballots', coalesce((SELECT jsonb_agg(ballot_json(b) ORDER BY b.created_at)
                           FROM ballots b WHERE b.patron_id = patron), '[]'::jsonb),
    'proposed_topics', coalesce((SELECT jsonb_agg(topic_json(t) ORDER BY t.created_at)
                                   FROM topics t WHERE t.proposed_by = patron), '[]'::jsonb))
$$;

-- Everything export adds beyond the admin record: sign-in, mail (0006) and
-- votes.
CREATE FUNCTION member_export_all(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT member_export_extra(patron) || patron_votes_json(patron)
$$;
