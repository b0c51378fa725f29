-- Reports (SPEC §4): membership figures and monthly recurring revenue,
-- by the same membership rule as everything else (sql/20_membership.sql).
-- MRR counts recurring pledges only; a yearly pledge is 1/12 per month.

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

-- One entry per calendar month (UTC), oldest first, each measured at the
-- month's end (or now, for the current month).
CREATE OR REPLACE FUNCTION report_mrr(months integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('months', jsonb_agg(jsonb_build_object(
           'month', to_char(m, 'YYYY-MM'),
           'mrr', mrr_at(least(now(), (m + interval '1 month') AT TIME ZONE 'UTC')))
         ORDER BY m))
  FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC') - (months - 1) * interval '1 month',
                       date_trunc('month', now() AT TIME ZONE 'UTC'), interval '1 month') AS m
$$;

