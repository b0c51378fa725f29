-- The bench's data set (../shared/bench/README.md), in patrond's schema:
-- 100 000 members p<n>@example.org with session tokens tok-<n> (stored as
-- patrond stores them: the token's SHA-256), an active monthly Stripe
-- pledge sub_<n> each, and one open round of 10 topics. No audit actor is
-- set, so the triggers record nothing for this bulk load.
BEGIN;
INSERT INTO patrons (email, name)
SELECT 'p' || n || '@example.org', 'Patron ' || n FROM generate_series(1, 100000) n;

INSERT INTO sessions (patron_id, token_hash, expires_at)
SELECT p.id, sha256(convert_to('tok-' || p.seq, 'UTF8')), now() + interval '30 days'
  FROM patrons p;

-- customer cus_<n>, as the subscription's earlier events (checkout,
-- first invoice) would have recorded it
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref,
                     customer_ref, status, current_period_end, activated_at)
SELECT p.id, 500, 'UAH', 'month', 'stripe', 'sub_' || p.seq, 'cus_' || p.seq, 'active',
       now() + interval '1 month', now()
  FROM patrons p;

INSERT INTO topics (title, status)
SELECT 'Topic ' || n, 'open' FROM generate_series(1, 10) n;

SELECT round_create('Bench round',
                    (SELECT jsonb_agg(id ORDER BY seq) FROM topics),
                    now() - interval '1 minute', now() + interval '30 days', 1) IS NOT NULL AS created \gset
COMMIT;
ANALYZE;
