-- Helpers every area uses: timestamps as RFC 3339 text, JSON id lists,
-- search patterns.
--
-- The SQL code (sql/*.sql) is applied whole, in file-name order, by
-- `patrond migrate` after the migrations (api/db/migrate.c). A LANGUAGE sql
-- body is checked when it is created, so a file may only call functions of
-- its own or earlier files there; plpgsql bodies are resolved when they run.
--
-- PostgreSQL 15 parses and plans a LANGUAGE sql function on every call
-- unless it can inline it, which made such calls most of a ballot's cost.
-- The functions on the hot paths are therefore plpgsql (whose plans are
-- kept per session) or inlinable.

-- STABLE, not IMMUTABLE: to_char is only STABLE, and an IMMUTABLE
-- declaration would keep this from being inlined.
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

-- A client's search text as a LIKE pattern matching it as a literal
-- substring: `%`, `_` and the escape character itself lose their meaning.
CREATE OR REPLACE FUNCTION like_substring(q text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

