#!/usr/bin/env bash
# `make soak`: patrond as `make bench` runs it (the optimised build, default
# settings, the bench's data set from tests/bench/seed.sql) under a fixed
# mixed load for SOAK_S seconds (default 600); tests/soak/load.js samples
# RSS, open fds and PostgreSQL connections every 10 s and fails on growth.
# Output and the server's warnings and errors go to $OUT (default
# /tmp/patrond-soak). Environment: SOAK_S, CONN (load connections, 16),
# SOAK_PORT (18104), PATROND_BIN (build/patrond, to compare builds).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-/tmp/patrond-soak}
port=${SOAK_PORT:-18104}
secret=whsec_soak_0123456789abcdef
bin=${PATROND_BIN:-build/patrond}
[[ -d node_modules/stripe ]] || npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$out"
pgdir=$(mktemp -d /tmp/patrond-soak-pg.XXXXXX)
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null && wait "$server" || true; fi
  scripts/pg.sh stop "$pgdir"
  rm -rf "$pgdir"
}
trap cleanup EXIT

DATABASE_URL=$(scripts/pg.sh start "$pgdir")
export DATABASE_URL
psql=(psql -qX -v ON_ERROR_STOP=1 -d "$DATABASE_URL")
"$bin" migrate >"$out/setup.log" 2>&1
"${psql[@]}" -f tests/bench/seed.sql >>"$out/setup.log"
"${psql[@]}" -c "VACUUM ANALYZE" >>"$out/setup.log"
admin_key=$("$bin" key create --scope admin --name soak 2>>"$out/setup.log" | tail -n 1)
ids=$("${psql[@]}" -tA -c "SELECT r.id || ' ' || string_agg('\"' || rt.topic_id || '\"', ',' ORDER BY rt.position)
                             FROM rounds r JOIN round_topics rt ON rt.round_id = r.id GROUP BY r.id")

tables="webhook_events outbox idempotency_keys sessions magic_links payments ballots"
rows() {
  local sql="SELECT ''" t
  for t in $tables; do sql+=" || ' $t=' || (SELECT count(*) FROM $t)"; done
  "${psql[@]}" -tA -c "$sql"
}
echo "rows at start:$(rows)"

# The access log is read as journald would read it, and only warnings and
# errors are kept: a 30-minute run writes gigabytes of access lines.
PATROND_LISTEN=127.0.0.1:$port PATROND_STRIPE_WEBHOOK_SECRET=$secret \
  PATROND_MAIL_COMMAND='cat >/dev/null' \
  "$bin" serve 2> >(grep --line-buffered -v '"level":"info"' >"$out/patrond-warnings.log") &
server=$!
for _ in $(seq 200); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.05
done

status=0
PATROND_PID=$server PATROND_URL=http://127.0.0.1:$port ROUND_ID=${ids%% *} TOPIC_IDS=${ids#* } \
  ADMIN_KEY=$admin_key SECRET=$secret node tests/soak/load.js | tee "$out/soak.txt" || status=$?
echo "rows at the end:$(rows)" | tee -a "$out/soak.txt"
kill "$server"
wait "$server" || { echo "soak: patrond exited with $? on SIGTERM" | tee -a "$out/soak.txt"; status=1; }
server=
warnings=$(wc -l <"$out/patrond-warnings.log")
echo "server warnings and errors: $warnings (see $out/patrond-warnings.log)" | tee -a "$out/soak.txt"
exit "$status"
