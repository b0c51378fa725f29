-- Checkout (SPEC §4): the public donation form creates, in one transaction,
-- the patron (or finds them by e-mail) and a pending pledge; pending
-- pledges never paid expire after 48 hours.

-- The live patron with this address, created when there is none. An
-- erased patron has no address, so it is never found again. The name is
-- filled in only where none is known: anyone may call checkout, and they
-- must not be able to rename an existing patron by knowing their address.
-- The row lock keeps a concurrent erasure from slipping in before the
-- pledge is written.
CREATE OR REPLACE FUNCTION checkout_patron(addr text, who text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  found_id uuid;
BEGIN
  LOOP
    SELECT id INTO found_id FROM patrons
     WHERE lower(email) = lower(addr) AND erased_at IS NULL
     FOR NO KEY UPDATE;
    IF found_id IS NOT NULL THEN
      UPDATE patrons SET name = who, updated_at = now()
       WHERE id = found_id AND name IS NULL AND who IS NOT NULL;
      RETURN found_id;
    END IF;
    -- A concurrent checkout may insert the same address first: then this
    -- does nothing, and the next round finds its (committed) row.
    INSERT INTO patrons (email, name) VALUES (addr, who)
      ON CONFLICT ((lower(email))) DO NOTHING
      RETURNING id INTO found_id;
    IF found_id IS NOT NULL THEN
      RETURN found_id;
    END IF;
  END LOOP;
END
$$;

-- POST /v1/checkout. The pledge id comes from the server, which has
-- already signed it into the provider's redirect. A form's empty name field
-- is no name, so a later checkout may still fill it in. The form's
-- language (`lang`, NULL when it sent none) becomes the patron's locale:
-- the mails this payment brings are in the language it was made in.
CREATE OR REPLACE FUNCTION checkout_create(pledge uuid, addr text, who text, amount bigint,
                                cur text, every text, via text, ref text, lang text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  patron uuid := checkout_patron(addr, nullif(who, ''));
BEGIN
  UPDATE patrons SET locale = lang
   WHERE id = patron AND lang IS NOT NULL AND locale IS DISTINCT FROM lang;
  INSERT INTO pledges (id, patron_id, amount_minor, currency, interval, provider,
                       provider_ref, status)
  VALUES (pledge, patron, amount, cur, every, via, ref, 'pending');
  RETURN jsonb_build_object('patron_id', patron, 'pledge_id', pledge, 'status', 'pending');
END
$$;

-- Moves up to `batch` pending pledges older than 48 hours to expired and
-- returns how many. Rows another instance (or a webhook activating the
-- pledge) holds are skipped and picked up on a later run.
CREATE OR REPLACE FUNCTION pledges_expire_pending(batch integer) RETURNS integer
LANGUAGE sql AS $$
  WITH due AS (
    SELECT id FROM pledges
     WHERE status = 'pending' AND created_at < now() - interval '48 hours'
     ORDER BY created_at
     LIMIT batch
     FOR UPDATE SKIP LOCKED
  ), done AS (
    UPDATE pledges p SET status = 'expired', updated_at = now()
      FROM due WHERE p.id = due.id AND p.status = 'pending'
    RETURNING 1
  )
  SELECT count(*)::integer FROM done
$$;

