#!/usr/bin/env bash
# PATROND_SEED_CMD for ../shared/bench/run.sh: migrates $DATABASE_URL, loads
# the bench data set and prints `ROUND_ID=<id> TOPIC_IDS=<json,...>` last.
set -euo pipefail
cd "$(dirname "$0")/../.."
build/patrond migrate >&2
psql -qX -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f tests/bench/seed.sql >&2
# The ceiling of patrond's own webhook SQL, measured here because nothing
# else runs yet (the peer has stopped, patrond has not started);
# tests/bench/run.sh adds it to the results table.
out=${OUT:-/tmp/patrond-bench}
pgbench -n -c 16 -j 2 -T "${DUR:-15}" -M prepared -f tests/bench/webhook_receive.sql \
  "$DATABASE_URL" >"$out/pgbench-patrond-webhook.log" 2>&1 ||
  echo "bench: pgbench of webhook_receive failed, see $out/pgbench-patrond-webhook.log" >&2
# so that autovacuum and the checkpointer do not clean up after it while
# patrond is measured
psql -qX -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "VACUUM ANALYZE" -c "CHECKPOINT" >&2 ||
  echo "bench: VACUUM/CHECKPOINT after the webhook pgbench failed (CHECKPOINT needs a superuser)" >&2
psql -qXtA -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c \
  "SELECT 'ROUND_ID=' || r.id || ' TOPIC_IDS=' || string_agg('\"' || rt.topic_id || '\"', ',' ORDER BY rt.position)
     FROM rounds r JOIN round_topics rt ON rt.round_id = r.id GROUP BY r.id"
