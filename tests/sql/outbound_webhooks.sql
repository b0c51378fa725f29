-- Outbound webhooks (SPEC §4b): the triggers of sql/87_outbound_webhooks.sql
-- queue one delivery per listening endpoint in the transaction of the change
-- (a rolled-back change queues nothing); membership flips are announced at
-- commit and by the clock's sweep; erasure scrubs payloads; the delivery
-- job's claim leases, and outcomes follow the retry schedule. The
-- membership and round triggers run at commit (deferred): made immediate
-- here, as this file's transaction never commits.
BEGIN;
SET LOCAL client_min_messages = warning;  -- quiet "extension already exists"
CREATE EXTENSION IF NOT EXISTS pgtap;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT plan(49);

CREATE FUNCTION pg_temp.queued(ep uuid) RETURNS text[]
LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event_type ORDER BY seq), '{}') FROM webhook_deliveries
   WHERE endpoint_id = ep
$$;
CREATE FUNCTION pg_temp.reset() RETURNS void
LANGUAGE sql AS $$ DELETE FROM webhook_deliveries $$;

-- ---- nobody listening ----

INSERT INTO patrons (email, name) VALUES ('ob@example.org', 'Olena B') RETURNING id AS pa \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref)
VALUES (:'pa', 500, 'EUR', 'month', 'stripe', 'sub_ob0');
SELECT is((SELECT count(*) FROM webhook_deliveries), 0::bigint,
          'without endpoints nothing is queued');

-- ---- endpoints ----

SELECT (webhook_endpoint_create('https://hooks.example.org/all', '["*"]', NULL,
                                'whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=') ->> 'id') AS all_ep \gset
SELECT (webhook_endpoint_create('https://hooks.example.org/pay', '["payment.succeeded"]', 'money',
                                'whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=') ->> 'id') AS pay_ep \gset
SELECT ok(NOT (webhook_endpoint_json(e) ? 'secret'), 'the endpoint view never shows the secret')
  FROM webhook_endpoints e WHERE id = :'all_ep';

-- ---- pledges ----

INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, provider_ref)
VALUES (:'pa', 500, 'EUR', 'month', 'stripe', 'sub_ob1') RETURNING id AS pl \gset
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.created'], 'a new pledge: pledge.created');
SELECT is(pg_temp.queued(:'pay_ep'), '{}'::text[], 'an endpoint not listening gets nothing');
SELECT is((SELECT payload -> 'data' FROM webhook_deliveries WHERE endpoint_id = :'all_ep'),
          (SELECT pledge_json(p) FROM pledges p WHERE id = :'pl'),
          'data is the pledge as the admin API shows it');
SELECT is((SELECT payload ->> 'type' FROM webhook_deliveries WHERE endpoint_id = :'all_ep'),
          'pledge.created', 'the body names its type');
SELECT pg_temp.reset();

UPDATE pledges SET status = 'active', activated_at = now(), current_period_end = now() + interval '30 days'
 WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.activated', 'member.started'],
          'activated: pledge.activated, and the patron became a member');
SELECT is((SELECT payload -> 'data' ->> 'email' FROM webhook_deliveries
            WHERE event_type = 'member.started'), 'ob@example.org',
          'member.started carries the patron');
SELECT is((SELECT payload -> 'data' ->> 'member_until' FROM webhook_deliveries
            WHERE event_type = 'member.started'),
          rfc3339(now() + interval '37 days'), 'and until when (period end plus the grace)');
SELECT pg_temp.reset();

UPDATE pledges SET current_period_end = now() + interval '60 days' WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), '{}'::text[],
          'a renewal (period end moved) is no event and no second member.started');
UPDATE pledges SET amount_minor = 700 WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.updated'], 'the amount changed: pledge.updated');
SELECT pg_temp.reset();
UPDATE pledges SET last_event_at = now() WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), '{}'::text[], 'bookkeeping columns announce nothing');

-- ---- payments ----

INSERT INTO payments (kind, amount_minor, currency, provider, provider_payment_id, pledge_id,
                      patron_id, occurred_at)
VALUES ('charge', 700, 'EUR', 'stripe', 'ch_ob1', :'pl', :'pa', now()) RETURNING id AS ch \gset
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['payment.succeeded'], 'a charge: payment.succeeded');
SELECT is(pg_temp.queued(:'pay_ep'), ARRAY['payment.succeeded'], 'to every endpoint listening');
INSERT INTO payments (kind, status, amount_minor, currency, provider, provider_payment_id,
                      pledge_id, patron_id, occurred_at, failure_reason)
