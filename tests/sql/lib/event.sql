-- Included (\ir) by the pgTAP files that apply events: an event of `kind`
-- that happened at `at`, with the other fields given, shaped as the
-- server's parser writes it (api/db/webhooks.c, event_text).
CREATE FUNCTION pg_temp.event(kind text, at timestamptz, fields jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('kind', kind, 'occurred_at', at) || fields $$;
