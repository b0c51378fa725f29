-- Self-service cancel (SPEC §4c). `cancel_requested_at`: when the patron
-- asked for the pledge to end at its period end and the provider agreed
-- (Stripe's cancel_at_period_end); the pledge stays active until the
-- provider's webhook says it ended. Functions in sql/79_self_service.sql.
ALTER TABLE pledges ADD COLUMN cancel_requested_at timestamptz;

-- A canceled pledge still counts as membership until its paid period
-- ends (sql/20_membership.sql); the clock's sweep finds those ends here.
CREATE INDEX pledges_canceled_period_end ON pledges (current_period_end)
  WHERE status = 'canceled';
