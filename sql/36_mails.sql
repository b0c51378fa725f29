-- Mails that keep members (SPEC §4c): which change sends which mail, with
-- which parameters. The text is the catalogue's (web/i18n/<lang>.json,
-- "mail"), rendered in the patron's language when the mail is sent
-- (api/core/mail_text.c); here a mail is its kind and its parameters:
-- amounts in minor units with their currency, times as RFC 3339.

-- What the failed-payment mail's pay-again link and the cancellation mail
-- name of a pledge.
CREATE OR REPLACE FUNCTION mail_pledge_params(p pledges) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('pledge_id', p.id, 'amount_minor', p.amount_minor,
                            'currency', p.currency, 'interval', p.interval,
                            'provider', p.provider)
$$;

-- A successful charge (webhook_paid, once per payment id): the welcome
-- before the patron's first paid charge's receipt, and the receipt with
-- how many days it paid for, up to `paid_until`.
CREATE OR REPLACE FUNCTION mail_paid(p pledges, ev jsonb, at timestamptz, paid_until timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM payments x
                  WHERE x.patron_id = p.patron_id AND x.kind = 'charge'
                    AND x.status = 'succeeded'
                    AND x.provider_payment_id IS DISTINCT FROM ev->>'payment_id') THEN
    PERFORM outbox_enqueue_mail(p.patron_id, 'welcome', jsonb_build_object());
  END IF;
  PERFORM outbox_enqueue_mail(p.patron_id, 'receipt', jsonb_build_object(
    'amount_minor', coalesce((ev->>'amount_minor')::bigint, p.amount_minor),
    'currency', coalesce(ev->>'currency', p.currency),
    'paid_at', rfc3339(at),
    'payment_id', ev->>'payment_id',
    'until', rfc3339(paid_until),
    'count', greatest(round(extract(epoch FROM paid_until - at) / 86400), 0)::bigint));
END
$$;

-- A failed charge: the provider's reason and what the pay-again link
-- needs to start the same pledge anew.
CREATE OR REPLACE FUNCTION mail_payment_failed(p pledges, ev jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM outbox_enqueue_mail(p.patron_id, 'payment_failed', mail_pledge_params(p)
    || jsonb_build_object('amount_minor', coalesce((ev->>'amount_minor')::bigint, p.amount_minor),
                          'currency', coalesce(ev->>'currency', p.currency),
                          'reason', coalesce(ev->>'reason', '')));
END
$$;

-- A pledge that moved to canceled, whoever moved it (a provider's
-- webhook, an admin, the patron): the confirmation says until when the
-- membership runs, the end of the paid period (today when nothing paid
-- is left). A pledge never paid had no membership to confirm the end of.
CREATE OR REPLACE FUNCTION mail_pledge_canceled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM outbox_enqueue_mail(NEW.patron_id, 'canceled', mail_pledge_params(NEW)
    || jsonb_build_object('until', rfc3339(greatest(NEW.current_period_end, now()))));
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER pledges_mail_canceled AFTER UPDATE OF status ON pledges
  FOR EACH ROW
  WHEN (OLD.status <> 'canceled' AND NEW.status = 'canceled' AND NEW.activated_at IS NOT NULL)
  EXECUTE FUNCTION mail_pledge_canceled();

-- "Your membership ends on …" (job mail-ends-soon, api/jobs/ends_soon.c):
-- a lapse is the moment a member stops being one if nothing more is paid
-- (patron_membership's member_until). Within three days of it the patron
-- is told once: lapse_notice_for remembers the lapse told about, so a
-- payment that moves the lapse makes a later one worth a mail of its own.
-- The candidates are the pledges whose paid period ends near enough; the
-- patron's whole membership decides. The row update makes the mail once
-- however many instances run the job at the same time. Returns the mails
-- queued.
CREATE OR REPLACE FUNCTION mail_ends_soon() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  who uuid;
  lapse timestamptz;
  n integer := 0;
BEGIN
  FOR who IN
    SELECT p.patron_id FROM pledges p
     WHERE p.status IN ('active', 'past_due')
       AND p.current_period_end > now() - membership_grace()
       AND p.current_period_end <= now() + interval '3 days'
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE p.status = 'canceled'
       AND p.current_period_end > now() - membership_grace()
       AND p.current_period_end <= now() + interval '3 days'
    UNION
    SELECT p.patron_id FROM pledges p
     WHERE p.interval = 'once' AND p.current_period_end IS NULL
       AND p.status IN ('active', 'past_due')
       AND p.activated_at > now() - interval '31 days'
       AND p.activated_at <= now() - interval '28 days'
     ORDER BY 1
  LOOP
    lapse := (patron_membership(who)->>'member_until')::timestamptz;
    CONTINUE WHEN lapse IS NULL OR lapse <= now() OR lapse > now() + interval '3 days';
    UPDATE patrons SET lapse_notice_for = lapse
     WHERE id = who AND erased_at IS NULL AND lapse_notice_for IS DISTINCT FROM lapse;
    IF FOUND THEN
      PERFORM outbox_enqueue_mail(who, 'ends_soon', jsonb_build_object('until', rfc3339(lapse)));
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$$;
