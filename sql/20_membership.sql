-- Membership by the clock (SPEC §4 Membership): decided whenever it is
-- asked, from what a provider confirmed; a pledge that was never paid made
-- nobody a member, and refunded or lost charges pay for nothing.

-- PATROND_GRACE_DAYS reaches every session as patrond.grace_days
-- (api/db/conn.c); sessions without it (psql, pgbench) get the default.
CREATE OR REPLACE FUNCTION membership_grace() RETURNS interval
LANGUAGE sql STABLE AS $$
  SELECT make_interval(days => coalesce(nullif(current_setting('patrond.grace_days', true), ''),
                                        '7')::integer)
$$;

CREATE OR REPLACE FUNCTION pledge_interval_length(every text) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE every WHEN 'year' THEN interval '1 year' WHEN 'once' THEN interval '31 days'
                    ELSE interval '1 month' END
$$;

-- The grace a recurring pledge's membership gets after its paid period
-- (PATROND_GRACE_DAYS): none for a one-off, and none once the patron
-- asked for it to end (SPEC §4c: the membership runs to the end of the
-- paid period).
CREATE OR REPLACE FUNCTION pledge_grace(p pledges) RETURNS interval
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p.interval = 'once' OR p.cancel_requested_at IS NOT NULL THEN interval '0'
              ELSE membership_grace() END
$$;

