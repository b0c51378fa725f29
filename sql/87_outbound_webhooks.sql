-- Outbound webhooks (SPEC §4b): the newsroom's endpoints, the events
-- queued for them by triggers in the transaction of the change itself (a
-- rolled-back change queues nothing), and the delivery job's claim and
-- outcome (api/jobs/webhook_delivery.c). PTnnn messages reach the client as
-- the problem's detail.

CREATE OR REPLACE FUNCTION outbound_event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['member.started', 'member.ended', 'pledge.created', 'pledge.activated',
               'pledge.updated', 'pledge.past_due', 'pledge.canceled', 'payment.succeeded',
               'payment.failed', 'payment.refunded', 'round.opened', 'round.closed',
               'topic.proposed', 'topic.updated']
$$;

-- ---- the admin's view ----

-- Never the secrets: they are shown once, by create and rotate-secret.
CREATE OR REPLACE FUNCTION webhook_endpoint_json(e webhook_endpoints) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'url', e.url, 'events', to_jsonb(e.events), 'description', e.description,
    'enabled', e.enabled, 'disabled_reason', e.disabled_reason,
    'failing_since', rfc3339(e.failing_since),
    'previous_secret_expires_at',
      rfc3339(CASE WHEN e.previous_expires_at > now() THEN e.previous_expires_at END),
    'created_at', rfc3339(e.created_at), 'updated_at', rfc3339(e.updated_at))
$$;

CREATE OR REPLACE FUNCTION webhook_delivery_json(d webhook_deliveries) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', d.id, 'endpoint_id', d.endpoint_id, 'type', d.event_type, 'status', d.status,
    'attempts', d.attempts, 'last_status_code', d.last_status_code,
    'last_error', d.last_error,
    'next_attempt_at', rfc3339(CASE WHEN d.status = 'pending' THEN d.next_attempt_at END),
    'last_attempt_at', rfc3339(d.last_attempt_at), 'delivered_at', rfc3339(d.delivered_at),
    'created_at', rfc3339(d.created_at), 'payload', d.payload)
$$;

-- ---- the admin's writes ----

