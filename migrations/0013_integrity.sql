-- Integrity (SPEC §4 Pledges, Membership, Ballots, Webhooks step 1): what
-- counts is what a provider confirmed and signed; membership is decided by
-- the clock whenever it is asked; refunded or lost charges pay for nothing;
-- a ballot weighs only while its voter is a member.

-- A refund or dispute names the charge it concerns (refunds_payment_id);
-- a charge keeps the other id its refunds will name (charge_ref: Stripe's
-- payment_intent, for a charge booked under its invoice id).
ALTER TABLE payments
  ADD COLUMN charge_ref text,
  ADD COLUMN refunds_payment_id uuid REFERENCES payments (id);
CREATE INDEX payments_charge_ref ON payments (provider, charge_ref) WHERE charge_ref IS NOT NULL;
CREATE INDEX payments_refunds ON payments (refunds_payment_id)
  WHERE refunds_payment_id IS NOT NULL;

-- What a confirming event changed in the pledge's figures: {from, to}.
ALTER TABLE webhook_events ADD COLUMN adjusted jsonb;

-- The clock's sweep finds periods that ran out through this index.
CREATE INDEX pledges_period_end ON pledges (current_period_end)
  WHERE status IN ('active', 'past_due');
CREATE INDEX pledges_once_unended ON pledges (activated_at)
  WHERE interval = 'once' AND current_period_end IS NULL;

-- PATROND_GRACE_DAYS reaches every session as patrond.grace_days
-- (api/db/conn.c); sessions without it (psql, pgbench) get the default.
CREATE FUNCTION membership_grace() RETURNS interval
LANGUAGE sql STABLE AS $$
  SELECT make_interval(days => coalesce(nullif(current_setting('patrond.grace_days', true), ''),
                                        '7')::integer)
$$;

CREATE FUNCTION pledge_interval_length(every text) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE every WHEN 'year' THEN interval '1 year' WHEN 'once' THEN interval '31 days'
                    ELSE interval '1 month' END
$$;

