-- FIXME header

-- Core schema: API keys, patrons, tiers, pledges, the payments ledger, the
-- audit trail and idempotency records. Money is always BIGINT minor units.
CREATE OR REPLACE FUNCTION rfc3339(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE OR REPLACE FUNCTION json_uuids(doc jsonb) RETURNS uuid[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN ARRAY(SELECT e::uuid FROM jsonb_array_elements_text(doc) WITH ORDINALITY AS a(e, n)
                ORDER BY n);
END
$$;

-- Patrons: search, guarded updates and GDPR erasure. Messages of PTnnn
-- exceptions reach the client as the problem's detail.

-- A client's search text as a LIKE pattern matching it as a literal
-- substring: `%`, `_` and the escape character itself lose their meaning.
CREATE OR REPLACE FUNCTION like_substring(q text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

