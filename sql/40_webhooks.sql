-- Webhooks (SPEC §4): every verified delivery is recorded once per
-- (provider, event_key) and applied to patrons, pledges and payments in the
-- same transaction. The server parses each provider's payload into one
-- provider-neutral event (jsonb: the fields of include/provider.h's struct
-- wh_event, absent when empty, `kind` in lower case); webhook_apply() maps
-- it onto the domain. What counts is what a provider confirmed and signed.
-- A paid invoice rewrites its pledge once (webhook_move writes everything
-- the caller changed), keeping each delivery to few and cheap statements.

CREATE OR REPLACE FUNCTION webhook_event_json(e webhook_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'provider', e.provider, 'event_key', e.event_key, 'type', e.type,
    'status', e.status, 'reason', e.reason, 'pledge_id', e.pledge_id,
    'adjusted', e.adjusted,
    'received_at', rfc3339(e.received_at), 'applied_at', rfc3339(e.applied_at),
    'attempts', e.attempts)
$$;

-- Money going back (refunds, disputes) may concern a pledge that has
-- ended since; it never creates one.
CREATE OR REPLACE FUNCTION webhook_money_back(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT kind IN ('payment_refunded', 'dispute_opened', 'dispute_won')
$$;

-- The pledge an event is about, locked: (a) our pledge id passed through
-- the provider, (b) the subscription (provider_ref), (c) the provider's
-- customer. A pledge found by customer must not belong to another
-- subscription, and only a live one is taken (unless money goes back): a
-- new subscription of a returning patron is a new pledge.
CREATE OR REPLACE FUNCTION webhook_find_pledge(via text, ev jsonb) RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  p pledges;
  sub text := ev->>'subscription_ref';
BEGIN
  IF ev ? 'pledge_id' THEN
    SELECT * INTO p FROM pledges
     WHERE id = (ev->>'pledge_id')::uuid AND provider = via FOR UPDATE;
    IF FOUND THEN
      RETURN p;
    END IF;
  END IF;
  IF sub IS NOT NULL THEN
    SELECT * INTO p FROM pledges WHERE provider = via AND provider_ref = sub FOR UPDATE;
    IF FOUND THEN
      RETURN p;
    END IF;
  END IF;
  SELECT * INTO p FROM pledges
   WHERE provider = via AND customer_ref = ev->>'customer_ref'
     AND (status IN ('pending', 'active', 'past_due') OR webhook_money_back(ev->>'kind'))
     AND (sub IS NULL OR provider_ref IS NULL)
   ORDER BY status = 'pending' DESC, seq DESC
   LIMIT 1 FOR UPDATE;
  RETURN p;
END
$$;

-- (d) the patron's own pledge with this provider, as (c) chooses. The
-- caller holds the patron's row lock when it may create a pledge, so two
-- deliveries for a new patron cannot both miss and both create.
CREATE OR REPLACE FUNCTION webhook_patron_pledge(via text, patron uuid, sub text, any_status boolean)
RETURNS pledges
LANGUAGE sql AS $$
  SELECT * FROM pledges
   WHERE patron_id = patron AND provider = via
     AND (status IN ('pending', 'active', 'past_due') OR any_status)
     AND (sub IS NULL OR provider_ref IS NULL OR provider_ref = sub)
   ORDER BY status = 'pending' DESC, seq DESC
   LIMIT 1 FOR UPDATE
$$;

-- The pledge of an event about an unknown subscription: found by the
-- patron's e-mail, else created with the status its kind implies (money
-- going back creates nothing). A concurrent delivery about the same
-- subscription may have created it first; the unique index then makes
-- this insert a no-op and the pledge is read back.
CREATE OR REPLACE FUNCTION webhook_patron_event_pledge(via text, ev jsonb) RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  kind text := ev->>'kind';
  sub text := ev->>'subscription_ref';
  patron uuid;
  p pledges;