-- Membership at a moment (SPEC §4 Membership). current_period_end is what
-- the provider's money paid for: every charge moves it (to the provider's
-- period end, else the charge plus one interval; a one-off: plus 31 days)
-- and a refund or lost dispute pulls it back, so a provider pledge without
-- one has paid for nothing. A manual pledge without one counts while
-- active. A pledge canceled after `at` was still standing then, which
-- lets reports look back; one canceled by `at` still counts until its
-- paid period ends, without grace (SPEC §4c), however it was canceled. A
-- plain SQL expression, so PostgreSQL inlines it into the queries that
-- scan many pledges.
CREATE OR REPLACE FUNCTION pledge_is_membership_at(p pledges, at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(p.activated_at, p.created_at) <= at
     AND CASE
       WHEN p.status IN ('active', 'past_due') OR (p.status = 'canceled' AND p.canceled_at > at)
       THEN CASE
         WHEN p.current_period_end IS NOT NULL THEN p.current_period_end + pledge_grace(p) > at
         WHEN p.provider <> 'manual' THEN false
         WHEN p.interval = 'once' THEN coalesce(p.activated_at, p.created_at) + interval '31 days' > at
         ELSE p.status = 'active'
       END
       WHEN p.status = 'canceled' THEN coalesce(p.current_period_end > at, false)
       ELSE false
     END
$$;

-- Membership now (SPEC §4): an active recurring pledge, a past_due one
-- within its grace, or a one-off pledge paid in the last 31 days.
CREATE OR REPLACE FUNCTION pledge_is_membership(p pledges) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT pledge_is_membership_at(p, now())
$$;

-- "lapsed" is a patron who was a member and is no longer: one for whom a
-- provider once confirmed money (a paid period, or a successful charge
-- even if refunded since), or whose manual pledge an admin activated. A
-- pledge that was never paid (a trial, an activation that charged
-- nothing) made nobody a member.
CREATE OR REPLACE FUNCTION patron_status(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN bool_or(pledge_is_membership(p)) THEN 'member'
    WHEN bool_or(p.current_period_end IS NOT NULL
                 OR (p.provider = 'manual' AND p.activated_at IS NOT NULL))
         OR EXISTS (SELECT 1 FROM payments x
                     WHERE x.patron_id = patron AND x.kind = 'charge' AND x.status = 'succeeded')
      THEN 'lapsed'
    ELSE 'none'
  END
  FROM pledges p WHERE p.patron_id = patron
$$;

-- Why a pledge makes its patron a member (NULL when it does not). Built on
-- pledge_is_membership() so the two can never disagree.
CREATE OR REPLACE FUNCTION pledge_membership_reason(p pledges) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT pledge_is_membership(p) THEN NULL
    WHEN p.interval = 'once' THEN 'one-off pledge paid in the last 31 days'
    WHEN p.status = 'canceled' THEN 'canceled pledge, paid until the end of its period'
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
    WHEN p.status = 'canceled' THEN p.current_period_end
    WHEN p.current_period_end IS NOT NULL THEN p.current_period_end + pledge_grace(p)
    WHEN p.interval = 'once' THEN coalesce(p.activated_at, p.created_at) + interval '31 days'
  END
$$;

-- Why a patron who is no member is not, worded for them (their
-- `member_reason`): the pledge that came closest to counting.
CREATE OR REPLACE FUNCTION patron_nonmember_reason(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce((
      SELECT CASE
        WHEN p.interval = 'once' AND p.status IN ('active', 'past_due')
          THEN 'one-off pledge not paid in the last 31 days'
        WHEN p.status IN ('active', 'past_due') AND p.current_period_end IS NULL
             AND p.provider <> 'manual'
          THEN 'pledge not paid yet'
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
$$;

-- Why the patron may not vote or propose; NULL for a member.
CREATE OR REPLACE FUNCTION patron_vote_refusal(patron uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM pledges p
                      WHERE p.patron_id = patron AND pledge_is_membership(p))
    THEN patron_nonmember_reason(patron)
  END
$$;

-- {member, member_reason, member_until} from the pledge that keeps the
-- patron a member longest (an open-ended one first).
CREATE OR REPLACE FUNCTION patron_membership(patron uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT jsonb_build_object('member', true,
                               'member_reason', pledge_membership_reason(p),
                               'member_until', rfc3339(pledge_membership_until(p)))
       FROM pledges p
      WHERE p.patron_id = patron AND pledge_is_membership(p)
      ORDER BY pledge_membership_until(p) DESC NULLS FIRST, p.status = 'active' DESC, p.seq
      LIMIT 1),
    jsonb_build_object('member', false, 'member_reason', patron_nonmember_reason(patron),
                       'member_until', NULL))
$$;

CREATE OR REPLACE FUNCTION member_count_at(at timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT p.patron_id)::integer
    FROM pledges p JOIN patrons pa ON pa.id = p.patron_id
   WHERE pa.erased_at IS NULL AND pledge_is_membership_at(p, at)
$$;

CREATE OR REPLACE FUNCTION member_count() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT member_count_at(now())
$$;

-- A patron's vote weight at a moment: the best tier among their
-- membership pledges (chosen as pledge_tier() does), 1 without tiers;
-- NULL when they are not a member then, or erased.
CREATE OR REPLACE FUNCTION patron_member_weight_at(patron uuid, at timestamptz) RETURNS integer
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

-- A member's vote weight now (see patron_member_weight_at), or NULL when
-- they are not a member.
CREATE OR REPLACE FUNCTION patron_member_weight(patron uuid) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN patron_member_weight_at(patron, now());
END
$$;

-- The clock's part, run by a job every few seconds: recurring pledges
-- whose paid period ended without a renewal turn past_due, and the
-- ballots of patrons whose membership ended since `since` are
-- re-weighed (a tier change re-weighs in its own transaction,
-- tiers_reweigh_ballots). The job passes its previous run (minus a
-- margin); -infinity looks at every ballot in an open round. Returns the
-- ballots changed.
CREATE OR REPLACE FUNCTION membership_sweep(since timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  patron uuid;
  n integer := 0;
BEGIN
  UPDATE pledges SET status = 'past_due', updated_at = now()
   WHERE status = 'active' AND interval <> 'once' AND current_period_end < now();
  FOR patron IN
    SELECT b.patron_id FROM ballots b JOIN rounds r ON r.id = b.round_id
     WHERE since = '-infinity' AND r.result IS NULL AND round_status(r) = 'open'
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE since <> '-infinity' AND p.status IN ('active', 'past_due')
       AND p.current_period_end BETWEEN since - membership_grace() AND now()
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE since <> '-infinity' AND p.status = 'canceled'
       AND p.current_period_end BETWEEN since AND now()
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE since <> '-infinity'
       AND p.interval = 'once' AND p.current_period_end IS NULL
       AND p.activated_at BETWEEN since - interval '31 days' AND now() - interval '31 days'
     ORDER BY 1
  LOOP
    n := n + patron_ballots_sync(patron);
  END LOOP;
  RETURN n;
END
$$;