-- Membership at a moment (SPEC §4 Membership). current_period_end is what
-- the provider's money paid for: every charge moves it (to the provider's
-- period end, else the charge plus one interval; a one-off: plus 31 days)
-- and a refund or lost dispute pulls it back, so a provider pledge without
-- one has paid for nothing. A manual pledge without one counts while
-- active. A pledge canceled after `at` was still standing then, which
-- lets reports look back. A plain SQL expression, so PostgreSQL inlines it
-- into the queries that scan many pledges.
CREATE FUNCTION pledge_is_membership_at(p pledges, at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT (p.status IN ('active', 'past_due')
          OR (p.status = 'canceled' AND p.canceled_at > at))
     AND coalesce(p.activated_at, p.created_at) <= at
     AND CASE
       WHEN p.current_period_end IS NOT NULL THEN
         p.current_period_end
           + CASE WHEN p.interval = 'once' THEN interval '0' ELSE membership_grace() END > at
       WHEN p.provider <> 'manual' THEN false
       WHEN p.interval = 'once' THEN coalesce(p.activated_at, p.created_at) + interval '31 days' > at
       ELSE p.status = 'active'
     END
$$;

CREATE OR REPLACE FUNCTION pledge_is_membership(p pledges) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT pledge_is_membership_at(p, now())
$$;

-- "lapsed" is a patron who was a member and is no longer: a pledge that
-- was never paid made nobody a member.
CREATE OR REPLACE FUNCTION patron_status(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN bool_or(pledge_is_membership(p)) THEN 'member'
    WHEN bool_or(p.activated_at IS NOT NULL) THEN 'lapsed'
    ELSE 'none'
  END
  FROM pledges p WHERE p.patron_id = patron
$$;

CREATE OR REPLACE FUNCTION pledge_membership_reason(p pledges) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT pledge_is_membership(p) THEN NULL
    WHEN p.interval = 'once' THEN 'one-off pledge paid in the last 31 days'
    WHEN p.status = 'active' THEN
      'active ' || CASE p.interval WHEN 'year' THEN 'yearly' ELSE 'monthly' END || ' pledge'
    ELSE format('past_due pledge within the %s-day grace period',
                extract(day FROM membership_grace()))
  END
$$;

-- When the pledge stops making its patron a member unless money renews
-- it; NULL when it does not, or for a manual pledge without an end.
CREATE OR REPLACE FUNCTION pledge_membership_until(p pledges) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT pledge_is_membership(p) THEN NULL
    WHEN p.current_period_end IS NOT NULL THEN
      p.current_period_end
        + CASE WHEN p.interval = 'once' THEN interval '0' ELSE membership_grace() END
    WHEN p.interval = 'once' THEN coalesce(p.activated_at, p.created_at) + interval '31 days'
  END
$$;

CREATE OR REPLACE FUNCTION patron_vote_refusal(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM pledges p
                  WHERE p.patron_id = patron AND pledge_is_membership(p)) THEN NULL
    ELSE coalesce((
      SELECT CASE
        WHEN p.interval = 'once' AND p.status IN ('active', 'past_due')
          THEN 'one-off pledge not paid in the last 31 days'
        WHEN p.status = 'past_due' THEN
          format('pledge past_due beyond the %s-day grace period', extract(day FROM membership_grace()))
        WHEN p.status = 'active' THEN
          format('pledge not renewed within the %s-day grace period after its paid period',
                 extract(day FROM membership_grace()))
        WHEN p.status = 'canceled' THEN 'pledge canceled'
        WHEN p.status = 'pending' THEN 'pledge still pending its first payment'
        ELSE 'no active pledge'
      END
      FROM pledges p WHERE p.patron_id = patron
      ORDER BY CASE p.status WHEN 'active' THEN 0 WHEN 'past_due' THEN 0
                             WHEN 'canceled' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
               p.seq DESC
      LIMIT 1), 'no active pledge')
  END
$$;

-- A patron's vote weight at a moment: the best tier among their
-- membership pledges (chosen as pledge_tier() does), 1 without tiers;
-- NULL when they are not a member then, or erased.
CREATE FUNCTION patron_member_weight_at(patron uuid, at timestamptz) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
  pledges_found bigint;
  best integer;
BEGIN
  SELECT count(*), max(t.vote_weight) INTO pledges_found, best
    FROM pledges p
    JOIN patrons pa ON pa.id = p.patron_id AND pa.erased_at IS NULL
    LEFT JOIN tiers t ON t.id = coalesce(p.tier_id, (
      SELECT x.id FROM tiers x
       WHERE x.currency = p.currency AND x.amount_minor <= monthly_amount(p)
       ORDER BY x.amount_minor DESC, x.seq LIMIT 1))
   WHERE p.patron_id = patron AND pledge_is_membership_at(p, at);
  RETURN CASE WHEN pledges_found > 0 THEN coalesce(best, 1) END;
END
$$;

CREATE OR REPLACE FUNCTION patron_member_weight(patron uuid) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN patron_member_weight_at(patron, now());
END
$$;

CREATE OR REPLACE FUNCTION patron_vote_weight(patron uuid) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce(patron_member_weight_at(patron, now()), 1);
END
$$;

CREATE FUNCTION member_count_at(at timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT p.patron_id)::integer
    FROM pledges p JOIN patrons pa ON pa.id = p.patron_id
   WHERE pa.erased_at IS NULL AND pledge_is_membership_at(p, at)
$$;

CREATE OR REPLACE FUNCTION member_count() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT member_count_at(now())
$$;

-- ---- ballots follow membership ----

-- Serialises a patron's ballot writes with changes to their membership:
-- a ballot cast while their pledge is being canceled is either seen and
-- re-weighed by the cancel, or cast after it and refused.
CREATE FUNCTION patron_vote_lock(patron uuid) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7003, hashtext(patron::text)) $$;

-- The topics a ballot adds to the totals: none while it weighs nothing.
CREATE FUNCTION ballot_counted(ids uuid[], w integer) RETURNS uuid[]
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN w > 0 THEN ids ELSE '{}'::uuid[] END $$;

CREATE FUNCTION round_is_open(r rounds) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT r.result IS NULL AND round_status(r) = 'open'
$$;

-- One ballot to weight w (0: out of the tally, kept should the voter be a
-- member again while the round runs). The round's shared lock is only
-- tried: a round that a close holds is being recounted from the ballots
-- and memberships anyway, and waiting for it while holding the patron's
-- lock could deadlock with a ballot that holds the round and waits for us.
CREATE FUNCTION ballot_reweigh(round uuid, patron uuid, w integer) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  b ballots;
BEGIN
  IF NOT pg_try_advisory_xact_lock_shared(7001, round_lock_key(round)) THEN
    RETURN false;
  END IF;
  SELECT * INTO r FROM rounds WHERE id = round;
  IF NOT round_is_open(r) THEN
    RETURN false;
  END IF;
  SELECT * INTO b FROM ballots WHERE round_id = round AND patron_id = patron FOR UPDATE;
  IF NOT FOUND OR b.weight = w THEN
    RETURN false;
  END IF;
  UPDATE ballots SET weight = w WHERE round_id = round AND patron_id = patron;
  PERFORM ballot_count(round, patron, ballot_counted(b.topic_ids, b.weight), b.weight,
                       ballot_counted(b.topic_ids, w), w);
  RETURN true;
END
$$;

-- Re-weighs the patron's ballots in open rounds to their weight now;
-- returns how many changed (the caller then announces a tally change).
-- Called in the transaction that changed their membership or tier.
CREATE FUNCTION patron_ballots_sync(patron uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  w integer;
  round uuid;
  n integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ballots b JOIN rounds r ON r.id = b.round_id
                  WHERE b.patron_id = patron AND r.result IS NULL) THEN
    RETURN 0;
  END IF;
  PERFORM patron_vote_lock(patron);
  w := coalesce(patron_member_weight(patron), 0);
  FOR round IN SELECT b.round_id FROM ballots b JOIN rounds r ON r.id = b.round_id
                WHERE b.patron_id = patron AND r.result IS NULL AND b.weight <> w
                ORDER BY b.round_id LOOP
    n := n + ballot_reweigh(round, patron, w)::integer;
  END LOOP;
  RETURN n;
END
$$;

-- The clock's part, run by a job every few seconds: recurring pledges
-- whose paid period ended without a renewal turn past_due, and the
-- ballots of patrons whose membership ended (or tier changed) since
-- `since` are re-weighed. The job passes its previous run (minus a
-- margin); -infinity looks at every ballot in an open round. Returns the
-- ballots changed.
CREATE FUNCTION membership_sweep(since timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  patron uuid;
  n integer := 0;
  tiers_changed boolean;
BEGIN
  UPDATE pledges SET status = 'past_due', updated_at = now()
   WHERE status = 'active' AND interval <> 'once' AND current_period_end < now();
  SELECT EXISTS (SELECT 1 FROM tiers WHERE updated_at >= since) INTO tiers_changed;
  FOR patron IN
    SELECT b.patron_id FROM ballots b JOIN rounds r ON r.id = b.round_id
     WHERE (since = '-infinity' OR tiers_changed)
       AND r.result IS NULL AND round_status(r) = 'open'
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE since <> '-infinity' AND NOT tiers_changed
       AND p.status IN ('active', 'past_due')
       AND p.current_period_end BETWEEN since - membership_grace() AND now()
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE since <> '-infinity' AND NOT tiers_changed
       AND p.interval = 'once' AND p.current_period_end IS NULL
       AND p.activated_at BETWEEN since - interval '31 days' AND now() - interval '31 days'
     ORDER BY 1
  LOOP
    n := n + patron_ballots_sync(patron);
  END LOOP;
  RETURN n;
END
$$;

-- A ballot write takes the patron's lock after the round's (see
-- patron_vote_lock), so the weight it reads cannot be overtaken by a
-- membership change that committed while it was waiting.
CREATE OR REPLACE FUNCTION round_for_ballot(target uuid, patron uuid, need_member boolean,
                                            OUT r rounds, OUT weight integer)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7001, round_lock_key(target));
  PERFORM patron_vote_lock(patron);
  SELECT * INTO r FROM rounds WHERE id = target;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such round.' USING ERRCODE = 'PT404';
  END IF;
  IF need_member THEN
    weight := patron_member_weight(patron);
    IF weight IS NULL THEN
      RAISE EXCEPTION 'Only members may vote: %.', patron_vote_refusal(patron)
        USING ERRCODE = 'PT403';
    END IF;
  END IF;
  PERFORM round_check_open(r);
END
$$;

-- As in 0011; a ballot that weighed nothing (its voter had lapsed) was
-- not in the totals, so it is replaced from nothing.
CREATE OR REPLACE FUNCTION ballot_put(round uuid, patron uuid, choice uuid[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  voting record := round_for_ballot(round, patron, true);
  r rounds := voting.r;
  w integer := voting.weight;
  old ballots;
  cur ballots;
BEGIN
  PERFORM ballot_check(r, choice);
  LOOP
    SELECT * INTO old FROM ballots WHERE round_id = round AND patron_id = patron FOR UPDATE;
    EXIT WHEN FOUND;
    INSERT INTO ballots (round_id, patron_id, topic_ids, weight)
    VALUES (round, patron, choice, w)
    ON CONFLICT DO NOTHING RETURNING * INTO cur;
    IF FOUND THEN
      PERFORM ballot_count(round, patron, '{}', 0, choice, w);
      RETURN ballot_json(cur);
    END IF;
  END LOOP;
  IF old.weight = w AND old.topic_ids @> choice AND choice @> old.topic_ids THEN
    RETURN ballot_json(old);
  END IF;
  UPDATE ballots SET topic_ids = choice, weight = w, updated_at = now()
   WHERE round_id = round AND patron_id = patron RETURNING * INTO cur;
  PERFORM ballot_count(round, patron, ballot_counted(old.topic_ids, old.weight), old.weight,
                       choice, w);
  RETURN ballot_json(cur);
END
$$;

CREATE OR REPLACE FUNCTION ballot_delete(round uuid, patron uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old ballots;
BEGIN
  PERFORM round_for_ballot(round, patron, false);
  DELETE FROM ballots WHERE round_id = round AND patron_id = patron RETURNING * INTO old;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'You have no ballot in this round.' USING ERRCODE = 'PT404';
  END IF;
  PERFORM ballot_count(round, patron, ballot_counted(old.topic_ids, old.weight), old.weight,
                       '{}', 0);
  RETURN to_jsonb(true);
END
$$;

-- The frozen result is a recount: every ballot of the round takes its
-- voter's weight at the close (0 for whoever was no member then), and the
-- totals are rebuilt from the ballots, so what is stored does not depend
-- on every earlier re-weighing having happened.
CREATE FUNCTION round_recount(round uuid, at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ballots b SET weight = w.weight
    FROM (SELECT patron_id, coalesce(patron_member_weight_at(patron_id, at), 0) AS weight
            FROM ballots WHERE round_id = round) w
   WHERE b.round_id = round AND b.patron_id = w.patron_id AND b.weight <> w.weight;
  UPDATE round_topic_totals x SET votes = coalesce(c.votes, 0), weight = coalesce(c.weight, 0)
    FROM round_topic_totals t
    LEFT JOIN (SELECT vote_shard(b.patron_id) AS shard, u.id AS topic_id,
                      count(*)::integer AS votes, sum(b.weight)::bigint AS weight
                 FROM ballots b, unnest(b.topic_ids) AS u(id)
                WHERE b.round_id = round AND b.weight > 0
                GROUP BY 1, 2) c ON c.shard = t.shard AND c.topic_id = t.topic_id
   WHERE t.round_id = round AND x.round_id = t.round_id AND x.topic_id = t.topic_id
     AND x.shard = t.shard;
  UPDATE round_shards s SET voters = coalesce(c.voters, 0),
                            total_weight = coalesce(c.total_weight, 0)
    FROM round_shards t
    LEFT JOIN (SELECT vote_shard(b.patron_id) AS shard, count(*)::integer AS voters,
                      sum(b.weight)::bigint AS total_weight
                 FROM ballots b WHERE b.round_id = round AND b.weight > 0
                GROUP BY 1) c ON c.shard = t.shard
   WHERE t.round_id = round AND s.round_id = t.round_id AND s.shard = t.shard;
END
$$;

-- As in 0011, with the recount: `eligible` is the members at the close,
-- and voters (ballots of members then) never exceed it.
CREATE OR REPLACE FUNCTION round_freeze(round uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
  members integer;
  frozen jsonb;
BEGIN
  PERFORM round_lock(round);
  SELECT * INTO r FROM rounds WHERE id = round FOR UPDATE;
  IF NOT FOUND OR r.result IS NOT NULL OR (r.closed_at IS NULL AND now() < r.closes_at) THEN
    RETURN;
  END IF;
  r.closed_at := coalesce(r.closed_at, r.closes_at);
  PERFORM round_recount(round, r.closed_at);
  members := member_count_at(r.closed_at);
  frozen := round_live_tally(r, members, r.closed_at) - 'round_id' - 'status' - 'closes_at';
  frozen := frozen || jsonb_build_object('winners', coalesce((
    SELECT jsonb_agg(x->'topic_id') FROM jsonb_array_elements(frozen->'topics') x
     WHERE (x->>'rank')::integer = 1 AND (x->>'votes')::bigint > 0), '[]'::jsonb));
  UPDATE rounds SET closed_at = r.closed_at, result = frozen,
                    eligible = members, eligible_at = now()
   WHERE id = round;
END
$$;

-- ---- pledges: the admin's writes ----

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
CREATE FUNCTION pledge_create(patron uuid, amount bigint, cur text, every text, via text,
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

-- ---- webhooks: the provider's figures win; money back pays for nothing ----

-- The confirmed figures of a provider's event, written into p (not yet
-- stored); NULL when nothing changes, else what changed, {from, to}.
CREATE FUNCTION webhook_figures(INOUT p pledges, ev jsonb, OUT adjusted jsonb)
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

-- The charge a refund or dispute concerns: the one it names, else the
-- pledge's latest charge.
CREATE FUNCTION webhook_refunded_charge(via text, ev jsonb, pledge uuid) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  c payments;
  ref text := ev->>'charge_ref';
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
  SELECT * INTO c FROM payments
   WHERE pledge_id = pledge AND kind = 'charge' AND status = 'succeeded'
   ORDER BY occurred_at DESC, seq DESC LIMIT 1;
  RETURN c;
END
$$;

-- What is left of a charge after the refunds and disputes against it.
CREATE FUNCTION payment_net(charge uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT c.amount_minor + coalesce((SELECT sum(r.amount_minor) FROM payments r
                                     WHERE r.refunds_payment_id = c.id), 0)
    FROM payments c WHERE c.id = charge
$$;

-- The latest charge of the pledge that still pays for something, other
-- than `skip`.
CREATE FUNCTION pledge_last_paying_charge(pledge uuid, skip uuid) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT max(c.occurred_at) FROM payments c
   WHERE c.pledge_id = pledge AND c.kind = 'charge' AND c.status = 'succeeded'
     AND c.id IS DISTINCT FROM skip AND payment_net(c.id) > 0
$$;

-- Money went back on charge c (or came back, for a dispute won): what the
-- pledge has paid for follows. A one-off counts 31 days from its latest
-- charge that still pays. A recurring pledge whose latest paying charge
-- was voided is paid only up to that charge (the period before it, whose
-- renewal this was; nothing when it was the first) and turns past_due
-- until the provider's next event.
CREATE FUNCTION webhook_money_back_applied(p pledges, c payments) RETURNS pledges
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

-- One ledger row; false when the provider's payment id is already there.
-- A charge keeps the other id its refunds will name; money going back
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

-- A refund, dispute or dispute won, once per payment id, with its effect
-- on what the pledge has paid for.
CREATE FUNCTION webhook_refund(p pledges, via text, ev jsonb, kind text, sign integer,
                               at timestamptz) RETURNS pledges
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT webhook_payment(p, via, ev, kind, sign, 'succeeded', at) THEN
    RETURN p;
  END IF;
  RETURN webhook_money_back_applied(p, (SELECT c FROM payments c
                                          WHERE c.id = (SELECT refunds_payment_id FROM payments
                                                         WHERE provider = via
                                                           AND provider_payment_id = ev->>'payment_id')));
END
$$;

-- A refund naming a charge belongs to that charge's pledge, whatever
-- else the event says about subscriptions or customers.
CREATE FUNCTION webhook_charge_pledge(via text, ev jsonb) RETURNS pledges
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

-- A paid period: the provider's end, else the charge plus one interval.
CREATE OR REPLACE FUNCTION webhook_period_end(p pledges, ev jsonb, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN ev ? 'period_end' THEN greatest(p.current_period_end, (ev->>'period_end')::timestamptz)
    ELSE greatest(p.current_period_end, at + pledge_interval_length(p.interval))
  END
$$;

-- As in 0012, but confirming events carry the provider's figures into the pledge, money
-- going back ends what it paid for, and the patron's ballots follow.
-- Answers {"status", "reason"?, "pledge_id"?, "adjusted"?, "ballots_changed"}.
CREATE OR REPLACE FUNCTION webhook_apply(via text, ev jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  kind text := ev->>'kind';
  at timestamptz := coalesce((ev->>'occurred_at')::timestamptz, now());
  stamp bigint := coalesce((ev->>'sequence')::bigint, 0);
  p pledges;
  stale boolean;
  was_activated boolean;
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
  was_activated := p.activated_at IS NOT NULL;
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
      IF ev ? 'payment_id' THEN
        PERFORM webhook_payment(p, via, ev, 'charge', 1, 'failed', at);
      END IF;
      p := webhook_move(p, 'past_due', at, stale);
    WHEN 'pledge_canceled' THEN
      p := webhook_move(p, 'canceled', at, stale);
    WHEN 'payment_refunded' THEN
      p := webhook_refund(p, via, ev, 'refund', -1, at);
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
  IF NOT was_activated AND p.activated_at IS NOT NULL THEN
    PERFORM webhook_mail(p, 'welcome', 'Welcome, and thank you',
      E'Hello,\n\nthank you for becoming a patron. As a member you can vote for the '
      'topics we cover next; sign in with your e-mail address on our members page.\n');
  END IF;
  RETURN jsonb_strip_nulls(jsonb_build_object(
    'status', 'applied', 'pledge_id', p.id, 'adjusted', adjusted,
    'ballots_changed', patron_ballots_sync(p.patron_id)));
END
$$;

CREATE OR REPLACE FUNCTION webhook_event_json(e webhook_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'provider', e.provider, 'event_key', e.event_key, 'type', e.type,
    'status', e.status, 'reason', e.reason, 'pledge_id', e.pledge_id,
    'adjusted', e.adjusted,
    'received_at', rfc3339(e.received_at), 'applied_at', rfc3339(e.applied_at),
    'attempts', e.attempts)
$$;

-- As in 0012, keeping what the event adjusted and telling the caller
-- whether ballots moved (the tally must then be announced).
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

-- As in 0005 (replays), keeping what the event adjusted.
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

-- ---- reports follow the same rule ----

-- MRR at a moment: the monthly amounts of the recurring pledges that made
-- their patrons members then.
CREATE OR REPLACE FUNCTION mrr_at(at timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('currency', currency, 'amount_minor', amount)
                            ORDER BY currency), '[]')
  FROM (SELECT p.currency, sum(monthly_amount(p))::bigint AS amount
        FROM pledges p
        WHERE p.interval IN ('month', 'year') AND pledge_is_membership_at(p, at)
        GROUP BY p.currency) m
$$;

-- Churn counts lapses: members at the month's start who are no longer.
CREATE OR REPLACE FUNCTION report_summary() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  WITH month_start AS (SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS t),
  membership AS (
    SELECT p.patron_id, p.provider FROM pledges p
    JOIN patrons pa ON pa.id = p.patron_id AND pa.erased_at IS NULL
    WHERE pledge_is_membership(p)),
  first_paid AS (
    SELECT patron_id, min(activated_at) AS first_at FROM pledges
    WHERE activated_at IS NOT NULL GROUP BY patron_id),
  churned AS (
    SELECT DISTINCT p.patron_id FROM pledges p, month_start m
    WHERE pledge_is_membership_at(p, m.t)
      AND NOT EXISTS (SELECT 1 FROM membership x WHERE x.patron_id = p.patron_id))
  SELECT jsonb_build_object(
    'members', (SELECT count(DISTINCT patron_id) FROM membership),
    'patrons', (SELECT count(*) FROM patrons WHERE erased_at IS NULL),
    'mrr', mrr_at(now()),
    'new_members_this_month', (SELECT count(*) FROM first_paid f, month_start m
                               WHERE f.first_at >= m.t
                                 AND f.patron_id IN (SELECT patron_id FROM membership)),
    'churned_members_this_month', (SELECT count(*) FROM churned),
    'members_by_provider', (SELECT coalesce(jsonb_object_agg(provider, n), '{}')
                            FROM (SELECT provider, count(DISTINCT patron_id) AS n
                                  FROM membership GROUP BY provider) b),
    'as_of', rfc3339(now()))
$$;

-- As in 0011, but a count cached before ballots came in is not served
-- below the number of voters: the live tally never shows more voters than
-- members who may vote.
CREATE OR REPLACE FUNCTION round_eligible(r rounds) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  voted bigint := (SELECT coalesce(sum(voters), 0) FROM round_shards WHERE round_id = r.id);
BEGIN
  IF r.eligible_at > now() - interval '60 seconds' AND r.eligible >= voted THEN
    RETURN r.eligible;
  END IF;
  PERFORM 1 FROM rounds
    WHERE id = r.id AND (eligible_at IS NULL OR eligible_at <= now() - interval '60 seconds'
                         OR eligible < voted)
    FOR NO KEY UPDATE SKIP LOCKED;
  IF FOUND THEN
    n := member_count();
    UPDATE rounds SET eligible = n, eligible_at = now() WHERE id = r.id;
    RETURN n;
  END IF;
  IF r.eligible IS NOT NULL THEN
    RETURN greatest(r.eligible, voted);
  END IF;
  PERFORM 1 FROM rounds WHERE id = r.id FOR NO KEY UPDATE;
  SELECT eligible INTO n FROM rounds WHERE id = r.id;
  RETURN coalesce(n, member_count());
END
$$;
