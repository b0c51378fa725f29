-- Pledges: their JSON, tier, state machine and the admin's writes;
-- payments' JSON and net amounts. Money is always BIGINT minor units.
-- Messages of PTnnn exceptions reach the client as the problem's detail.

CREATE OR REPLACE FUNCTION monthly_amount(p pledges) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p.interval WHEN 'year' THEN p.amount_minor / 12 ELSE p.amount_minor END
$$;

-- The pledge's tier: the explicit one, else the highest tier in its
-- currency that its monthly amount reaches.
CREATE OR REPLACE FUNCTION pledge_tier(p pledges) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT coalesce(p.tier_id,
    (SELECT t.id FROM tiers t
      WHERE t.currency = p.currency AND t.amount_minor <= monthly_amount(p)
      ORDER BY t.amount_minor DESC, t.seq LIMIT 1))
$$;

CREATE OR REPLACE FUNCTION pledge_json(p pledges) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'patron_id', p.patron_id, 'amount_minor', p.amount_minor,
    'currency', p.currency, 'interval', p.interval, 'provider', p.provider,
    'provider_ref', p.provider_ref, 'status', p.status,
    'current_period_end', rfc3339(p.current_period_end), 'tier_id', pledge_tier(p),
    'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at),
    'canceled_at', rfc3339(p.canceled_at))
$$;

CREATE OR REPLACE FUNCTION payment_json(p payments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'kind', p.kind, 'status', p.status, 'amount_minor', p.amount_minor,
    'currency', p.currency, 'provider', p.provider,
    'provider_payment_id', p.provider_payment_id, 'pledge_id', p.pledge_id,
    'patron_id', p.patron_id, 'occurred_at', rfc3339(p.occurred_at),
    'failure_reason', p.failure_reason, 'created_at', rfc3339(p.created_at))
$$;

-- Pledge state machine (SPEC §4): pending -> active <-> past_due -> canceled,
-- pending -> expired; pending and active may also be canceled directly.
CREATE OR REPLACE FUNCTION pledge_transition_ok(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT from_status = to_status OR (from_status, to_status) IN (
    ('pending', 'active'), ('pending', 'expired'), ('pending', 'canceled'),
    ('active', 'past_due'), ('active', 'canceled'),
    ('past_due', 'active'), ('past_due', 'canceled'))
$$;

-- ---- pledges: the admin's writes ----

-- Applies an admin patch (keys already validated by the server) under a
-- row lock, so two concurrent transitions cannot both pass the check.
-- Only a manual pledge takes its figures from an admin (SPEC §4 Pledges):
-- a provider's pledge says what the provider confirmed.
CREATE OR REPLACE FUNCTION pledge_patch(pledge uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur pledges;
  next_status text;
BEGIN
  SELECT * INTO cur FROM pledges WHERE id = pledge FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such pledge' USING ERRCODE = 'PT404';
  END IF;
  IF cur.provider <> 'manual' AND patch ? 'amount_minor'
     AND (patch->>'amount_minor')::bigint <> cur.amount_minor THEN
    RAISE EXCEPTION 'is what % confirmed; only manual pledges take it from an admin',
      cur.provider USING ERRCODE = 'PT422', CONSTRAINT = 'amount_minor';
  END IF;
  next_status := coalesce(patch->>'status', cur.status);
  IF NOT pledge_transition_ok(cur.status, next_status) THEN
    RAISE EXCEPTION 'a pledge cannot move from % to %', cur.status, next_status
      USING ERRCODE = 'PT409';
  END IF;
  UPDATE pledges p SET
    status = next_status,
    amount_minor = CASE WHEN patch ? 'amount_minor'
      THEN (patch->>'amount_minor')::bigint ELSE p.amount_minor END,
    current_period_end = CASE WHEN patch ? 'current_period_end'
      THEN (patch->>'current_period_end')::timestamptz ELSE p.current_period_end END,
    tier_id = CASE WHEN patch ? 'tier_id' THEN (patch->>'tier_id')::uuid ELSE p.tier_id END,
    provider_ref = CASE WHEN patch ? 'provider_ref'
      THEN patch->>'provider_ref' ELSE p.provider_ref END,
    activated_at = CASE WHEN next_status = 'active' AND p.activated_at IS NULL
      THEN now() ELSE p.activated_at END,
    canceled_at = CASE WHEN next_status = 'canceled' AND p.canceled_at IS NULL
      THEN now() ELSE p.canceled_at END,
    updated_at = now()
  WHERE p.id = pledge
  RETURNING * INTO cur;
  RETURN pledge_json(cur) || jsonb_build_object('ballots_changed',
                                                patron_ballots_sync(cur.patron_id));
END
$$;

-- POST /v1/pledges. NULL when the patron does not exist or is erased.
CREATE OR REPLACE FUNCTION pledge_create(patron uuid, amount bigint, cur text, every text, via text,
                              ref text, state text, period_end timestamptz, tier uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  p pledges;
BEGIN
  INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref,
                       status, current_period_end, tier_id, activated_at)
  SELECT id, amount, cur, every, via, ref, state, period_end, tier,
         CASE WHEN state = 'active' THEN now() END
    FROM patrons WHERE id = patron AND erased_at IS NULL
  RETURNING * INTO p;
  IF p.id IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN pledge_json(p) || jsonb_build_object('ballots_changed', patron_ballots_sync(patron));
END
$$;

-- What is left of a charge after the refunds and disputes against it.
CREATE OR REPLACE FUNCTION payment_net(charge uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT c.amount_minor + coalesce((SELECT sum(r.amount_minor) FROM payments r
                                     WHERE r.refunds_payment_id = c.id), 0)
    FROM payments c WHERE c.id = charge
$$;

-- The latest charge of the pledge that still pays for something, other
-- than `skip`.
CREATE OR REPLACE FUNCTION pledge_last_paying_charge(pledge uuid, skip uuid) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT max(c.occurred_at) FROM payments c
   WHERE c.pledge_id = pledge AND c.kind = 'charge' AND c.status = 'succeeded'
     AND c.id IS DISTINCT FROM skip AND payment_net(c.id) > 0
$$;

