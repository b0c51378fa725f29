-- Self-service pledges (SPEC §4c): what a patron sees of their pledges and
-- payments on GET /v1/me, and POST /v1/me/pledges/{id}/cancel. The cancel
-- is two calls around the provider's: me_pledge_cancel_target() before
-- it (no lock held while the provider answers), me_pledge_cancel() after
-- it succeeded, which records what the provider did.

-- How a pledge of `provider` is canceled: 'patrond' (patrond is the
-- authority), 'provider' (through the provider's API: the modules with a
-- `cancel` in api/providers/), else 'elsewhere' (the patron does it at the
-- provider, or the newsroom does).
CREATE OR REPLACE FUNCTION provider_cancel_mode(provider text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN provider IN ('manual', 'standard') THEN 'patrond'
    WHEN provider IN ('stripe', 'liqpay', 'wayforpay') THEN 'provider'
    ELSE 'elsewhere'
  END
$$;

-- The pledge's `cancelable`: 'no' once it ended, for a one-off, once an
-- end was asked for, and for a pending provider pledge (it has no
-- subscription at the provider yet, and one paid later must not land on a
-- canceled pledge); else how it is canceled. me_pledge_cancel_target
-- words the reasons for 'no'.
CREATE OR REPLACE FUNCTION pledge_cancelable(p pledges) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p.status IN ('canceled', 'expired') OR p.interval = 'once'
         OR p.cancel_requested_at IS NOT NULL THEN 'no'
    WHEN p.status = 'pending' AND provider_cancel_mode(p.provider) <> 'patrond' THEN 'no'
    -- no subscription to name to the provider: only the newsroom can help
    WHEN provider_cancel_mode(p.provider) = 'provider' AND p.provider_ref IS NULL THEN 'elsewhere'
    ELSE provider_cancel_mode(p.provider)
  END
$$;

-- The end of what the pledge paid for: its period end, or, when it paid
-- for no period (a manual pledge without one, an unpaid one), its end
-- once canceled, else now.
CREATE OR REPLACE FUNCTION pledge_effective_until(p pledges) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p.current_period_end > coalesce(p.canceled_at, now()) THEN p.current_period_end
              ELSE coalesce(p.canceled_at, now()) END
$$;

-- GET /v1/me's `pledges` and `payments` (the payments newest first, at
-- most 50): the patron's own view, without provider references.
CREATE OR REPLACE FUNCTION member_self_service(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'pledges', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'id', p.id, 'amount_minor', p.amount_minor, 'currency', p.currency,
               'interval', p.interval, 'provider', p.provider, 'status', p.status,
               'current_period_end', rfc3339(p.current_period_end),
               'created_at', rfc3339(p.created_at), 'canceled_at', rfc3339(p.canceled_at),
               'cancel_requested_at', rfc3339(p.cancel_requested_at),
               'cancelable', pledge_cancelable(p))
             ORDER BY p.seq)
        FROM pledges p WHERE p.patron_id = patron), '[]'::jsonb),
    'payments', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'id', x.id, 'kind', x.kind, 'amount_minor', x.amount_minor, 'currency', x.currency,
               'provider', x.provider, 'occurred_at', rfc3339(x.occurred_at),
               'pledge_id', x.pledge_id, 'failure_reason', x.failure_reason)
             ORDER BY x.occurred_at DESC, x.seq DESC)
        FROM (SELECT * FROM payments y WHERE y.patron_id = patron
               ORDER BY y.occurred_at DESC, y.seq DESC LIMIT 50) x), '[]'::jsonb))
$$;

-- What the cancel needs to know before it calls anyone: the patron's own
-- pledge (another's is PT404, as if it did not exist), how it is
-- canceled, and its subscription at the provider.
CREATE OR REPLACE FUNCTION me_pledge_cancel_target(patron uuid, pledge uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  p pledges;
BEGIN
  SELECT * INTO p FROM pledges WHERE id = pledge AND patron_id = patron;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such pledge' USING ERRCODE = 'PT404';
  END IF;
  RETURN jsonb_build_object(
    'provider', p.provider, 'provider_ref', p.provider_ref, 'status', p.status,
    'cancelable', pledge_cancelable(p), 'effective_until', rfc3339(pledge_effective_until(p)),
    'why_not', CASE
      WHEN p.status = 'canceled' THEN 'The pledge is already canceled.'
      WHEN p.status = 'expired' THEN 'The pledge expired without a payment.'
      WHEN p.interval = 'once' THEN 'A one-off gift has no further payments to cancel.'
      WHEN p.cancel_requested_at IS NOT NULL THEN
        format('Its cancellation was already asked for; it ends on %s.',
               rfc3339(pledge_effective_until(p)))
      WHEN p.status = 'pending' THEN
        'The pledge still waits for its first payment, and expires by itself without one.'
    END);
END
$$;

-- After the provider (or nobody, where patrond is the authority) agreed:
-- `ended` cancels the pledge now, otherwise it is marked as ending at its
-- period end and the provider's webhook cancels it then. A pledge that
-- moved meanwhile (its webhook came first) is left as it is. Returns
-- {status, effective_until, ballots_changed}.
CREATE OR REPLACE FUNCTION me_pledge_cancel(patron uuid, pledge uuid, ended boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  p pledges;
BEGIN
  SELECT * INTO p FROM pledges WHERE id = pledge AND patron_id = patron FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such pledge' USING ERRCODE = 'PT404';
  END IF;
  IF ended AND pledge_transition_ok(p.status, 'canceled') THEN
    UPDATE pledges SET status = 'canceled', canceled_at = coalesce(canceled_at, now()),
                       cancel_requested_at = coalesce(cancel_requested_at, now()),
                       updated_at = now()
     WHERE id = p.id RETURNING * INTO p;
  ELSIF NOT ended AND p.status IN ('active', 'past_due') THEN
    UPDATE pledges SET cancel_requested_at = coalesce(cancel_requested_at, now()),
                       updated_at = now()
     WHERE id = p.id RETURNING * INTO p;
  END IF;
  RETURN jsonb_build_object('status', p.status,
                            'effective_until', rfc3339(pledge_effective_until(p)),
                            'ballots_changed', patron_ballots_sync(patron));
END
$$;

-- A renewal paid after the patron asked for an end at the period end means
-- the subscription goes on (resumed at the provider: Stripe charges no
-- renewal while cancel_at_period_end holds), so the request is forgotten
-- and the pledge is cancelable again, with its grace back.
CREATE OR REPLACE FUNCTION pledges_renewal_forgets_cancel() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.cancel_requested_at := NULL;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER pledges_renewal_forgets_cancel BEFORE UPDATE OF current_period_end ON pledges
  FOR EACH ROW
  WHEN (OLD.cancel_requested_at IS NOT NULL AND NEW.status IN ('active', 'past_due')
        AND NEW.current_period_end > OLD.current_period_end)
  EXECUTE FUNCTION pledges_renewal_forgets_cancel();
