-- The e-mail outbox (SPEC §3): one row per message, claimed by the
-- delivery job with FOR UPDATE SKIP LOCKED so each is sent once however
-- many instances run.

-- A live magic token may sit in a message body; exports never show it.
CREATE OR REPLACE FUNCTION redact_link_token(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT regexp_replace(body, 'token=[A-Za-z0-9_-]+', 'token=[redacted]', 'g')
$$;

-- Queues a message of plain text written by SQL (operational mail to the
-- newsroom); the delivery job frames it as RFC 5322. plpgsql, not sql:
-- see sql/00_common.sql.
CREATE OR REPLACE FUNCTION outbox_enqueue(patron uuid, kind text, to_address text, subject text,
                                          body text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  queued uuid;
BEGIN
  INSERT INTO outbox (patron_id, kind, to_address, subject, body)
  VALUES (patron, kind, to_address, subject, body) RETURNING id INTO queued;
  RETURN queued;
END
$$;

-- Queues a mail to a patron (SPEC §4c) as its kind, the patron's language
-- and its parameters; the delivery job renders it from the catalogue's
-- "mail" object when it sends (api/core/mail_text.c), so SQL holds no
-- text in any language. An erased patron has no address and gets nothing
-- (NULL).
CREATE OR REPLACE FUNCTION outbox_enqueue_mail(patron uuid, kind text, params jsonb)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  queued uuid;
BEGIN
  INSERT INTO outbox (patron_id, kind, to_address, subject, body, locale, params)
  SELECT p.id, kind, p.email, '', '', p.locale, params
    FROM patrons p WHERE p.id = patron AND p.email IS NOT NULL
  RETURNING id INTO queued;
  RETURN queued;
END
$$;

-- Outbox delivery (api/jobs/outbox.c). A claimed message is leased for 5
-- minutes by pushing its next attempt out, so the claim commits at once
-- and no transaction stays open while the mail command runs.
CREATE OR REPLACE FUNCTION outbox_claim() RETURNS SETOF outbox
LANGUAGE sql AS $$
  UPDATE outbox o SET next_attempt_at = now() + interval '5 minutes'
   WHERE o.id = (SELECT id FROM outbox
                  WHERE sent_at IS NULL AND next_attempt_at <= now()
                    AND to_address IS NOT NULL
                  ORDER BY next_attempt_at, seq
                  LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING o.*
$$;

-- Sent, with the text as rendered, so the outbox (and the patron's export)
-- shows what went out. A delivered sign-in link has done its job, so its
-- token goes.
CREATE OR REPLACE FUNCTION outbox_mark_sent(message uuid, sent_subject text, sent_body text)
RETURNS void LANGUAGE sql AS $$
  UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL,
                    subject = coalesce(sent_subject, subject),
                    body = CASE WHEN kind = 'magic_link'
                                THEN redact_link_token(coalesce(sent_body, body))
                                ELSE coalesce(sent_body, body) END,
                    params = CASE WHEN kind = 'magic_link' AND params ? 'link'
                                  THEN jsonb_set(params, '{link}',
                                                 to_jsonb(redact_link_token(params->>'link')))
                                  ELSE params END
   WHERE id = message AND sent_at IS NULL
$$;

-- Failed: retried after 30 s · 2^attempts, at most an hour.
CREATE OR REPLACE FUNCTION outbox_mark_failed(message uuid, error text) RETURNS void
LANGUAGE sql AS $$
  UPDATE outbox SET attempts = attempts + 1, last_error = left(error, 1000),
                    next_attempt_at = now() + least(interval '30 seconds'
                                                    * power(2, least(attempts, 7)),
                                                    interval '1 hour')
   WHERE id = message AND sent_at IS NULL
$$;

-- A sign-in link not delivered within its 15 minutes would only be a dead
-- link in the patron's inbox: it is given up for good instead.
CREATE OR REPLACE FUNCTION outbox_abandon_expired() RETURNS void
LANGUAGE sql AS $$
  UPDATE outbox SET next_attempt_at = 'infinity',
                    last_error = 'the sign-in link expired before it could be delivered'
   WHERE sent_at IS NULL AND next_attempt_at <= now() AND kind = 'magic_link'
     AND created_at < now() - interval '15 minutes'
$$;