VALUES ('charge', 'failed', 700, 'EUR', 'stripe', 'ch_ob2', :'pl', :'pa', now(), 'card_declined');
INSERT INTO payments (kind, amount_minor, currency, provider, provider_payment_id, pledge_id,
                      patron_id, occurred_at, refunds_payment_id)
VALUES ('refund', -700, 'EUR', 'stripe', 're_ob1', :'pl', :'pa', now(), :'ch');
SELECT is(pg_temp.queued(:'all_ep'),
          ARRAY['payment.succeeded', 'payment.failed', 'payment.refunded'],
          'a failed charge and a refund');
SELECT pg_temp.reset();

-- ---- what rolls back queues nothing ----

SAVEPOINT before_cancel;
-- its paid period over: a canceled pledge counts until then
UPDATE pledges SET status = 'canceled', canceled_at = now(), current_period_end = now()
 WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.canceled', 'member.ended'],
          'canceled: pledge.canceled and member.ended, inside the transaction');
ROLLBACK TO SAVEPOINT before_cancel;
SELECT is((SELECT count(*) FROM webhook_deliveries), 0::bigint,
          'rolled back: the events went with the change');
SELECT is((SELECT member FROM webhook_member_state WHERE patron_id = :'pa'), true,
          'and so did the membership flip');

UPDATE pledges SET status = 'past_due' WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.past_due'],
          'past_due within the period: pledge.past_due, still a member');
SELECT pg_temp.reset();

-- ---- the clock ----

-- The period runs out without any write a trigger sees: the membership
-- trigger is held off while the row is moved into the past.
ALTER TABLE pledges DISABLE TRIGGER pledges_outbound_member_update;
ALTER TABLE pledges DISABLE TRIGGER pledges_outbound_changed;
UPDATE pledges SET current_period_end = now() - interval '30 days' WHERE id = :'pl';
ALTER TABLE pledges ENABLE TRIGGER pledges_outbound_member_update;
ALTER TABLE pledges ENABLE TRIGGER pledges_outbound_changed;
SELECT is(pg_temp.queued(:'all_ep'), '{}'::text[], '(nothing seen yet)');
UPDATE webhook_member_state SET until = now() - interval '1 second' WHERE patron_id = :'pa';
SELECT ok(outbound_clock_sweep(100) >= 1, 'the sweep looks at memberships whose time ran out');
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['member.ended'], 'the clock ended it: member.ended');
SELECT outbound_clock_sweep(100);
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['member.ended'], 'announced once');
SELECT pg_temp.reset();

-- ---- erasure ----

UPDATE pledges SET current_period_end = now() + interval '30 days', status = 'active' WHERE id = :'pl';
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.activated', 'member.started'], 'member again');
SELECT patron_erase(:'pa');
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['pledge.activated', 'member.started', 'member.ended'],
          'an erased patron is a member no more');
SELECT is((SELECT count(*) FROM webhook_deliveries
            WHERE payload::text LIKE '%ob@example.org%' OR payload::text LIKE '%Olena%'),
          0::bigint, 'erasure scrubbed the e-mail and name from every payload');
SELECT pg_temp.reset();

-- ---- topics and rounds ----

INSERT INTO topics (title) VALUES ('Bridges') RETURNING id AS t1 \gset
UPDATE topics SET updated_at = now() WHERE id = :'t1';
UPDATE topics SET title = 'Bridges and roads', status = 'open' WHERE id = :'t1';
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['topic.proposed', 'topic.updated'],
          'a topic: proposed, then updated (an untouched row is no update)');
SELECT pg_temp.reset();

SELECT round_create('Soon', jsonb_build_array(:'t1'), now() + interval '1 hour',
                    now() + interval '2 hours', 1) ->> 'id' AS later \gset
SELECT is(pg_temp.queued(:'all_ep'), '{}'::text[], 'a scheduled round: nothing yet');
-- As at a commit: the round's topics are set after its row is inserted.
SET CONSTRAINTS rounds_outbound DEFERRED;
SELECT round_create('Now', jsonb_build_array(:'t1'), now() - interval '1 minute',
                    now() + interval '1 day', 1) ->> 'id' AS r \gset