BEGIN
  IF ev ? 'email' AND webhook_money_back(kind) THEN
    SELECT id INTO patron FROM patrons
     WHERE lower(email) = lower(ev->>'email') AND erased_at IS NULL;
  ELSIF ev ? 'email' THEN
    -- checkout_patron() (sql/50_checkout.sql) finds or creates the patron and
    -- locks its row; it is resolved when this runs, not when it is created.
    patron := checkout_patron(ev->>'email', ev->>'name');
  END IF;
  p := webhook_patron_pledge(via, patron, sub, webhook_money_back(kind));
  IF p.id IS NOT NULL THEN
    RETURN p;
  END IF;
  IF patron IS NULL OR webhook_money_back(kind) THEN
    RAISE EXCEPTION 'No pledge matches this event, and it cannot create one; replay it once the pledge exists.'
      USING ERRCODE = 'PT404';
  END IF;
  IF NOT (ev ? 'amount_minor' AND ev ? 'currency') THEN
    RAISE EXCEPTION 'No pledge matches this event, and it carries no amount and currency to create one from.'
      USING ERRCODE = 'PT422';
  END IF;
  INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref,
                       customer_ref, status, canceled_at)
  VALUES (patron, (ev->>'amount_minor')::bigint, ev->>'currency',
          coalesce(ev->>'interval', 'month'), via, sub, ev->>'customer_ref',
          CASE kind WHEN 'pledge_canceled' THEN 'canceled' ELSE 'pending' END,
          CASE kind WHEN 'pledge_canceled' THEN now() END)
  ON CONFLICT (provider, provider_ref) WHERE provider_ref IS NOT NULL DO NOTHING
  RETURNING * INTO p;
  IF p.id IS NULL THEN
    SELECT * INTO p FROM pledges WHERE provider = via AND provider_ref = sub FOR UPDATE;
  END IF;
  RETURN p;
END
$$;

-- Moves the pledge toward `target` (active, past_due, canceled) as far as
-- the state machine lets it. Canceled is final. Otherwise the newest
-- event by the provider's clock decides between active and past_due, so
-- a late older event does not undo a newer one; `stale` says the
-- provider's own stamp (Monobank's modifiedDate, finer than a second)
-- already found this event older. A pending pledge moves only on a sign
-- of payment, and then (through active) to what the newest event said: a
-- renewal's failure delivered before the first payment still ends
-- past_due. An expired pledge revives the same way, since expired only
-- ever meant "never paid". It also writes the period end and the
-- references the caller changed in p, so that webhook_apply and
-- webhook_paid need no UPDATE of their own.
CREATE OR REPLACE FUNCTION webhook_move(p pledges, target text, at timestamptz, stale boolean)
RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  newer boolean := target <> 'canceled' AND NOT stale
                   AND (p.last_event_at IS NULL OR at >= p.last_event_at);
  next text := CASE WHEN target = 'canceled' OR newer THEN target ELSE p.last_event_state END;
BEGIN
  IF NOT (p.status IN ('pending', 'expired') AND target = 'active')
     AND NOT pledge_transition_ok(p.status, next) THEN
    next := p.status;
  END IF;
  UPDATE pledges SET
    status = next,
    current_period_end = p.current_period_end,
    provider_ref = p.provider_ref,
    customer_ref = p.customer_ref,
    last_sequence = p.last_sequence,
    activated_at = CASE WHEN next IN ('active', 'past_due') THEN coalesce(activated_at, now())
                        ELSE activated_at END,
    canceled_at = CASE WHEN next = 'canceled' THEN coalesce(canceled_at, now()) ELSE canceled_at END,
    last_event_at = CASE WHEN newer THEN at ELSE last_event_at END,
    last_event_state = CASE WHEN newer THEN target ELSE last_event_state END,
    updated_at = now()
  WHERE id = p.id
  RETURNING * INTO p;
  RETURN p;
END
$$;

