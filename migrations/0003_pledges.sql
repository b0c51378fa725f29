-- Pledge state machine (SPEC §4): pending -> active <-> past_due -> canceled,
-- pending -> expired; pending and active may also be canceled directly.
CREATE FUNCTION pledge_transition_ok(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT from_status = to_status OR (from_status, to_status) IN (
    ('pending', 'active'), ('pending', 'expired'), ('pending', 'canceled'),
    ('active', 'past_due'), ('active', 'canceled'),
    ('past_due', 'active'), ('past_due', 'canceled'))
$$;

-- Applies an admin patch (keys already validated by the server) under a
-- row lock, so two concurrent transitions cannot both pass the check.
CREATE FUNCTION pledge_patch(pledge uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  cur pledges;
  next_status text;
BEGIN
  SELECT * INTO cur FROM pledges WHERE id = pledge FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such pledge' USING ERRCODE = 'PT404';
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
  RETURN pledge_json(cur);
END
$$;
