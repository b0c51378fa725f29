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
    patron_changed  boolean DEFAULT false, -- NULL until looked up: no patron
    pledge_id       uuid,
    pledge_changed  boolean DEFAULT false,
    new_pledge      boolean NOT NULL DEFAULT false,
    outcome         text -- 'created', 'updated', or NULL: unchanged
  ) ON COMMIT DROP;
END
$$;

-- One batch: a JSON array of {line, email, name, created_at, amount_minor,
-- currency, interval, current_period_end}, checked by the server, e-mails
-- unique within the file; an absent or null value changes nothing. Returns
-- {created, updated, unchanged, ballots_changed}.
--
-- Each row finds its patron and pledge by one index probe (and sees there
-- whether anything differs), so a batch costs the same however many
-- patrons there are; only rows that change anything are written.
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

  UPDATE import_rows r SET (patron_id, patron_changed) = (
      SELECT p.id, (r.name IS NOT NULL AND r.name IS DISTINCT FROM p.name)
                   OR (r.created_at IS NOT NULL AND r.created_at <> p.created_at)
        FROM patrons p WHERE lower(p.email) = r.email_key);
  UPDATE import_rows SET patron_changed = false WHERE patron_changed IS NULL;

  UPDATE import_rows r SET (pledge_id, pledge_changed) = (
      SELECT pl.id, pl.amount_minor <> r.amount_minor
                    OR (r.period_end IS NOT NULL
                        AND r.period_end IS DISTINCT FROM pl.current_period_end)
        FROM pledges pl
       WHERE pl.patron_id = r.patron_id AND pl.provider = 'manual'
         AND pl.status IN ('active', 'past_due')
         AND pl.currency = r.currency AND pl.interval = r.every
       ORDER BY pl.seq LIMIT 1)
   WHERE r.amount_minor IS NOT NULL AND r.patron_id IS NOT NULL;
  UPDATE import_rows SET pledge_changed = false WHERE pledge_changed IS NULL;

  -- New rows get their ids here, so nothing has to be matched back.
  UPDATE import_rows SET patron_id = gen_random_uuid(), outcome = 'created'
   WHERE patron_id IS NULL;
  UPDATE import_rows
     SET pledge_id = gen_random_uuid(), new_pledge = true, pledge_changed = true
   WHERE amount_minor IS NOT NULL AND pledge_id IS NULL;
  UPDATE import_rows SET outcome = 'updated'
   WHERE outcome IS NULL AND (patron_changed OR pledge_changed);
  -- the planner learns how few rows are left to write
  ANALYZE import_rows;

  UPDATE patrons p
     SET name = coalesce(r.name, p.name),
         created_at = coalesce(r.created_at, p.created_at),
         updated_at = now()
    FROM import_rows r
   WHERE r.patron_changed AND p.id = r.patron_id;

  INSERT INTO patrons (id, email, name, created_at)
  SELECT r.patron_id, r.email, r.name, coalesce(r.created_at, now())
    FROM import_rows r WHERE r.outcome = 'created' ORDER BY r.line;

  UPDATE pledges pl
     SET amount_minor = r.amount_minor,
         current_period_end = coalesce(r.period_end, pl.current_period_end),
         updated_at = now()
    FROM import_rows r
   WHERE r.pledge_changed AND NOT r.new_pledge AND pl.id = r.pledge_id;

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
