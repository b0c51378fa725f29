-- Outbound webhooks (SPEC §4b): the newsroom's endpoints, the deliveries
-- queued for them in the transaction of the change they announce (a
-- transactional outbox), and what the emitting triggers remember between
-- transactions. Functions and triggers live in sql/87_outbound_webhooks.sql.

-- `secret` signs every delivery; after a rotation `previous_secret` signs
-- alongside it until `previous_expires_at`. Both are kept in clear: a
-- signature needs the key itself. `failing_since`: the first failed attempt
-- with no success after it (5 days of that disables the endpoint).
CREATE TABLE webhook_endpoints (
  seq                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url                  text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
  events               text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 64),
  description          text CHECK (length(description) <= 2000),
  enabled              boolean NOT NULL DEFAULT true,
  secret               text NOT NULL,
  previous_secret      text,
  previous_expires_at  timestamptz,
  failing_since        timestamptz,
  disabled_reason      text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per (event, endpoint). `payload` is the whole body
-- {"type", "timestamp", "data"}; its id is the webhook-id of every attempt.
-- `locked_until`: the lease of the instance sending it now (a killed
-- instance's lease runs out and another takes it over). `patron_id`: whose
-- personal data the payload may hold, for erasure.
CREATE TABLE webhook_deliveries (
  seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_type        text NOT NULL,
  patron_id         uuid,
  payload           jsonb NOT NULL,
  status            text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  last_status_code  integer,
  last_error        text,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  locked_until      timestamptz,
  last_attempt_at   timestamptz,
  delivered_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_patron ON webhook_deliveries (patron_id)
  WHERE patron_id IS NOT NULL;

-- Membership is decided by the clock, so "became a member" and "stopped
-- being one" are noticed by comparing with what was last announced (kept
-- while an endpoint listens to member events; its baseline is taken when
-- the first one starts listening).
-- `until`: when the membership runs out unless something renews it (NULL:
-- open-ended), which lets the clock's sweep look only at those due.
CREATE TABLE webhook_member_state (
  patron_id  uuid PRIMARY KEY REFERENCES patrons (id),
  member     boolean NOT NULL,
  until      timestamptz,
  changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_member_state_due ON webhook_member_state (until) WHERE member;

-- A round opens by the clock: which rounds' opening (and closing) has been
-- announced, so each is announced once however many instances look.
CREATE TABLE webhook_round_marks (
  round_id  uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  event     text NOT NULL CHECK (event IN ('round.opened', 'round.closed')),
  PRIMARY KEY (round_id, event)
);

-- The rounds already open or closed were announced to no one; they are not
-- announced now either.
INSERT INTO webhook_round_marks (round_id, event)
SELECT id, 'round.opened' FROM rounds WHERE opens_at <= now();
INSERT INTO webhook_round_marks (round_id, event)
SELECT id, 'round.closed' FROM rounds WHERE result IS NOT NULL;