-- One ledger row; false when the provider's payment id is already there
-- (a payment reported by two event types, or twice), so its effects are
-- not repeated. A charge keeps the other id its refunds will name; money going back
-- names the charge it concerns.
CREATE OR REPLACE FUNCTION webhook_payment(p pledges, via text, ev jsonb, kind text,
                                           sign integer, outcome text, at timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  refunded uuid;
BEGIN
  IF NOT ev ? 'payment_id' THEN
    RAISE EXCEPTION 'The event carries no payment id.' USING ERRCODE = 'PT422';
  END IF;
  IF kind <> 'charge' AND NOT ev ? 'amount_minor' THEN
    RAISE EXCEPTION 'The event carries no amount.' USING ERRCODE = 'PT422';
  END IF;
  IF kind <> 'charge' THEN
    refunded := (webhook_refunded_charge(via, ev, p.id)).id;
  END IF;
  INSERT INTO payments (kind, status, amount_minor, currency, provider, provider_payment_id,
                        pledge_id, patron_id, occurred_at, failure_reason, charge_ref,
                        refunds_payment_id)
  VALUES (kind, outcome, sign * coalesce((ev->>'amount_minor')::bigint, p.amount_minor),
          coalesce(ev->>'currency', p.currency), via, ev->>'payment_id', p.id, p.patron_id, at,
          CASE WHEN outcome = 'failed'
               THEN coalesce(ev->>'reason', 'The provider gave no reason.') END,
          CASE WHEN kind = 'charge' THEN nullif(ev->>'charge_ref', ev->>'payment_id') END,
          refunded)
  ON CONFLICT (provider, provider_payment_id) DO NOTHING;
  RETURN FOUND;
END
$$;

-- A paid period: the provider's end, else the charge plus one interval.
CREATE OR REPLACE FUNCTION webhook_period_end(p pledges, ev jsonb, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN ev ? 'period_end' THEN greatest(p.current_period_end, (ev->>'period_end')::timestamptz)
    ELSE greatest(p.current_period_end, at + pledge_interval_length(p.interval))
  END
$$;

-- A successful charge, once per payment id: its mails, the paid period
-- (the later end wins, so the order of delivery does not matter), the
-- pledge's state, and then the refunds that were waiting for it.
CREATE OR REPLACE FUNCTION webhook_paid(p pledges, via text, ev jsonb, at timestamptz,
                                       stale boolean)
RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  early payments;
  c payments;
BEGIN
  -- A charge whose id is taken is a duplicate, unless a refund that came
  -- first took it: only then is there more to look up.
  IF NOT webhook_payment(p, via, ev, 'charge', 1, 'succeeded', at) THEN
    early := webhook_early_refund(via, ev->>'payment_id');
    IF early.id IS NULL OR NOT webhook_payment(p, via, ev, 'charge', 1, 'succeeded', at) THEN
      RETURN p;
    END IF;
  END IF;
  p.current_period_end := webhook_period_end(p, ev, at);
  PERFORM mail_paid(p, ev, at, p.current_period_end);
  p := webhook_waiting_refunds(webhook_move(p, 'active', at, stale), via, ev, at);
  IF early.id IS NULL THEN
    RETURN p;
  END IF;
  SELECT * INTO c FROM payments WHERE provider = via AND provider_payment_id = ev->>'payment_id';
  UPDATE payments SET refunds_payment_id = c.id WHERE id = early.id;
  RETURN webhook_money_back_applied(p, c);
END
$$;

-- A refund that came before its charge under the charge's own payment id
-- (a Standard Webhooks sender naming the payment it refunds, delivered
-- out of order) holds that id: it moves aside, to an id of its own, so
-- that the charge is booked rather than taken for a duplicate, and the
-- caller makes it the charge's refund.
CREATE OR REPLACE FUNCTION webhook_early_refund(via text, charge text) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  r payments;
BEGIN
  UPDATE payments x SET provider_payment_id = concat_ws(':', charge, x.kind, 'before-charge', x.seq)
   WHERE x.provider = via AND x.provider_payment_id = charge AND x.kind <> 'charge'
  RETURNING * INTO r;
  RETURN r;
END
$$;

-- ---- webhooks: the provider's figures win; money back pays for nothing ----

-- The confirmed figures of a provider's event, written into p (not yet
-- stored); NULL when nothing changes, else what changed, {from, to}.
CREATE OR REPLACE FUNCTION webhook_figures(INOUT p pledges, ev jsonb, OUT adjusted jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  before jsonb := jsonb_build_object('amount_minor', p.amount_minor, 'currency', p.currency,
                                     'interval', p.interval);
  after jsonb;
BEGIN
  IF ev ? 'amount_minor' AND ev ? 'currency' AND (ev->>'amount_minor')::bigint > 0 THEN
    p.amount_minor := (ev->>'amount_minor')::bigint;
    p.currency := ev->>'currency';
  END IF;
  IF ev->>'interval' IN ('month', 'year', 'once') THEN
    p.interval := ev->>'interval';
  END IF;
  after := jsonb_build_object('amount_minor', p.amount_minor, 'currency', p.currency,
                              'interval', p.interval);
  IF after <> before THEN
    adjusted := jsonb_build_object('from', before, 'to', after);
    -- the tier follows the money
    p.tier_id := NULL;
  END IF;
END
$$;

-- How long after it is made a charge may be paid: a SEPA or ACH debit
-- settles in up to 14 days; a monthly pledge's previous charge is older.
CREATE OR REPLACE FUNCTION webhook_charge_settles() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '15 days' $$;

-- The charge a refund or dispute concerns: the one it names, else the
-- pledge's latest charge. A refund that also says when its charge was
-- made names a charge whose own event may not have carried the reference
-- (a Stripe invoice since API 2025-03-31 names no payment intent): it is
-- the pledge's unreferenced charge paid nearest that time, from a day
-- before to webhook_charge_settles() after (a bank debit is paid days
-- after it is made), which from then on carries the reference. When its
-- charge was made after every charge booked, it has not arrived yet: the
-- refund waits for it (PT409, kept as failed, applied by
-- webhook_waiting_refunds when the charge is booked) instead of voiding an
-- earlier month. A time that fits no booked charge and is not newer than
-- them all (a charge from before patrond, say) leaves the latest.
CREATE OR REPLACE FUNCTION webhook_refunded_charge(via text, ev jsonb, pledge uuid) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  c payments;
  ref text := ev->>'charge_ref';
  made timestamptz := (ev->>'charge_occurred_at')::timestamptz;
BEGIN
  IF ref IS NOT NULL THEN
    SELECT * INTO c FROM payments
     WHERE provider = via AND kind = 'charge' AND status = 'succeeded'
       AND (provider_payment_id = ref OR charge_ref = ref)
     ORDER BY seq LIMIT 1;
    IF FOUND THEN
      RETURN c;
    END IF;
  END IF;
  IF ref IS NOT NULL AND made IS NOT NULL THEN
    SELECT * INTO c FROM payments
     WHERE pledge_id = pledge AND kind = 'charge' AND status = 'succeeded'
       AND charge_ref IS NULL
       AND occurred_at BETWEEN made - interval '1 day' AND made + webhook_charge_settles()
     ORDER BY abs(extract(epoch FROM occurred_at - made)), seq LIMIT 1;
    IF FOUND THEN
      UPDATE payments SET charge_ref = ref WHERE id = c.id RETURNING * INTO c;
      RETURN c;
    END IF;
  END IF;
  SELECT * INTO c FROM payments
   WHERE pledge_id = pledge AND kind = 'charge' AND status = 'succeeded'
   ORDER BY occurred_at DESC, seq DESC LIMIT 1;
  IF ref IS NOT NULL AND made > c.occurred_at + interval '1 day' THEN
    RAISE EXCEPTION 'The charge % this refund names has not arrived yet; the refund is applied when it does.', ref
      USING ERRCODE = 'PT409';
  END IF;
  RETURN c;
END
$$;

-- Refunds that arrived before the charge they name, kept failed (by
-- webhook_refunded_charge, or because their pledge did not exist yet), are
-- applied once the charge is booked: those naming it (as their charge, or
-- under its own payment id), and those of the same customer whose charge
-- could be this one by its time. A refund restating its charge books it
-- itself and never waits.
CREATE OR REPLACE FUNCTION webhook_waiting_refunds(p pledges, via text, ev jsonb, at timestamptz)
RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  waiting uuid;
  applied boolean := false;
BEGIN
  FOR waiting IN
    SELECT w.id FROM webhook_events w
     WHERE w.status = 'failed' AND w.provider = via
       AND w.event->>'kind' = 'payment_refunded' AND NOT w.event ? 'charge_amount_minor'
       AND (w.event->>'charge_ref' IN (ev->>'charge_ref', ev->>'payment_id')
            OR w.event->>'payment_id' = ev->>'payment_id'
            OR (w.event->>'customer_ref' = p.customer_ref
                AND (w.event->>'charge_occurred_at')::timestamptz
                    BETWEEN at - webhook_charge_settles() AND at + interval '1 day'))
     ORDER BY w.seq
  LOOP
    PERFORM webhook_process(waiting);
    applied := true;
  END LOOP;
  IF applied THEN
    SELECT * INTO p FROM pledges WHERE id = p.id;
  END IF;
  RETURN p;
END
$$;

-- Money went back on charge c (or came back, for a dispute won): what the
-- pledge has paid for follows. A one-off counts 31 days from its latest
-- charge that still pays. A recurring pledge whose latest paying charge
-- was voided is paid only up to that charge (the period before it, whose
-- renewal this was; nothing when it was the first) and turns past_due
-- until the provider's next event.
CREATE OR REPLACE FUNCTION webhook_money_back_applied(p pledges, c payments) RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  last_paid timestamptz;
BEGIN
  IF p.interval = 'once' THEN
    last_paid := pledge_last_paying_charge(p.id, NULL);
    p.current_period_end := last_paid + interval '31 days';
  ELSIF c.id IS NOT NULL AND payment_net(c.id) <= 0
        AND NOT EXISTS (SELECT 1 FROM payments x
                         WHERE x.pledge_id = p.id AND x.kind = 'charge'
                           AND x.status = 'succeeded' AND x.occurred_at > c.occurred_at) THEN
    last_paid := pledge_last_paying_charge(p.id, c.id);
    p.current_period_end := CASE WHEN last_paid IS NOT NULL
                                 THEN least(p.current_period_end, c.occurred_at) END;
    IF p.status = 'active' THEN
      p.status := 'past_due';
    END IF;
  ELSE
    RETURN p;
  END IF;
  UPDATE pledges SET current_period_end = p.current_period_end, status = p.status,
                     updated_at = now()
   WHERE id = p.id RETURNING * INTO p;
  RETURN p;
END
$$;

-- A refund, dispute or dispute won, once per payment id, with its effect
-- on what the pledge has paid for. One that names no charge but carries
-- a charge's own payment id (a Standard Webhooks sender reporting "payment
-- X was refunded") is that charge's: it gets an id of its own from its
-- event, whose key stays the same when the sender retries.
CREATE OR REPLACE FUNCTION webhook_refund(p pledges, via text, ev jsonb, kind text, sign integer,
                               at timestamptz) RETURNS pledges
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ev ? 'charge_ref' AND EXISTS (SELECT 1 FROM payments c
                                        WHERE c.provider = via AND c.kind = 'charge'
                                          AND c.provider_payment_id = ev->>'payment_id') THEN
    ev := ev || jsonb_build_object(
      'charge_ref', ev->>'payment_id',
      'payment_id', concat_ws(':', ev->>'payment_id', kind,
                              coalesce(ev->>'event_key', ev->>'occurred_at')));
  END IF;
  IF NOT webhook_payment(p, via, ev, kind, sign, 'succeeded', at) THEN
    RETURN p;
  END IF;
  RETURN webhook_money_back_applied(p, (SELECT c FROM payments c
                                          WHERE c.id = (SELECT refunds_payment_id FROM payments
                                                         WHERE provider = via
                                                           AND provider_payment_id = ev->>'payment_id')));
END
$$;

-- The refunds of one event. A provider that reports every refund of an
-- order in each delivery (Monobank's cancelList) lists them in `refunds`:
-- each is booked once by its own payment id, oldest first, so a refund
-- whose own delivery was lost, or coalesced into a later one, is booked
-- all the same.
CREATE OR REPLACE FUNCTION webhook_refunds(p pledges, via text, ev jsonb, at timestamptz)
RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
BEGIN
  IF NOT ev ? 'refunds' THEN
    RETURN webhook_refund(p, via, ev, 'refund', -1, at);
  END IF;
  FOR item IN SELECT r FROM jsonb_array_elements(ev->'refunds') r
               ORDER BY (r->>'occurred_at')::timestamptz NULLS LAST LOOP
    p := webhook_refund(p, via, (ev - 'refunds') || item, 'refund', -1,
                        coalesce((item->>'occurred_at')::timestamptz, at));
  END LOOP;
  RETURN p;
END
$$;

-- A refund that restates its charge (Monobank repeats the invoice) books
-- that charge first, once by its payment id, as the charge's own delivery
-- would have: a charge whose delivery was lost is not lost with it, and
-- the refund then voids the charge it names rather than the pledge's
-- latest. The pledge's figures stay as they are: the refund confirms none.
CREATE OR REPLACE FUNCTION webhook_restated_charge(p pledges, via text, ev jsonb, stale boolean)
RETURNS pledges
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (ev ? 'charge_amount_minor' AND ev ? 'charge_occurred_at' AND ev ? 'charge_ref') THEN
    RETURN p;
  END IF;
  RETURN webhook_paid(p, via,
                      ev - 'refunds' - 'period_end' || jsonb_build_object(
                        'payment_id', ev->'charge_ref', 'amount_minor', ev->'charge_amount_minor',
                        'occurred_at', ev->'charge_occurred_at'),
                      (ev->>'charge_occurred_at')::timestamptz, stale);
END
$$;

-- A refund naming a charge belongs to that charge's pledge, whatever
-- else the event says about subscriptions or customers.
CREATE OR REPLACE FUNCTION webhook_charge_pledge(via text, ev jsonb) RETURNS pledges
LANGUAGE plpgsql AS $$
DECLARE
  p pledges;
BEGIN
  IF webhook_money_back(ev->>'kind') AND ev ? 'charge_ref' THEN
    SELECT pl.* INTO p FROM pledges pl
     WHERE pl.id = (SELECT c.pledge_id FROM payments c
                     WHERE c.provider = via AND c.kind = 'charge'
                       AND (c.provider_payment_id = ev->>'charge_ref'
                            OR c.charge_ref = ev->>'charge_ref')
                     ORDER BY c.seq LIMIT 1)
     FOR UPDATE;
  END IF;
  RETURN p;
END
$$;

-- The domain effect of one parsed event. A domain failure raises
-- PT404/PT409/PT422; the caller keeps the event as failed. An event older
-- than the last one the provider stamped for the pledge is `stale`: it is
-- still applied (its money is real), but cannot overrule the newer event's
-- state. Confirming events carry the provider's figures into the pledge,
-- money going back ends what it paid for, and the patron's ballots follow.
-- The references an event adds to its pledge are written with its state
-- change, in one UPDATE.
-- Answers {"status": "applied"|"ignored", "reason"?, "pledge_id"?,
-- "adjusted"?, "ballots_changed"}.
CREATE OR REPLACE FUNCTION webhook_apply(via text, ev jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  kind text := ev->>'kind';
  at timestamptz := coalesce((ev->>'occurred_at')::timestamptz, now());
  stamp bigint := coalesce((ev->>'sequence')::bigint, 0);
  p pledges;
  stale boolean;
  fig record;
  adjusted jsonb;
BEGIN
  IF kind = 'ignored' THEN
    RETURN jsonb_build_object('status', 'ignored', 'reason', 'not an event patrond acts on');
  END IF;
  p := webhook_charge_pledge(via, ev);
  IF p.id IS NULL THEN
    p := webhook_find_pledge(via, ev);
  END IF;
  IF p.id IS NULL THEN
    p := webhook_patron_event_pledge(via, ev);
  END IF;
  stale := stamp > 0 AND stamp < p.last_sequence;
  p.provider_ref := coalesce(p.provider_ref, ev->>'subscription_ref');
  p.customer_ref := coalesce(p.customer_ref, ev->>'customer_ref');
  p.last_sequence := greatest(p.last_sequence, stamp);
  IF kind IN ('pledge_activated', 'payment_succeeded') AND NOT stale
     AND (p.last_event_at IS NULL OR at >= p.last_event_at) THEN
    fig := webhook_figures(p, ev);
    p := fig.p;
    adjusted := fig.adjusted;
    UPDATE pledges SET amount_minor = p.amount_minor, currency = p.currency,
                       interval = p.interval, tier_id = p.tier_id
     WHERE id = p.id AND adjusted IS NOT NULL;
  END IF;
  CASE kind
    WHEN 'pledge_activated' THEN
      -- Only an activation that names the money it confirms pays for a
      -- period; one without an amount (a trial, nothing charged) does not.
      IF ev ? 'amount_minor' THEN
        p.current_period_end := webhook_period_end(p, ev, at);
      END IF;
      p := webhook_move(p, 'active', at, stale);
    WHEN 'payment_succeeded' THEN
      p := webhook_paid(p, via, ev, at, stale);
    WHEN 'payment_failed' THEN
      -- once per failed payment, or per event when the provider names none
      IF NOT ev ? 'payment_id' OR webhook_payment(p, via, ev, 'charge', 1, 'failed', at) THEN
        PERFORM mail_payment_failed(p, ev);
      END IF;
      p := webhook_move(p, 'past_due', at, stale);
    WHEN 'pledge_canceled' THEN
      p := webhook_move(p, 'canceled', at, stale);
    WHEN 'payment_refunded' THEN
      p := webhook_refunds(webhook_restated_charge(p, via, ev, stale), via, ev, at);
    WHEN 'dispute_opened' THEN
      p := webhook_refund(p, via, ev, 'dispute', -1, at);
    WHEN 'dispute_won' THEN
      p := webhook_refund(p, via, ev, 'dispute_won', 1, at);
    ELSE
      RAISE EXCEPTION 'Unknown event kind %.', kind USING ERRCODE = 'PT422';
  END CASE;
  UPDATE pledges SET provider_ref = p.provider_ref, customer_ref = p.customer_ref,
                     last_sequence = p.last_sequence
   WHERE id = p.id
     AND (provider_ref, customer_ref, last_sequence)
         IS DISTINCT FROM (p.provider_ref, p.customer_ref, p.last_sequence);
  RETURN jsonb_strip_nulls(jsonb_build_object(
    'status', 'applied', 'pledge_id', p.id, 'adjusted', adjusted,
    'ballots_changed', patron_ballots_sync(p.patron_id)));
END
$$;

-- Applies a recorded event inside a savepoint (the exception block): a
-- domain failure undoes only the effects and keeps the event as failed
-- with the reason, for an admin to replay. Transient errors (lost
-- connection, serialization, deadlock, timeout) are not caught: the whole
-- transaction fails and the provider retries. Also used by replays;
-- keeps what the event adjusted.
CREATE OR REPLACE FUNCTION webhook_process(target uuid) RETURNS webhook_events
LANGUAGE plpgsql AS $$
DECLARE
  e webhook_events;
  result jsonb;
  why text;
BEGIN
  SELECT * INTO e FROM webhook_events WHERE id = target FOR UPDATE;
  BEGIN
    result := webhook_apply(e.provider, e.event);
    UPDATE webhook_events SET status = result->>'status', reason = result->>'reason',
                              pledge_id = (result->>'pledge_id')::uuid, applied_at = now(),
                              attempts = attempts + 1, adjusted = result->'adjusted'
     WHERE id = target RETURNING * INTO e;
  EXCEPTION
    WHEN SQLSTATE 'PT404' OR SQLSTATE 'PT409' OR SQLSTATE 'PT422'
         OR data_exception OR integrity_constraint_violation THEN
      GET STACKED DIAGNOSTICS why = MESSAGE_TEXT;
      UPDATE webhook_events SET status = 'failed', reason = why, attempts = attempts + 1
       WHERE id = target RETURNING * INTO e;
  END;
  RETURN e;
END
$$;

-- POST /v1/webhooks/{provider}: records the delivery once and applies it,
-- writing the event's row once, with its outcome. A redelivery changes
-- nothing. `ev` NULL means the payload verified but could not be parsed:
-- it is kept as failed with `parse_error`.
-- Deliveries of one event queue on an advisory lock named by its key; the
-- later one then finds the row and is a duplicate. Should the row appear
-- without that lock (a replay taking this key), the unique key refuses
-- our insert, and the whole statement is undone and retried as a
-- serialization failure, effects included.
-- Keeps what the event adjusted and tells the caller whether ballots
-- moved (the tally must then be announced).
-- Answers {"outcome", "id"?, "tally_changed"?}.
CREATE OR REPLACE FUNCTION webhook_receive(via text, key text, typ text, body bytea, hdrs jsonb,
                                           ev jsonb, parse_error text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  result jsonb;
  why text;
  e webhook_events;
BEGIN
  PERFORM pg_advisory_xact_lock(7002, hashtext(via || ' ' || key));
  IF EXISTS (SELECT 1 FROM webhook_events WHERE provider = via AND event_key = key) THEN
    RETURN jsonb_build_object('outcome', 'duplicate');
  END IF;
  -- A customer's charges and refunds queue here, before any row lock and
  -- outside the savepoint that a refund left waiting rolls back: the charge
  -- then either sees the waiting refund committed or is seen by it.
  IF ev->>'kind' IN ('payment_succeeded', 'payment_refunded') AND ev ? 'customer_ref' THEN
    PERFORM pg_advisory_xact_lock(7005, hashtext(via || ' ' || (ev->>'customer_ref')));
  END IF;
  IF ev IS NULL THEN
    result := jsonb_build_object('status', 'failed', 'reason', parse_error);
  ELSE
    BEGIN
      result := webhook_apply(via, ev);
    EXCEPTION
      WHEN SQLSTATE 'PT404' OR SQLSTATE 'PT409' OR SQLSTATE 'PT422'
           OR data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS why = MESSAGE_TEXT;
        result := jsonb_build_object('status', 'failed', 'reason', why);
    END;
  END IF;
  INSERT INTO webhook_events (provider, event_key, type, payload, headers, event, status,
                              reason, pledge_id, applied_at, attempts, adjusted)
  VALUES (via, key, typ, body, hdrs, ev, result->>'status', result->>'reason',
          (result->>'pledge_id')::uuid,
          CASE WHEN result->>'status' <> 'failed' THEN now() END, 1, result->'adjusted')
  ON CONFLICT (provider, event_key) DO NOTHING
  RETURNING * INTO e;
  IF e.id IS NULL THEN
    RAISE EXCEPTION 'The event was recorded concurrently; retry.' USING ERRCODE = '40001';
  END IF;
  RETURN jsonb_build_object('outcome', e.status, 'id', e.id,
                            'tally_changed', coalesce((result->>'ballots_changed')::integer, 0) > 0);
END
$$;

-- POST /v1/webhook-events/{id}/replay with the stored payload parsed
-- again. Only an event not yet applied may be replayed. A payload that
-- now yields its real event id takes it, unless the provider meanwhile
-- delivered that event again and it was applied then.
CREATE OR REPLACE FUNCTION webhook_replay(target uuid, key text, typ text, ev jsonb, parse_error text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e webhook_events;
BEGIN
  SELECT * INTO e FROM webhook_events WHERE id = target FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such webhook event.' USING ERRCODE = 'PT404';
  END IF;
  IF e.status IN ('applied', 'ignored') THEN
    RAISE EXCEPTION 'The event is already %; only failed events can be replayed.', e.status
      USING ERRCODE = 'PT409';
  END IF;
  IF ev IS NULL THEN
    UPDATE webhook_events SET status = 'failed', reason = parse_error, attempts = attempts + 1
     WHERE id = target RETURNING * INTO e;
    RETURN webhook_event_json(e) || jsonb_build_object('event', e.event);
  END IF;
  IF EXISTS (SELECT 1 FROM webhook_events
              WHERE provider = e.provider AND event_key = key AND id <> target) THEN
    RAISE EXCEPTION 'The provider delivered this event again under its own id; that delivery was recorded instead.'
      USING ERRCODE = 'PT409';
  END IF;
  UPDATE webhook_events SET event_key = key, type = typ, event = ev WHERE id = target;
  e := webhook_process(target);
  RETURN webhook_event_json(e) || jsonb_build_object('event', e.event);
END
$$;

-- POST /v1/webhook-events/{id}/replay: webhook_replay, audited
-- with the event as the API lists it, without payload or parsed event.
-- A refused replay raises, so it leaves no entry.
CREATE OR REPLACE FUNCTION webhook_replay_audited(target uuid, key text, typ text, ev jsonb,
                                       parse_error text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old jsonb;
  result jsonb;
BEGIN
  SELECT webhook_event_json(e) INTO old FROM webhook_events e WHERE e.id = target FOR UPDATE;
  result := webhook_replay(target, key, typ, ev, parse_error);
  PERFORM audit_record('replay', 'webhook_events', target, old, result - 'event');
  RETURN result;
END
$$;

