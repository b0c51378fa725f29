-- Every booked charge looks for refunds that arrived before it and were
-- kept failed (webhook_waiting_refunds in sql/40_webhooks.sql). This
-- index holds those alone, so the look-up does not grow with every other
-- failed event kept over the months.
CREATE INDEX webhook_events_failed_refunds ON webhook_events (provider, seq)
  WHERE status = 'failed' AND event->>'kind' = 'payment_refunded';
