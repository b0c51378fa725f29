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

-- As in 0005, and it also writes p.current_period_end, so a caller that
-- moved the period (webhook_paid) needs no UPDATE of its own.
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
