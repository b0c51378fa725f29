-- Core schema: API keys, patrons, tiers, pledges, the payments ledger, the
-- audit trail and idempotency records. Money is always BIGINT minor units.

CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

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
  canceled_at         timestamptz
);
CREATE UNIQUE INDEX pledges_provider_ref_key ON pledges (provider, provider_ref)
  WHERE provider_ref IS NOT NULL;
CREATE INDEX pledges_patron ON pledges (patron_id);
CREATE INDEX pledges_status ON pledges (status);

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
  UNIQUE (provider, provider_payment_id)
);
CREATE INDEX payments_pledge ON payments (pledge_id);
CREATE INDEX payments_patron ON payments (patron_id);

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

-- Every write made by an admin key is audited by trigger, so no code path
-- can forget it: the transaction names its actor in `patrond.actor`.
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER patrons_audit AFTER INSERT OR UPDATE OR DELETE ON patrons
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER tiers_audit AFTER INSERT OR UPDATE OR DELETE ON tiers
  FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER pledges_audit AFTER INSERT OR UPDATE OR DELETE ON pledges
  FOR EACH ROW EXECUTE FUNCTION audit_row();

-- Membership (SPEC §4): an active recurring pledge, a past_due one within
-- its 7-day grace, or a one-off pledge paid in the last 31 days.
CREATE FUNCTION pledge_is_membership(p pledges) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p.interval = 'once' THEN
      p.status IN ('active', 'past_due')
      AND coalesce(p.activated_at, p.created_at) > now() - interval '31 days'
    WHEN p.status = 'active' THEN true
    WHEN p.status = 'past_due' THEN
      p.current_period_end IS NULL OR p.current_period_end + interval '7 days' > now()
    ELSE false
  END
$$;

CREATE FUNCTION patron_status(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN bool_or(pledge_is_membership(p)) THEN 'member'
    WHEN bool_or(p.activated_at IS NOT NULL OR p.status IN ('active', 'past_due', 'canceled'))
      THEN 'lapsed'
    ELSE 'none'
  END
  FROM pledges p WHERE p.patron_id = patron
$$;

CREATE FUNCTION monthly_amount(p pledges) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p.interval WHEN 'year' THEN p.amount_minor / 12 ELSE p.amount_minor END
$$;

-- The pledge's tier: the explicit one, else the highest tier in its
-- currency that its monthly amount reaches.
CREATE FUNCTION pledge_tier(p pledges) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT coalesce(p.tier_id,
    (SELECT t.id FROM tiers t
      WHERE t.currency = p.currency AND t.amount_minor <= monthly_amount(p)
      ORDER BY t.amount_minor DESC, t.seq LIMIT 1))
$$;

CREATE FUNCTION patron_json(p patrons) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'email', p.email, 'name', p.name,
    'status', patron_status(p.id),
    'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at),
    'erased_at', rfc3339(p.erased_at))
$$;

CREATE FUNCTION tier_json(t tiers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'name', t.name, 'amount_minor', t.amount_minor, 'currency', t.currency,
    'description', t.description, 'vote_weight', t.vote_weight,
    'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;

CREATE FUNCTION pledge_json(p pledges) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'patron_id', p.patron_id, 'amount_minor', p.amount_minor,
    'currency', p.currency, 'interval', p.interval, 'provider', p.provider,
    'provider_ref', p.provider_ref, 'status', p.status,
    'current_period_end', rfc3339(p.current_period_end), 'tier_id', pledge_tier(p),
    'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at),
    'canceled_at', rfc3339(p.canceled_at))
$$;

CREATE FUNCTION payment_json(p payments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'kind', p.kind, 'status', p.status, 'amount_minor', p.amount_minor,
    'currency', p.currency, 'provider', p.provider,
    'provider_payment_id', p.provider_payment_id, 'pledge_id', p.pledge_id,
    'patron_id', p.patron_id, 'occurred_at', rfc3339(p.occurred_at),
    'failure_reason', p.failure_reason, 'created_at', rfc3339(p.created_at))
$$;

CREATE FUNCTION audit_json(a audit_log) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', a.id, 'actor', a.actor, 'action', a.action, 'entity', a.entity,
    'entity_id', a.entity_id, 'before', a.before, 'after', a.after,
    'request_id', a.request_id, 'created_at', rfc3339(a.created_at))
$$;