CREATE OR REPLACE FUNCTION webhook_endpoint_create(target_url text, kinds jsonb, about text,
                                                   new_secret text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  e webhook_endpoints;
BEGIN
  INSERT INTO webhook_endpoints (url, events, description, secret)
  VALUES (target_url, ARRAY(SELECT DISTINCT jsonb_array_elements_text(kinds) ORDER BY 1), about,
          new_secret)
  RETURNING * INTO e;
  RETURN webhook_endpoint_json(e) || jsonb_build_object('secret', new_secret);
END
$$;

-- PATCH: only the keys present change. Enabling an endpoint again forgets
-- its failures, so the 5 days start afresh.
CREATE OR REPLACE FUNCTION webhook_endpoint_patch(target uuid, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e webhook_endpoints;
BEGIN
  UPDATE webhook_endpoints w SET
    url = CASE WHEN patch ? 'url' THEN patch ->> 'url' ELSE w.url END,
    events = CASE WHEN patch ? 'events'
                  THEN ARRAY(SELECT DISTINCT jsonb_array_elements_text(patch -> 'events') ORDER BY 1)
                  ELSE w.events END,
    description = CASE WHEN patch ? 'description' THEN patch ->> 'description'
                       ELSE w.description END,
    enabled = CASE WHEN patch ? 'enabled' THEN (patch ->> 'enabled')::boolean ELSE w.enabled END,
    failing_since = CASE WHEN (patch ->> 'enabled')::boolean AND NOT w.enabled THEN NULL
                         ELSE w.failing_since END,
    disabled_reason = CASE WHEN patch ? 'enabled' THEN NULL ELSE w.disabled_reason END,
    updated_at = now()
  WHERE w.id = target
  RETURNING * INTO e;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such webhook endpoint.' USING ERRCODE = 'PT404';
  END IF;
  RETURN webhook_endpoint_json(e);
END
$$;

-- The new secret signs from now on; the old one goes on signing beside it
-- for 24 hours, while the receiver is switched over. A second rotation
-- within those hours retires the oldest.
CREATE OR REPLACE FUNCTION webhook_endpoint_rotate(target uuid, new_secret text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e webhook_endpoints;
BEGIN
  UPDATE webhook_endpoints
     SET previous_secret = secret, previous_expires_at = now() + interval '24 hours',
         secret = new_secret, updated_at = now()
   WHERE id = target
  RETURNING * INTO e;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such webhook endpoint.' USING ERRCODE = 'PT404';
  END IF;
  RETURN webhook_endpoint_json(e) || jsonb_build_object('secret', new_secret);
END
$$;

-- A manual retry sends the delivery once more now, whatever became of it:
-- within its schedule the schedule goes on afterwards; a failed one that
-- fails again stays failed. Audited, as admin writes are, without the
-- payload, which holds the patron's data.
CREATE OR REPLACE FUNCTION webhook_delivery_retry(target uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  d webhook_deliveries;
  live boolean;
  old jsonb;
  answer jsonb;
BEGIN
  SELECT e.enabled, webhook_delivery_json(x) - 'payload' INTO live, old
    FROM webhook_deliveries x JOIN webhook_endpoints e ON e.id = x.endpoint_id
   WHERE x.id = target FOR UPDATE OF x;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No such webhook delivery.' USING ERRCODE = 'PT404';
  END IF;
  IF NOT live THEN
    RAISE EXCEPTION 'The endpoint is disabled: enable it first.' USING ERRCODE = 'PT409';
  END IF;
  UPDATE webhook_deliveries
     SET status = 'pending', next_attempt_at = now(), delivered_at = NULL
   WHERE id = target
  RETURNING * INTO d;
  answer := webhook_delivery_json(d);
  PERFORM audit_record('retry', 'webhook_deliveries', target, old, answer - 'payload');
  RETURN answer;
END
$$;

-- Audited like the other admin writes (sql/90_audit.sql), but without
-- the secrets, which must not outlive their rotation in the audit trail.
CREATE OR REPLACE FUNCTION outbound_endpoint_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM audit_record(
    CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
    'webhook_endpoints', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
    CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE webhook_endpoint_json(OLD) END,
    CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE webhook_endpoint_json(NEW) END);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER webhook_endpoints_audit
  AFTER INSERT OR UPDATE OR DELETE ON webhook_endpoints
  FOR EACH ROW EXECUTE FUNCTION outbound_endpoint_audit();

-- ---- emission ----

-- Queues one delivery per enabled endpoint that listens to `typ`; the
-- event's timestamp is its transaction's. `patron`: whose personal data
-- `data` may hold (erasure scrubs it).
CREATE OR REPLACE FUNCTION outbound_emit(typ text, patron uuid, data jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO webhook_deliveries (endpoint_id, event_type, patron_id, payload)
  SELECT e.id, typ, patron,
         jsonb_build_object('type', typ, 'timestamp', rfc3339(now()), 'data', data)
    FROM webhook_endpoints e
   WHERE e.enabled AND (typ = ANY (e.events) OR '*' = ANY (e.events))
$$;

-- Whether an enabled endpoint listens to any of `kinds` (NULL: to any
-- event at all). The triggers ask first, so an installation without
-- endpoints builds no payloads on its hot paths (webhook receipt,
-- checkout), and membership is tracked only while someone listens to it.
-- plpgsql, not sql: its plan is kept, where an inlined EXISTS would be
-- planned again in every trigger call.
CREATE OR REPLACE FUNCTION outbound_listening(kinds text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF kinds IS NULL THEN
    PERFORM FROM webhook_endpoints WHERE enabled LIMIT 1;
  ELSE
    PERFORM FROM webhook_endpoints WHERE enabled AND events && ('*'::text || kinds) LIMIT 1;
  END IF;
  RETURN FOUND;
END
$$;

-- Pledges: created; a status reached (active, past_due, canceled); the
-- figures changed (amount, interval or tier).
CREATE OR REPLACE FUNCTION outbound_pledge_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  data jsonb;
  was text;
BEGIN
  IF NOT outbound_listening(NULL) THEN
    RETURN NULL;
  END IF;
  data := pledge_json(NEW);
  IF TG_OP = 'INSERT' THEN
    PERFORM outbound_emit('pledge.created', NEW.patron_id, data);
  ELSE
    was := OLD.status;
    IF OLD.amount_minor <> NEW.amount_minor OR OLD.currency <> NEW.currency
       OR OLD.interval <> NEW.interval OR pledge_tier(OLD) IS DISTINCT FROM pledge_tier(NEW) THEN
      PERFORM outbound_emit('pledge.updated', NEW.patron_id, data);
    END IF;
  END IF;
  IF NEW.status IS DISTINCT FROM was AND NEW.status IN ('active', 'past_due', 'canceled') THEN
    PERFORM outbound_emit(CASE NEW.status WHEN 'active' THEN 'pledge.activated'
                                          WHEN 'past_due' THEN 'pledge.past_due'
                                          ELSE 'pledge.canceled' END,
                          NEW.patron_id, data);
  END IF;
  RETURN NULL;
END
$$;

-- A renewal (a new period end, bookkeeping columns) is no event: the WHEN
-- clause spares the hot path of every webhook the function call.
CREATE OR REPLACE TRIGGER pledges_outbound_created AFTER INSERT ON pledges
  FOR EACH ROW EXECUTE FUNCTION outbound_pledge_events();
CREATE OR REPLACE TRIGGER pledges_outbound_changed AFTER UPDATE ON pledges
  FOR EACH ROW
  WHEN ((OLD.status, OLD.amount_minor, OLD.currency, OLD.interval, OLD.tier_id)
        IS DISTINCT FROM (NEW.status, NEW.amount_minor, NEW.currency, NEW.interval, NEW.tier_id))
  EXECUTE FUNCTION outbound_pledge_events();

-- Payments: a charge recorded (succeeded or failed) or later succeeding;
-- a refund. Disputes have no event type of their own.
CREATE OR REPLACE FUNCTION outbound_payment_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  typ text;
BEGIN
  IF NOT outbound_listening(NULL) THEN
    RETURN NULL;
  END IF;
  IF NEW.kind = 'refund' AND TG_OP = 'INSERT' THEN
    typ := 'payment.refunded';
  ELSIF NEW.kind = 'charge' AND (TG_OP = 'INSERT' OR OLD.status <> NEW.status) THEN
    typ := CASE NEW.status WHEN 'succeeded' THEN 'payment.succeeded' ELSE 'payment.failed' END;
  ELSE
    RETURN NULL;
  END IF;
  PERFORM outbound_emit(typ, NEW.patron_id, payment_json(NEW));
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER payments_outbound_created AFTER INSERT ON payments
  FOR EACH ROW EXECUTE FUNCTION outbound_payment_events();
CREATE OR REPLACE TRIGGER payments_outbound_changed AFTER UPDATE ON payments
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION outbound_payment_events();

-- Topics: a new one (proposed by a member or added by an admin); an edit
-- of what the admin API shows.
CREATE OR REPLACE FUNCTION outbound_topic_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT outbound_listening(NULL) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM outbound_emit('topic.proposed', NULL, topic_json(NEW));
  ELSIF (OLD.title, OLD.description, OLD.status, OLD.covered_url)
        IS DISTINCT FROM (NEW.title, NEW.description, NEW.status, NEW.covered_url) THEN
    PERFORM outbound_emit('topic.updated', NULL, topic_json(NEW));
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER topics_outbound AFTER INSERT OR UPDATE ON topics
  FOR EACH ROW EXECUTE FUNCTION outbound_topic_events();

-- Rounds open and close by the clock: each is announced once (the mark's
-- key decides, however many transactions look at once), opened when its
-- opening time has come, closed once its result is frozen (with it). A
-- round whose whole open time passed unobserved is announced as opened,
-- then closed; one closed before it opened never opened. The marks are
-- kept even with no endpoint, so an endpoint added later is not told of
-- rounds that opened before it.
CREATE OR REPLACE FUNCTION outbound_round_check(round uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r rounds;
BEGIN
  SELECT * INTO r FROM rounds WHERE id = round;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF r.opens_at <= now() AND coalesce(r.closed_at, r.closes_at) > r.opens_at THEN
    INSERT INTO webhook_round_marks (round_id, event) VALUES (round, 'round.opened')
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      PERFORM outbound_emit('round.opened', NULL,
                            round_json(r) || jsonb_build_object('status', 'open', 'closed_at', NULL,
                                                                'result', NULL));
    END IF;
  END IF;
  IF r.result IS NOT NULL THEN
    INSERT INTO webhook_round_marks (round_id, event) VALUES (round, 'round.closed')
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      PERFORM outbound_emit('round.closed', NULL, round_json(r));
    END IF;
  END IF;
END
$$;

-- At commit, so the payload shows the round with its topics (set after
-- the row is inserted) and its frozen result.
CREATE OR REPLACE FUNCTION outbound_round_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM outbound_round_check(NEW.id);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS rounds_outbound ON rounds;
CREATE CONSTRAINT TRIGGER rounds_outbound AFTER INSERT OR UPDATE ON rounds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION outbound_round_events();

-- member.started / member.ended: the patron's membership now (an erased
-- patron is no member: they can no longer vote either) against what was
-- last announced. Run at the commit of every change to their pledges and
-- by the clock's sweep once a membership's `until` has passed. The state
-- row's lock orders concurrent checks of one patron: the later one finds
-- the flip already announced.
CREATE OR REPLACE FUNCTION outbound_member_check(patron uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  m jsonb;
  pa patrons;
  member_now boolean;
  until_now timestamptz;
  was webhook_member_state;
BEGIN
  SELECT * INTO pa FROM patrons WHERE id = patron;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  m := patron_membership(patron);
  member_now := (m ->> 'member')::boolean AND pa.erased_at IS NULL;
  until_now := CASE WHEN member_now THEN (m ->> 'member_until')::timestamptz END;
  FOR attempt IN 1..2 LOOP
    SELECT * INTO was FROM webhook_member_state WHERE patron_id = patron FOR UPDATE;
    IF FOUND THEN
      IF was.member = member_now THEN
        IF was.until IS DISTINCT FROM until_now THEN
          UPDATE webhook_member_state SET until = until_now WHERE patron_id = patron;
        END IF;
        RETURN;
      END IF;
      UPDATE webhook_member_state SET member = member_now, until = until_now, changed_at = now()
       WHERE patron_id = patron;
      EXIT;
    END IF;
    IF NOT member_now THEN
      RETURN;
    END IF;
    -- A concurrent first check of the same patron inserts first: look again.
    INSERT INTO webhook_member_state (patron_id, member, until)
    VALUES (patron, true, until_now) ON CONFLICT DO NOTHING;
    EXIT WHEN FOUND;
  END LOOP;
  PERFORM outbound_emit(CASE WHEN member_now THEN 'member.started' ELSE 'member.ended' END, patron,
                        patron_json(pa) || m || jsonb_build_object('member', member_now));
END
$$;

CREATE OR REPLACE FUNCTION outbound_pledge_member_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT outbound_listening(ARRAY['member.started', 'member.ended']) THEN
    RETURN NULL;
  END IF;
  PERFORM outbound_member_check(NEW.patron_id);
  IF TG_OP = 'UPDATE' AND OLD.patron_id <> NEW.patron_id THEN
    PERFORM outbound_member_check(OLD.patron_id);
  END IF;
  RETURN NULL;
END
$$;

-- At commit, so a transaction that moves a pledge through several states
-- announces only where it ended. Only columns that decide membership.
DROP TRIGGER IF EXISTS pledges_outbound_member_insert ON pledges;
CREATE CONSTRAINT TRIGGER pledges_outbound_member_insert AFTER INSERT ON pledges
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION outbound_pledge_member_events();
DROP TRIGGER IF EXISTS pledges_outbound_member_update ON pledges;
CREATE CONSTRAINT TRIGGER pledges_outbound_member_update AFTER UPDATE ON pledges
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN ((OLD.status, OLD.current_period_end, OLD.activated_at, OLD.canceled_at, OLD.interval,
         OLD.provider, OLD.patron_id, OLD.cancel_requested_at)
        IS DISTINCT FROM (NEW.status, NEW.current_period_end, NEW.activated_at, NEW.canceled_at,
                          NEW.interval, NEW.provider, NEW.patron_id, NEW.cancel_requested_at))
  EXECUTE FUNCTION outbound_pledge_member_events();

-- Erasure (DELETE /v1/patrons/{id}, DELETE /v1/me): the personal fields
-- leave every payload queued or logged about the patron, and a member
-- stops being one.
CREATE OR REPLACE FUNCTION outbound_scrub_patron(patron uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE webhook_deliveries d
     SET payload = jsonb_set(d.payload, '{data}',
                             (d.payload -> 'data') || jsonb_build_object('email', NULL, 'name', NULL))
   WHERE d.patron_id = patron AND (d.payload -> 'data') ?| ARRAY['email', 'name']
$$;

CREATE OR REPLACE FUNCTION outbound_patron_erased() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF outbound_listening(ARRAY['member.started', 'member.ended']) THEN
    PERFORM outbound_member_check(NEW.id);
  END IF;
  PERFORM outbound_scrub_patron(NEW.id);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER patrons_outbound_erased AFTER UPDATE OF erased_at ON patrons
  FOR EACH ROW WHEN (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL)
  EXECUTE FUNCTION outbound_patron_erased();

-- The clock's part (the webhook-clock job, every few seconds in every
-- instance): rounds whose opening time has come, memberships whose time
-- ran out. Returns how many it looked at.
CREATE OR REPLACE FUNCTION outbound_clock_sweep(batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  target uuid;
  n integer := 0;
BEGIN
  FOR target IN
    SELECT r.id FROM rounds r
     WHERE r.opens_at <= now() AND r.result IS NULL
       AND NOT EXISTS (SELECT 1 FROM webhook_round_marks k
                        WHERE k.round_id = r.id AND k.event = 'round.opened')
     ORDER BY r.opens_at LIMIT batch
  LOOP
    PERFORM outbound_round_check(target);
    n := n + 1;
  END LOOP;
  FOR target IN
    SELECT s.patron_id FROM webhook_member_state s
     WHERE s.member AND s.until <= now() AND outbound_listening(ARRAY['member.started', 'member.ended'])
     ORDER BY s.until LIMIT batch
  LOOP
    PERFORM outbound_member_check(target);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- Nobody listened to member events until now: what was recorded is stale,
-- so today's members become the baseline, announced to no one. The
-- installation without such an endpoint pays nothing for the tracking on
-- its hot paths (every webhook, every checkout); this pays once, when the
-- first endpoint starts listening.
CREATE OR REPLACE FUNCTION outbound_member_baseline() RETURNS void
LANGUAGE sql AS $$
  WITH members AS (
    SELECT m.patron_id, (patron_membership(m.patron_id) ->> 'member_until')::timestamptz AS until
      FROM (SELECT DISTINCT p.patron_id FROM pledges p JOIN patrons pa ON pa.id = p.patron_id
             WHERE pa.erased_at IS NULL AND pledge_is_membership(p)) m
  ), lapsed AS (
    UPDATE webhook_member_state s SET member = false, until = NULL, changed_at = now()
     WHERE s.member AND NOT EXISTS (SELECT 1 FROM members m WHERE m.patron_id = s.patron_id)
  )
  INSERT INTO webhook_member_state (patron_id, member, until)
  SELECT patron_id, true, until FROM members
  ON CONFLICT (patron_id) DO UPDATE SET member = true, until = EXCLUDED.until
$$;

CREATE OR REPLACE FUNCTION outbound_endpoint_listens() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                  WHERE e.id <> NEW.id AND e.enabled
                    AND e.events && ARRAY['*', 'member.started', 'member.ended'])
     AND (TG_OP = 'INSERT' OR NOT OLD.enabled
          OR NOT OLD.events && ARRAY['*', 'member.started', 'member.ended']) THEN
    PERFORM outbound_member_baseline();
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER webhook_endpoints_member_baseline
  AFTER INSERT OR UPDATE OF enabled, events ON webhook_endpoints
  FOR EACH ROW
  WHEN (NEW.enabled AND ('*' = ANY (NEW.events) OR 'member.started' = ANY (NEW.events)
                         OR 'member.ended' = ANY (NEW.events)))
  EXECUTE FUNCTION outbound_endpoint_listens();

-- ---- delivery (api/jobs/webhook_delivery.c) ----

-- Due deliveries of enabled endpoints, at most `per_endpoint` of each (so
-- one slow endpoint cannot fill a batch), leased for `lease`: another
-- instance skips them until the lease runs out, which is also how a killed
-- instance's deliveries come back. The claim commits at once; nothing stays
-- locked while they are sent.
CREATE OR REPLACE FUNCTION outbound_claim(batch integer, per_endpoint integer, lease interval)
RETURNS TABLE (delivery uuid, endpoint uuid, target_url text, secrets text[], body text)
LANGUAGE sql AS $$
  WITH due AS (
    SELECT c.id, row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.seq) AS n
      FROM (SELECT d.id, d.endpoint_id, d.next_attempt_at, d.seq
              FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= now()
               AND (d.locked_until IS NULL OR d.locked_until <= now()) AND e.enabled
             ORDER BY d.next_attempt_at LIMIT 1000) c
  ), picked AS (
    SELECT d.id FROM webhook_deliveries d
     WHERE d.id IN (SELECT due.id FROM due WHERE due.n <= per_endpoint)
       AND d.status = 'pending' AND (d.locked_until IS NULL OR d.locked_until <= now())
     ORDER BY d.next_attempt_at, d.seq LIMIT batch
       FOR UPDATE SKIP LOCKED
  )
  UPDATE webhook_deliveries d SET locked_until = now() + lease
    FROM picked, webhook_endpoints e
   WHERE d.id = picked.id AND e.id = d.endpoint_id
  RETURNING d.id, e.id, e.url,
            array_remove(ARRAY[e.secret, CASE WHEN e.previous_expires_at > now()
                                              THEN e.previous_secret END], NULL),
            d.payload::text
$$;

-- The wait after the n-th failed attempt; NULL after the eighth: failed.
CREATE OR REPLACE FUNCTION outbound_retry_wait(attempt integer) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
  SELECT (ARRAY[interval '5 seconds', interval '5 minutes', interval '30 minutes',
                interval '2 hours', interval '5 hours', interval '10 hours',
                interval '10 hours'])[attempt]
$$;

-- An attempt's outcome: `code` the HTTP status (NULL: no answer), `error`
-- what went wrong. Any 2xx delivers. An endpoint that has failed every
-- attempt for 5 days is disabled, and `admin_email` (PATROND_ADMIN_EMAIL,
-- may be NULL) told through the mail outbox. Returns delivered, retry or
-- failed; NULL when the delivery is no longer pending (a retry raced it).
CREATE OR REPLACE FUNCTION outbound_attempted(target uuid, code integer, error text,
                                              admin_email text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d webhook_deliveries;
  e webhook_endpoints;
  wait interval;
BEGIN
  UPDATE webhook_deliveries
     SET attempts = attempts + 1, last_status_code = code, last_error = left(error, 1000),
         last_attempt_at = now(), locked_until = NULL
   WHERE id = target AND status = 'pending'
  RETURNING * INTO d;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF code BETWEEN 200 AND 299 THEN
    UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL
     WHERE id = target;
    UPDATE webhook_endpoints SET failing_since = NULL
     WHERE id = d.endpoint_id AND failing_since IS NOT NULL;
    RETURN 'delivered';
  END IF;
  wait := outbound_retry_wait(d.attempts);
  UPDATE webhook_deliveries
     SET status = CASE WHEN wait IS NULL THEN 'failed' ELSE 'pending' END,
         next_attempt_at = now() + coalesce(wait, interval '0')
   WHERE id = target;
  UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
   WHERE id = d.endpoint_id
  RETURNING * INTO e;
  IF e.enabled AND e.failing_since <= now() - interval '5 days' THEN
    UPDATE webhook_endpoints
       SET enabled = false, updated_at = now(),
           disabled_reason = 'every delivery attempt failed since ' || rfc3339(e.failing_since)
     WHERE id = e.id;
    IF admin_email IS NOT NULL THEN
      PERFORM outbox_enqueue(NULL, 'webhook_endpoint_disabled', admin_email,
        'Webhook endpoint disabled: ' || left(e.url, 200),
        format(E'Every delivery to the webhook endpoint\n\n  %s\n\n(id %s) has failed since %s, '
               || E'so it has been disabled and gets no more events.\nThe last attempt: %s.\n\n'
               || E'Once the receiver works again, enable it:\n  PATCH /v1/webhook-endpoints/%s '
               || E'{"enabled": true}\nand retry what it missed: '
               || E'GET /v1/webhook-endpoints/%s/deliveries?status=failed\n',
               e.url, e.id, rfc3339(e.failing_since),
               coalesce(code::text, coalesce(left(error, 300), 'no answer')), e.id, e.id));
    END IF;
  END IF;
  RETURN CASE WHEN wait IS NULL THEN 'failed' ELSE 'retry' END;
END
$$;

-- A delivery the stopping instance claimed but did not send goes back at
-- once rather than after its lease.
CREATE OR REPLACE FUNCTION outbound_release(target uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE webhook_deliveries SET locked_until = NULL WHERE id = target AND status = 'pending'
$$;
