-- Members (SPEC §3, §4 Membership): sign-in by magic link, sessions, a
-- patron's own view of their membership, self-service export and erasure.
-- Tokens reach these functions already hashed; only a magic link's outbox
-- message carries the token itself, since the patron needs it in the mail.

-- Why a pledge makes its patron a member (NULL when it does not). Built on
-- pledge_is_membership() so the two can never disagree.
CREATE FUNCTION pledge_membership_reason(p pledges) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT pledge_is_membership(p) THEN NULL
    WHEN p.interval = 'once' THEN 'one-off pledge paid in the last 31 days'
    WHEN p.status = 'active' THEN
      'active ' || CASE p.interval WHEN 'year' THEN 'yearly' ELSE 'monthly' END || ' pledge'
    ELSE 'past_due pledge within the 7-day grace period'
  END
$$;

-- When the pledge stops making its patron a member unless a payment renews
-- it. NULL when it does not, or when no end is known: an active pledge
-- stays a membership until the provider says otherwise, even past a period
-- end whose renewal has not been reported yet.
CREATE FUNCTION pledge_membership_until(p pledges) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT pledge_is_membership(p) THEN NULL
    WHEN p.interval = 'once' THEN coalesce(p.activated_at, p.created_at) + interval '31 days'
    WHEN p.current_period_end + interval '7 days' > now() THEN
      p.current_period_end + interval '7 days'
  END
$$;

-- {member, member_reason, member_until} from the pledge that keeps the
-- patron a member longest (an open-ended one first).
CREATE FUNCTION patron_membership(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT jsonb_build_object('member', true,
                               'member_reason', pledge_membership_reason(p),
                               'member_until', rfc3339(pledge_membership_until(p)))
       FROM pledges p
      WHERE p.patron_id = patron AND pledge_is_membership(p)
      ORDER BY pledge_membership_until(p) DESC NULLS FIRST, p.status = 'active' DESC, p.seq
      LIMIT 1),
    jsonb_build_object('member', false, 'member_reason', 'no active pledge',
                       'member_until', NULL))
$$;

-- GET /v1/me
CREATE FUNCTION member_json(pa patrons) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'patron', patron_json(pa),
    'pledges', coalesce((SELECT jsonb_agg(pledge_json(pl) ORDER BY pl.seq)
                           FROM pledges pl WHERE pl.patron_id = pa.id), '[]'::jsonb))
    || patron_membership(pa.id)
$$;

-- POST /v1/auth/magic-link. Does nothing visible for an unknown or erased
-- address, or past 5 links in 15 minutes: the caller answers 202 either way.
-- The patron row is locked so concurrent requests cannot overrun the limit.
CREATE FUNCTION magic_link_request(addr text, link_hash bytea, link text) RETURNS void
LANGUAGE plpgsql AS $$
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
  INSERT INTO magic_links (patron_id, token_hash, expires_at)
  VALUES (target.id, link_hash, now() + interval '15 minutes');
  PERFORM outbox_enqueue(target.id, 'magic_link', target.email, 'Your sign-in link',
    format(E'Hello,\n\nfollow this link to sign in to your membership:\n\n%s\n\n'
           'It works once, for 15 minutes. If you did not ask to sign in, ignore this '
           'message; nothing changes without the link.\n', link));
END
$$;

-- POST /v1/auth/session: spends the magic link and opens a 30-day session.
-- NULL when the link is unknown, used, expired or its patron erased. Of two
-- concurrent exchanges of one link, the second waits on the row lock and
-- then no longer finds it unused.
CREATE FUNCTION session_open(link_hash bytea, session_hash bytea) RETURNS jsonb
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

-- A live magic token may sit in a message body; exports never show it.
CREATE FUNCTION redact_link_token(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT regexp_replace(body, 'token=[A-Za-z0-9_-]+', 'token=[redacted]', 'g')
$$;

-- What GET /v1/me/export adds to the admin export (db_patron_export):
-- sign-in metadata (never token hashes) and the mail we sent them.
CREATE FUNCTION member_export_extra(patron uuid) RETURNS jsonb
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
               'body', redact_link_token(o.body), 'created_at', rfc3339(o.created_at),
               'attempts', o.attempts, 'sent_at', rfc3339(o.sent_at),
               'last_error', o.last_error)
             ORDER BY o.seq)
        FROM outbox o WHERE o.patron_id = patron), '[]'::jsonb))
$$;

-- DELETE /v1/me: the admin erasure plus everything sign-in and mail keep.
-- Unsent mail is dropped so nothing reaches the address afterwards; sent
-- mail keeps only its kind and times. Idempotent, like patron_erase().
CREATE FUNCTION member_erase(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM patron_erase(target);
  UPDATE sessions SET revoked_at = now() WHERE patron_id = target AND revoked_at IS NULL;
  DELETE FROM magic_links WHERE patron_id = target AND used_at IS NULL;
  DELETE FROM outbox WHERE patron_id = target AND sent_at IS NULL;
  UPDATE outbox SET to_address = NULL, subject = '', body = '', last_error = NULL
   WHERE patron_id = target AND (to_address IS NOT NULL OR body <> '' OR subject <> '');
  RETURN to_jsonb(true);
END
$$;

-- Outbox delivery (api/jobs/outbox.c). A claimed message is leased for 5
-- minutes by pushing its next attempt out, so the claim commits at once
-- and no transaction stays open while the mail command runs.
CREATE FUNCTION outbox_claim() RETURNS SETOF outbox
LANGUAGE sql AS $$
  UPDATE outbox o SET next_attempt_at = now() + interval '5 minutes'
   WHERE o.id = (SELECT id FROM outbox
                  WHERE sent_at IS NULL AND next_attempt_at <= now()
                    AND to_address IS NOT NULL
                  ORDER BY next_attempt_at, seq
                  LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING o.*
$$;

-- Sent: a delivered sign-in link has done its job, so its token goes.
CREATE FUNCTION outbox_mark_sent(message uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL,
                    body = CASE WHEN kind = 'magic_link' THEN redact_link_token(body)
                                ELSE body END
   WHERE id = message AND sent_at IS NULL
$$;

-- Failed: retried after 30 s · 2^attempts, at most an hour.
CREATE FUNCTION outbox_mark_failed(message uuid, error text) RETURNS void
LANGUAGE sql AS $$
  UPDATE outbox SET attempts = attempts + 1, last_error = left(error, 1000),
                    next_attempt_at = now() + least(interval '30 seconds'
                                                    * power(2, least(attempts, 7)),
                                                    interval '1 hour')
   WHERE id = message AND sent_at IS NULL
$$;

-- A sign-in link not delivered within its 15 minutes would only be a dead
-- link in the patron's inbox: it is given up for good instead.
CREATE FUNCTION outbox_abandon_expired() RETURNS void
LANGUAGE sql AS $$
  UPDATE outbox SET next_attempt_at = 'infinity',
                    last_error = 'the sign-in link expired before it could be delivered'
   WHERE sent_at IS NULL AND next_attempt_at <= now() AND kind = 'magic_link'
     AND created_at < now() - interval '15 minutes'
$$;
