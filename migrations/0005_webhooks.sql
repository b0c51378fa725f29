-- Webhooks (SPEC §4): every verified delivery is recorded once per
-- (provider, event_key) and applied to patrons, pledges and payments in the
-- same transaction. The server parses each provider's payload into one
-- provider-neutral event (jsonb: the fields of include/webhook.h's struct
-- wh_event, absent when empty, `kind` in lower case); webhook_apply() maps
-- it onto the domain.

-- customer_ref: the provider's customer, matched when an event names no
-- subscription (refunds, disputes). last_sequence: the provider's own
-- ordering stamp (Monobank's modifiedDate), so a late older event cannot
-- overrule a newer one. last_event_at / last_event_state: when the newest event about
-- the pledge's standing happened and what it said (active or past_due),
-- so the state follows the provider's order, not the order of delivery.
ALTER TABLE pledges
  ADD COLUMN customer_ref text,
  ADD COLUMN last_sequence bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_event_at timestamptz,
  ADD COLUMN last_event_state text CHECK (last_event_state IN ('active', 'past_due'));
CREATE INDEX pledges_customer_ref ON pledges (provider, customer_ref)
  WHERE customer_ref IS NOT NULL;

-- The raw payload is kept byte for byte (bytea: a verified body need not
-- be valid UTF-8) so a failed event can be parsed again after a fix.
-- `headers` holds only the few non-secret headers a parser reads.
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
  CONSTRAINT webhook_events_key UNIQUE (provider, event_key)
);
CREATE INDEX webhook_events_status ON webhook_events (status, seq);

CREATE FUNCTION webhook_event_json(e webhook_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'provider', e.provider, 'event_key', e.event_key, 'type', e.type,
    'status', e.status, 'reason', e.reason, 'pledge_id', e.pledge_id,
    'received_at', rfc3339(e.received_at), 'applied_at', rfc3339(e.applied_at),
    'attempts', e.attempts)
$$;

