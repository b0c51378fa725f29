-- Baseline schema: tables, indexes, constraints and table options only.
-- Every function, trigger and view lives in sql/ and is (re)applied by
-- `patrond migrate` after the migrations. Money is always BIGINT minor
-- units. This file folds the history of the first fourteen migrations
-- (before any production install); like every migration it is never
-- edited once released: changes to tables go in a new numbered file.

-- ---- core: API keys, patrons, tiers, pledges, the payments ledger, the
-- audit trail and idempotency records ----

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope       text NOT NULL CHECK (scope IN ('admin', 'read')),
  key_hash    bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE patrons (
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email       text,
  name        text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  erased_at   timestamptz,
  CHECK (erased_at IS NOT NULL OR email IS NOT NULL)
);

CREATE UNIQUE INDEX patrons_email_key ON patrons (lower(email));

CREATE TABLE tiers (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency     char(3) NOT NULL,
  description  text,
  vote_weight  integer NOT NULL DEFAULT 1 CHECK (vote_weight BETWEEN 1 AND 1000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tiers_currency_amount ON tiers (currency, amount_minor);

-- customer_ref: the provider's customer, matched when an event names no
-- subscription (refunds, disputes). last_sequence: the provider's own
-- ordering stamp (Monobank's modifiedDate), so a late older event cannot
-- overrule a newer one. last_event_at / last_event_state: when the newest
-- event about the pledge's standing happened and what it said (active or
-- past_due), so the state follows the provider's order, not the order of
-- delivery.
-- Every renewal rewrites its pledge; room left on each page (fillfactor)
-- lets the new version stay beside the old one (a HOT update: no index
-- entries to add).
CREATE TABLE pledges (
  seq                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patron_id           uuid NOT NULL REFERENCES patrons (id),
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  currency            char(3) NOT NULL,
  interval            text NOT NULL CHECK (interval IN ('month', 'year', 'once')),
  provider            text NOT NULL,
  provider_ref        text,
  status              text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'active', 'past_due', 'canceled', 'expired')),
  current_period_end  timestamptz,
  tier_id             uuid REFERENCES tiers (id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  activated_at        timestamptz,
  canceled_at         timestamptz,
  customer_ref        text,
  last_sequence       bigint NOT NULL DEFAULT 0,
  last_event_at       timestamptz,
  last_event_state    text CHECK (last_event_state IN ('active', 'past_due'))
) WITH (fillfactor = 80);

CREATE UNIQUE INDEX pledges_provider_ref_key ON pledges (provider, provider_ref)
  WHERE provider_ref IS NOT NULL;
CREATE INDEX pledges_patron ON pledges (patron_id);
CREATE INDEX pledges_status ON pledges (status);
CREATE INDEX pledges_customer_ref ON pledges (provider, customer_ref)
  WHERE customer_ref IS NOT NULL;
-- checkout's expiry of abandoned pending pledges
CREATE INDEX pledges_pending_created ON pledges (created_at) WHERE status = 'pending';
-- The clock's sweep finds periods that ran out through these.
CREATE INDEX pledges_period_end ON pledges (current_period_end)
  WHERE status IN ('active', 'past_due');
CREATE INDEX pledges_once_unended ON pledges (activated_at)
  WHERE interval = 'once' AND current_period_end IS NULL;

-- A refund or dispute names the charge it concerns (refunds_payment_id);
-- a charge keeps the other id its refunds will name (charge_ref: Stripe's
-- payment_intent, for a charge booked under its invoice id).
CREATE TABLE payments (
  seq                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind                 text NOT NULL CHECK (kind IN ('charge', 'refund', 'dispute', 'dispute_won')),
  status               text NOT NULL DEFAULT 'succeeded' CHECK (status IN ('succeeded', 'failed')),
  amount_minor         bigint NOT NULL,
  currency             char(3) NOT NULL,
  provider             text NOT NULL,
  provider_payment_id  text NOT NULL,
  pledge_id            uuid REFERENCES pledges (id),
  patron_id            uuid REFERENCES patrons (id),
  occurred_at          timestamptz NOT NULL,
  failure_reason       text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  charge_ref           text,
  refunds_payment_id   uuid REFERENCES payments (id),
  UNIQUE (provider, provider_payment_id)
);

CREATE INDEX payments_pledge ON payments (pledge_id);
CREATE INDEX payments_patron ON payments (patron_id);
CREATE INDEX payments_charge_ref ON payments (provider, charge_ref) WHERE charge_ref IS NOT NULL;
CREATE INDEX payments_refunds ON payments (refunds_payment_id)
  WHERE refunds_payment_id IS NOT NULL;

-- Written by trigger (sql/90_audit.sql) for every write an admin makes.
CREATE TABLE audit_log (
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  actor       text NOT NULL,
  action      text NOT NULL,
  entity      text NOT NULL,
  entity_id   uuid,
  before      jsonb,
  after       jsonb,
  request_id  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_log_entity ON audit_log (entity_id);

-- Requests with an Idempotency-Key: the first response is replayed for 24 h.
-- A row with status NULL is a request still in flight.
CREATE TABLE idempotency_keys (
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  bytea NOT NULL,
  status        integer,
  content_type  text,
  body          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- ---- patron sign-in (magic links, sessions) and the e-mail outbox ----
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

-- ---- webhooks ----

-- Every verified delivery is recorded once per (provider, event_key).
-- The raw payload is kept byte for byte (bytea: a verified body need not
-- be valid UTF-8) so a failed event can be parsed again after a fix.
-- `headers` holds only the few non-secret headers a parser reads.
-- `adjusted`: what a confirming event changed in the pledge's figures,
-- {from, to}.
CREATE TABLE webhook_events (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider     text NOT NULL,
  event_key    text NOT NULL,
  type         text,
  status       text NOT NULL DEFAULT 'received'
               CHECK (status IN ('received', 'applied', 'failed', 'ignored')),
  reason       text,
  payload      bytea NOT NULL,
  headers      jsonb NOT NULL DEFAULT '{}',
  event        jsonb,
  pledge_id    uuid REFERENCES pledges (id),
  received_at  timestamptz NOT NULL DEFAULT now(),
  applied_at   timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  adjusted     jsonb,
  CONSTRAINT webhook_events_key UNIQUE (provider, event_key)
);

CREATE INDEX webhook_events_status ON webhook_events (status, seq);

-- ---- topics, voting rounds, ballots and their running tally ----

CREATE TABLE topics (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description  text CHECK (length(description) <= 5000),
  status       text NOT NULL DEFAULT 'proposed'
               CHECK (status IN ('proposed', 'open', 'covered', 'declined')),
  proposed_by  uuid REFERENCES patrons (id),
  covered_url  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT topics_covered_url CHECK ((status = 'covered') = (covered_url IS NOT NULL))
);

CREATE INDEX topics_status ON topics (status);
CREATE INDEX topics_proposals ON topics (proposed_by) WHERE status = 'proposed';

-- `closed_at` and `result` are written together, once, by round_freeze().
-- `eligible`/`eligible_at` cache the member count while the round runs.
CREATE TABLE rounds (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  opens_at     timestamptz NOT NULL,
  closes_at    timestamptz NOT NULL,
  max_choices  integer NOT NULL DEFAULT 1 CHECK (max_choices BETWEEN 1 AND 50),
  closed_at    timestamptz,
  result       jsonb,
  eligible     integer,
  eligible_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (closes_at > opens_at)
);

CREATE INDEX rounds_unfrozen ON rounds (closes_at) WHERE result IS NULL;

CREATE TABLE round_topics (
  round_id  uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  topic_id  uuid NOT NULL REFERENCES topics (id),
  position  integer NOT NULL,
  PRIMARY KEY (round_id, topic_id)
);

CREATE INDEX round_topics_topic ON round_topics (topic_id);

-- Running totals, kept by the ballot transactions so a tally reads
-- O(topics × shards) rows however many ballots there are. Each patron
-- always lands in the same shard (vote_shard), so concurrent voters spread
-- over several rows instead of queueing on one per topic and per round.
-- Half-empty pages keep their constant rewrites HOT.
CREATE TABLE round_topic_totals (
  round_id  uuid NOT NULL,
  topic_id  uuid NOT NULL,
  shard     smallint NOT NULL,
  votes     integer NOT NULL DEFAULT 0,
  weight    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (round_id, topic_id, shard),
  FOREIGN KEY (round_id, topic_id) REFERENCES round_topics ON DELETE CASCADE
) WITH (fillfactor = 50);

CREATE TABLE round_shards (
  round_id      uuid NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  shard         smallint NOT NULL,
  voters        integer NOT NULL DEFAULT 0,
  total_weight  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (round_id, shard)
) WITH (fillfactor = 50);

-- A ballot keeps the weight it was cast with, so replacing or withdrawing
-- it takes exactly that weight back out of the totals.
-- No foreign key to rounds: rounds are never deleted, and ballot_put
-- checks the round exists under the round's advisory lock, so a key would
-- add nothing but contention (every ballot share-locking its round's row).
CREATE TABLE ballots (
  round_id    uuid NOT NULL,
  patron_id   uuid NOT NULL REFERENCES patrons (id),
  topic_ids   uuid[] NOT NULL,
  weight      integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, patron_id)
);

CREATE INDEX ballots_patron ON ballots (patron_id);