SET CONSTRAINTS rounds_outbound IMMEDIATE;
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['round.opened'], 'a round already open: round.opened');
SELECT is((SELECT payload -> 'data' -> 'topic_ids' FROM webhook_deliveries),
          jsonb_build_array(:'t1'), 'with its topics');
SELECT pg_temp.reset();
SELECT round_close(:'r');
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['round.closed'], 'closed: round.closed');
SELECT ok((SELECT payload -> 'data' -> 'result' -> 'winners' IS NOT NULL FROM webhook_deliveries),
          'with the frozen result');
SELECT round_close(:'r');
SELECT is(pg_temp.queued(:'all_ep'), ARRAY['round.closed'], 'announced once');
SELECT pg_temp.reset();

-- ---- delivery: claim, lease, outcomes ----

UPDATE webhook_endpoints SET enabled = false WHERE id = :'pay_ep';
INSERT INTO topics (title) VALUES ('Parks');
SELECT is((SELECT count(*) FROM webhook_deliveries), 1::bigint,
          'a disabled endpoint is not queued for');
SELECT delivery AS d FROM outbound_claim(10, 4, '60 seconds') \gset
SELECT ok(:'d' IS NOT NULL, 'the claim leases the due delivery');
SELECT is((SELECT count(*) FROM outbound_claim(10, 4, '60 seconds')), 0::bigint,
          'and no second claim gets it while the lease runs');
UPDATE webhook_deliveries SET locked_until = now() - interval '1 second';
SELECT is((SELECT count(*) FROM outbound_claim(10, 4, '60 seconds')), 1::bigint,
          'a lease run out (a killed sender) gives it back');
SELECT is(outbound_attempted(:'d', 500, 'the endpoint answered 500', NULL), 'retry',
          'a 500 is retried');
SELECT is((SELECT next_attempt_at FROM webhook_deliveries WHERE id = :'d'),
          now() + interval '5 seconds', 'after 5 s');
SELECT is(outbound_attempted(:'d', 204, NULL, NULL), 'delivered', 'a 2xx delivers');
SELECT is(outbound_attempted(:'d', 200, NULL, NULL), NULL, 'an outcome for a delivered one is ignored');

UPDATE webhook_deliveries SET status = 'pending', attempts = 7 WHERE id = :'d';
UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = :'all_ep';
SELECT is(outbound_attempted(:'d', NULL, 'connection refused', 'ops@example.org'), 'failed',
          'the eighth failed attempt is the last');
SELECT is((SELECT enabled FROM webhook_endpoints WHERE id = :'all_ep'), false,
          'an endpoint failing for 5 days is disabled');
SELECT is((SELECT count(*) FROM outbox WHERE kind = 'webhook_endpoint_disabled'
              AND to_address = 'ops@example.org'), 1::bigint, 'and the admins are mailed');

-- ---- membership is tracked only while someone listens ----

DELETE FROM webhook_endpoints;
INSERT INTO patrons (email) VALUES ('quiet@example.org') RETURNING id AS pb \gset
INSERT INTO pledges (patron_id, amount_minor, currency, interval, provider, status, activated_at)
VALUES (:'pb', 500, 'EUR', 'month', 'manual', 'active', now()) RETURNING id AS pbl \gset
SELECT is((SELECT count(*) FROM webhook_member_state WHERE patron_id = :'pb'), 0::bigint,
          'with no endpoint listening to member events, membership is not tracked');
SELECT webhook_endpoint_create('https://hooks.example.org/members', '["member.ended"]', NULL,
                               'whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=') ->> 'id' AS mem_ep \gset
SELECT is((SELECT member FROM webhook_member_state WHERE patron_id = :'pb'), true,
          'the first endpoint to listen takes today''s members as the baseline');
SELECT is((SELECT member FROM webhook_member_state WHERE patron_id = :'pa'), false,
          'and those who are members no more');
SELECT is(pg_temp.queued(:'mem_ep'), '{}'::text[], 'announcing none of them');
UPDATE pledges SET status = 'canceled' WHERE id = :'pbl';
SELECT is(pg_temp.queued(:'mem_ep'), ARRAY['member.ended'], 'a flip after that is announced');

SELECT * FROM finish();
ROLLBACK;
