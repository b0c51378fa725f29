-- Patron sign-in (magic links, sessions) and the e-mail outbox (SPEC §3).
-- Tokens are stored only as SHA-256.

CREATE TABLE magic_links (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patron_id   uuid NOT NULL REFERENCES patrons (id),
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX magic_links_patron ON magic_links (patron_id, created_at);

CREATE TABLE sessions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patron_id   uuid NOT NULL REFERENCES patrons (id),
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX sessions_patron ON sessions (patron_id);

-- One row per e-mail. The delivery job claims due rows with
-- FOR UPDATE SKIP LOCKED, so each is sent once however many instances run.
CREATE TABLE outbox (
  seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patron_id        uuid REFERENCES patrons (id),
  kind             text NOT NULL,
  to_address       text,
  subject          text NOT NULL,
  body             text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  last_error       text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Queues a message. Callers pass plain text; the delivery job frames it as
-- RFC 5322.
CREATE FUNCTION outbox_enqueue(patron uuid, kind text, to_address text, subject text, body text)
RETURNS uuid LANGUAGE sql AS $$
  INSERT INTO outbox (patron_id, kind, to_address, subject, body)
  VALUES (patron, kind, to_address, subject, body) RETURNING id
$$;