-- Money going back (refunds, disputes) may concern a pledge that has
-- ended since; it never creates one.
CREATE FUNCTION webhook_money_back(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT kind IN ('payment_refunded', 'dispute_opened', 'dispute_won')
$$;

-- The pledge an event is about, locked: (a) our pledge id passed through
-- the provider, (b) the subscription (provider_ref), (c) the provider's
-- customer. A pledge found by customer must not belong to another
-- subscription, and only a live one is taken (unless money goes back): a
-- new subscription of a returning patron is a new pledge.
CREATE FUNCTION webhook_find_pledge(via text, ev jsonb) RETURNS pledges
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
CREATE FUNCTION webhook_patron_pledge(via text, patron uuid, sub text, any_status boolean)
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
CREATE FUNCTION webhook_patron_event_pledge(via text, ev jsonb) RETURNS pledges
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
    -- checkout_patron() (migrations/0008) finds or creates the patron and
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
-- ever meant "never paid".
CREATE FUNCTION webhook_move(p pledges, target text, at timestamptz, stale boolean)
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
-- not repeated.
CREATE FUNCTION webhook_payment(p pledges, via text, ev jsonb, kind text, sign integer,
                                outcome text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ev ? 'payment_id' THEN
    RAISE EXCEPTION 'The event carries no payment id.' USING ERRCODE = 'PT422';
  END IF;
  IF kind <> 'charge' AND NOT ev ? 'amount_minor' THEN
    RAISE EXCEPTION 'The event carries no amount.' USING ERRCODE = 'PT422';
  END IF;
  INSERT INTO payments (kind, status, amount_minor, currency, provider, provider_payment_id,
                        pledge_id, patron_id, occurred_at, failure_reason)
  VALUES (kind, outcome, sign * coalesce((ev->>'amount_minor')::bigint, p.amount_minor),
          coalesce(ev->>'currency', p.currency), via, ev->>'payment_id', p.id, p.patron_id, at,
          CASE WHEN outcome = 'failed'
               THEN coalesce(ev->>'reason', 'The provider gave no reason.') END)
  ON CONFLICT (provider, provider_payment_id) DO NOTHING;
  RETURN FOUND;
END
$$;

-- Mail to the pledge's patron; an erased patron has no address and gets none.
CREATE FUNCTION webhook_mail(p pledges, kind text, subject text, body text) RETURNS void
LANGUAGE sql AS $$
  SELECT outbox_enqueue(pa.id, kind, pa.email, subject, body)
    FROM patrons pa WHERE pa.id = p.patron_id AND pa.email IS NOT NULL
$$;

CREATE FUNCTION webhook_period_end(p pledges, ev jsonb, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN ev ? 'period_end' THEN greatest(p.current_period_end, (ev->>'period_end')::timestamptz)
    ELSE greatest(p.current_period_end, at) + CASE p.interval WHEN 'year' THEN interval '1 year'
                                                             WHEN 'once' THEN interval '31 days'
                                                             ELSE interval '1 month' END
  END
$$;

-- A successful charge, once per payment id: its receipt, the paid period
-- (the later end wins, so the order of delivery does not matter) and the
-- pledge's state.
CREATE FUNCTION webhook_paid(p pledges, via text, ev jsonb, at timestamptz, stale boolean)
RETURNS pledges
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT webhook_payment(p, via, ev, 'charge', 1, 'succeeded', at) THEN
    RETURN p;
  END IF;
  PERFORM webhook_mail(p, 'receipt', 'Your receipt',
    format(E'Hello,\n\nthank you: we received your payment of %s (%s, reference %s).\n\n'
           'Your support keeps our reporting independent.\n',
           coalesce(ev->>'amount_display',
                    coalesce(ev->>'amount_minor', p.amount_minor::text) || ' ' || p.currency),
           to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ev->>'payment_id'));
  UPDATE pledges SET current_period_end = webhook_period_end(p, ev, at), updated_at = now()
   WHERE id = p.id RETURNING * INTO p;
  RETURN webhook_move(p, 'active', at, stale);
END
$$;

-- The domain effect of one parsed event: {"status": "applied"|"ignored",
-- "reason"?, "pledge_id"?}. A domain failure raises PT404/PT409/PT422;
-- the caller keeps the event as failed. An event older than the last one
-- the provider stamped for the pledge is `stale`: it is still applied
-- (its money is real), but cannot overrule the newer event's state.
CREATE FUNCTION webhook_apply(via text, ev jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  kind text := ev->>'kind';
  at timestamptz := coalesce((ev->>'occurred_at')::timestamptz, now());
  stamp bigint := coalesce((ev->>'sequence')::bigint, 0);
  p pledges;
  stale boolean;
  was_activated boolean;
BEGIN
  IF kind = 'ignored' THEN
    RETURN jsonb_build_object('status', 'ignored', 'reason', 'not an event patrond acts on');
  END IF;
  p := webhook_find_pledge(via, ev);
  IF p.id IS NULL THEN
    p := webhook_patron_event_pledge(via, ev);
  END IF;
  stale := stamp > 0 AND stamp < p.last_sequence;
  UPDATE pledges SET provider_ref = coalesce(provider_ref, ev->>'subscription_ref'),
                     customer_ref = coalesce(customer_ref, ev->>'customer_ref'),
                     last_sequence = greatest(last_sequence, stamp)
   WHERE id = p.id RETURNING * INTO p;
  was_activated := p.activated_at IS NOT NULL;
  CASE kind
    WHEN 'pledge_activated' THEN
      IF ev ? 'period_end' THEN
        UPDATE pledges SET current_period_end = webhook_period_end(p, ev, at)
         WHERE id = p.id RETURNING * INTO p;
      END IF;
      p := webhook_move(p, 'active', at, stale);
    WHEN 'payment_succeeded' THEN
      p := webhook_paid(p, via, ev, at, stale);
    WHEN 'payment_failed' THEN
      IF ev ? 'payment_id' THEN
        PERFORM webhook_payment(p, via, ev, 'charge', 1, 'failed', at);
      END IF;
      p := webhook_move(p, 'past_due', at, stale);
    WHEN 'pledge_canceled' THEN
      p := webhook_move(p, 'canceled', at, stale);
    WHEN 'payment_refunded' THEN
      PERFORM webhook_payment(p, via, ev, 'refund', -1, 'succeeded', at);
    WHEN 'dispute_opened' THEN
      PERFORM webhook_payment(p, via, ev, 'dispute', -1, 'succeeded', at);
    WHEN 'dispute_won' THEN
      PERFORM webhook_payment(p, via, ev, 'dispute_won', 1, 'succeeded', at);
    ELSE
      RAISE EXCEPTION 'Unknown event kind %.', kind USING ERRCODE = 'PT422';
  END CASE;
  IF NOT was_activated AND p.activated_at IS NOT NULL THEN
    PERFORM webhook_mail(p, 'welcome', 'Welcome, and thank you',
      E'Hello,\n\nthank you for becoming a patron. As a member you can vote for the '
      'topics we cover next; sign in with your e-mail address on our members page.\n');
  END IF;
  RETURN jsonb_build_object('status', 'applied', 'pledge_id', p.id);
END
$$;

-- Applies a recorded event inside a savepoint (the exception block): a
-- domain failure undoes only the effects and keeps the event as failed
-- with the reason, for an admin to replay. Transient errors (lost
-- connection, serialization, deadlock, timeout) are not caught: the whole
-- transaction fails and the provider retries.
CREATE FUNCTION webhook_process(target uuid) RETURNS webhook_events
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
                              attempts = attempts + 1
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

-- POST /v1/webhooks/{provider}: records the delivery once and applies it.
-- A redelivery (also one racing this transaction from another instance:
-- the unique key makes it wait, then find the row) changes nothing.
-- `ev` NULL means the payload verified but could not be parsed: it is
-- kept as failed with `parse_error`. Answers {"outcome", "id"?}.
CREATE FUNCTION webhook_receive(via text, key text, typ text, body bytea, hdrs jsonb, ev jsonb,
                                parse_error text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e webhook_events;
BEGIN
  INSERT INTO webhook_events (provider, event_key, type, payload, headers, event, status,
                              reason, attempts)
  VALUES (via, key, typ, body, hdrs, ev,
          CASE WHEN ev IS NULL THEN 'failed' ELSE 'received' END, parse_error,
          CASE WHEN ev IS NULL THEN 1 ELSE 0 END)
  ON CONFLICT (provider, event_key) DO NOTHING
  RETURNING * INTO e;
  IF e.id IS NULL THEN
    RETURN jsonb_build_object('outcome', 'duplicate');
  END IF;
  IF ev IS NOT NULL THEN
    e := webhook_process(e.id);
  END IF;
  RETURN jsonb_build_object('outcome', e.status, 'id', e.id);
END
$$;

-- POST /v1/webhook-events/{id}/replay with the stored payload parsed
-- again. Only an event not yet applied may be replayed. A payload that
-- now yields its real event id takes it, unless the provider meanwhile
-- delivered that event again and it was applied then.
CREATE FUNCTION webhook_replay(target uuid, key text, typ text, ev jsonb, parse_error text)
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
