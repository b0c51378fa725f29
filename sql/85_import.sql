-- Importing supporters (SPEC §4b Import). The server reads and checks the
-- CSV file; its valid rows arrive here in batches, all in one transaction
-- (api/db/patrons_import.c): patrons_import_begin, patrons_import_batch per
-- batch, patrons_import_finish when the import is kept.
--
-- A row is matched to a patron by e-mail, case-insensitively, as
-- patrons_email_key makes them unique; an erased patron has no e-mail and
-- matches nothing. A row with an amount stands for a manual pledge: the
-- patron's standing (active or past_due) manual pledge in that currency and
-- interval, else a new active one, created as pledge_create() creates an
-- admin's active pledge. Membership then follows from the pledge by the
-- clock (sql/20_membership.sql), as for any other. Every write goes through
-- the tables' audit triggers.

-- One import at a time (advisory key 7004, used by nothing else): two
-- uploads of one file must not both see a patron missing and both add
-- their pledge. The rows of a batch wait in a temporary table.
CREATE OR REPLACE FUNCTION patrons_import_begin() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7004, 0);
  CREATE TEMP TABLE IF NOT EXISTS import_rows (
    line            bigint PRIMARY KEY,
    email           text NOT NULL,
    email_key       text NOT NULL, -- lower(email), as patrons_email_key has it
    name            text,
    created_at      timestamptz,
    amount_minor    bigint,
    currency        char(3),
    every           text,
    period_end      timestamptz,
    patron_id       uuid,
    pledge_id       uuid,
    pledge_changed  boolean NOT NULL DEFAULT false,
    new_pledge      boolean NOT NULL DEFAULT false,
    outcome         text -- 'created', 'updated', or NULL: unchanged
  ) ON COMMIT DROP;
END
$$;

-- One batch: a JSON array of {line, email, name, created_at, amount_minor,
-- currency, interval, current_period_end}, checked by the server, e-mails
-- unique within the file; an absent or null value changes nothing. Returns
-- {created, updated, unchanged, ballots_changed}.
CREATE OR REPLACE FUNCTION patrons_import_batch(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  result jsonb;
  moved integer;
BEGIN
  TRUNCATE import_rows;
  INSERT INTO import_rows (line, email, email_key, name, created_at, amount_minor, currency, every,
                           period_end)
  SELECT r.line, r.email, lower(r.email), r.name, r.created_at, r.amount_minor, r.currency,
         r."interval", r.current_period_end
    FROM jsonb_to_recordset(batch) AS r(line bigint, email text, name text,
                                        created_at timestamptz, amount_minor bigint,
                                        currency text, "interval" text,
                                        current_period_end timestamptz);
  ANALYZE import_rows;

  -- one index probe per row (patrons_email_key), not a scan of all patrons
  UPDATE import_rows r
     SET patron_id = (SELECT p.id FROM patrons p WHERE lower(p.email) = r.email_key);

  WITH changed AS (
    UPDATE patrons p
       SET name = coalesce(r.name, p.name),
           created_at = coalesce(r.created_at, p.created_at),
           updated_at = now()
      FROM import_rows r
     WHERE p.id = r.patron_id
       AND ((r.name IS NOT NULL AND r.name IS DISTINCT FROM p.name)
            OR (r.created_at IS NOT NULL AND r.created_at <> p.created_at))
    RETURNING p.id)
  UPDATE import_rows r SET outcome = 'updated' FROM changed c WHERE r.patron_id = c.id;

  -- New rows get their ids here, so nothing has to be matched back.
  UPDATE import_rows SET patron_id = gen_random_uuid(), outcome = 'created'
   WHERE patron_id IS NULL;
  INSERT INTO patrons (id, email, name, created_at)
  SELECT r.patron_id, r.email, r.name, coalesce(r.created_at, now())
    FROM import_rows r WHERE r.outcome = 'created' ORDER BY r.line;

  UPDATE import_rows r SET pledge_id = (
      SELECT pl.id FROM pledges pl
       WHERE pl.patron_id = r.patron_id AND pl.provider = 'manual'
         AND pl.status IN ('active', 'past_due')
         AND pl.currency = r.currency AND pl.interval = r.every
       ORDER BY pl.seq LIMIT 1)
   WHERE r.amount_minor IS NOT NULL AND r.outcome IS DISTINCT FROM 'created';

  WITH changed AS (
    UPDATE pledges pl
       SET amount_minor = r.amount_minor,
           current_period_end = coalesce(r.period_end, pl.current_period_end),
           updated_at = now()
      FROM import_rows r
     WHERE pl.id = r.pledge_id
       AND (pl.amount_minor <> r.amount_minor
            OR (r.period_end IS NOT NULL
                AND r.period_end IS DISTINCT FROM pl.current_period_end))
    RETURNING pl.id)
  UPDATE import_rows r SET pledge_changed = true, outcome = coalesce(r.outcome, 'updated')
    FROM changed c WHERE r.pledge_id = c.id;

  UPDATE import_rows
     SET pledge_id = gen_random_uuid(), pledge_changed = true,
         outcome = coalesce(outcome, 'updated'), new_pledge = true
   WHERE amount_minor IS NOT NULL AND pledge_id IS NULL;
  INSERT INTO pledges (id, patron_id, amount_minor, currency, interval, provider, status,
                       current_period_end, activated_at)
  SELECT r.pledge_id, r.patron_id, r.amount_minor, r.currency, r.every, 'manual', 'active',
         r.period_end, now()
    FROM import_rows r WHERE r.new_pledge ORDER BY r.line;

  -- A new patron has no ballot; an existing one's may weigh differently now.
  SELECT coalesce(sum(patron_ballots_sync(r.patron_id)), 0) INTO moved
    FROM import_rows r WHERE r.pledge_changed AND r.outcome = 'updated';

  SELECT jsonb_build_object(
           'created', count(*) FILTER (WHERE outcome = 'created'),
           'updated', count(*) FILTER (WHERE outcome = 'updated'),
           'unchanged', count(*) FILTER (WHERE outcome IS NULL),
           'ballots_changed', moved)
    INTO result FROM import_rows;
  RETURN result;
END
$$;

-- The import itself, audited once beside the rows' own entries: what it
-- did, and how many rows it left out as invalid (?skip_invalid=true).
CREATE OR REPLACE FUNCTION patrons_import_finish(created bigint, updated bigint, unchanged bigint,
                                                 invalid bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM audit_record('import', 'patrons', NULL, NULL,
                       jsonb_build_object('created', created, 'updated', updated,
                                          'unchanged', unchanged, 'invalid', invalid));
END
$$;
