-- Fewer and cheaper statements per webhook delivery (see 0011 for why
-- LANGUAGE sql functions on hot paths are plpgsql now). A paid invoice
-- used to rewrite its pledge three times; it now does so once.

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

CREATE OR REPLACE FUNCTION webhook_mail(p pledges, kind text, subject text, body text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  address text;
BEGIN
  SELECT email INTO address FROM patrons WHERE id = p.patron_id;
  IF address IS NOT NULL THEN
    PERFORM outbox_enqueue(p.patron_id, kind, address, subject, body);
  END IF;
END
$$;

-- As in 0005, and it also writes the period end and the references the
-- caller changed in p, so that webhook_apply and webhook_paid need no
-- UPDATE of their own.
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

CREATE OR REPLACE FUNCTION webhook_paid(p pledges, via text, ev jsonb, at timestamptz,
                                       stale boolean)
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
  p.current_period_end := webhook_period_end(p, ev, at);
  RETURN webhook_move(p, 'active', at, stale);
END
$$;

-- As in 0005, but the references an event adds to its pledge are written
-- with its state change, in one UPDATE rather than two.
CREATE OR REPLACE FUNCTION webhook_apply(via text, ev jsonb) RETURNS jsonb
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
  p.provider_ref := coalesce(p.provider_ref, ev->>'subscription_ref');
  p.customer_ref := coalesce(p.customer_ref, ev->>'customer_ref');
  p.last_sequence := greatest(p.last_sequence, stamp);
  was_activated := p.activated_at IS NOT NULL;
  CASE kind
    WHEN 'pledge_activated' THEN
      IF ev ? 'period_end' THEN
        p.current_period_end := webhook_period_end(p, ev, at);
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
  -- what webhook_move did not already write (it writes all of p)
  UPDATE pledges SET provider_ref = p.provider_ref, customer_ref = p.customer_ref,
                     last_sequence = p.last_sequence
   WHERE id = p.id
     AND (provider_ref, customer_ref, last_sequence)
         IS DISTINCT FROM (p.provider_ref, p.customer_ref, p.last_sequence);
  IF NOT was_activated AND p.activated_at IS NOT NULL THEN
    PERFORM webhook_mail(p, 'welcome', 'Welcome, and thank you',
      E'Hello,\n\nthank you for becoming a patron. As a member you can vote for the '
      'topics we cover next; sign in with your e-mail address on our members page.\n');
  END IF;
  RETURN jsonb_build_object('status', 'applied', 'pledge_id', p.id);
END
$$;

-- POST /v1/webhooks/{provider}, as in 0005 but writing the event's row
-- once, with its outcome, instead of inserting and then updating it.
-- Deliveries of one event queue on an advisory lock named by its key; the
-- later one then finds the row and is a duplicate. Should the row appear
-- without that lock (a replay taking this key), the unique key refuses
-- our insert, and the whole statement is undone and retried as a
-- serialization failure, effects included.
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
                              reason, pledge_id, applied_at, attempts)
  VALUES (via, key, typ, body, hdrs, ev, result->>'status', result->>'reason',
          (result->>'pledge_id')::uuid,
          CASE WHEN result->>'status' <> 'failed' THEN now() END, 1)
  ON CONFLICT (provider, event_key) DO NOTHING
  RETURNING * INTO e;
  IF e.id IS NULL THEN
    RAISE EXCEPTION 'The event was recorded concurrently; retry.' USING ERRCODE = '40001';
  END IF;
  RETURN jsonb_build_object('outcome', e.status, 'id', e.id);
END
$$;

-- Every renewal rewrites its pledge; room left on each page lets the new
-- version stay beside the old one (a HOT update: no index entries to add).
ALTER TABLE pledges SET (fillfactor = 80);
ALTER TABLE round_topic_totals SET (fillfactor = 50);
ALTER TABLE round_shards SET (fillfactor = 50);
