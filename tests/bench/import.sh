#!/usr/bin/env bash
# The import row of `make bench` (also runs alone): a CSV file of
# IMPORT_ROWS rows (default 100 000, each a patron with a manual monthly
# pledge) sent to POST /v1/patrons/import of build/patrond, on its own
# throw-away PostgreSQL (scripts/pg.sh, fsync off), timed with curl; then
# the same file again (every row unchanged). Appends a row to $OUT/results.txt: req/s is
# rows per second of the first import, rss_MB patrond's peak.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-/tmp/patrond-bench}
rows=${IMPORT_ROWS:-100000}
port=${IMPORT_PORT:-18199}
mkdir -p "$out"
dir=$(mktemp -d /tmp/patrond-import-bench.XXXXXX)
chmod 755 "$dir"
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  scripts/pg.sh stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT

DATABASE_URL=$(scripts/pg.sh start "$dir/pg")
export DATABASE_URL
build/patrond migrate >/dev/null
key=$(build/patrond key create --scope admin --name import-bench | tail -n 1)
PATROND_LISTEN=127.0.0.1:$port build/patrond serve 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.05
done

awk -v n="$rows" 'BEGIN {
  print "email,name,created_at,amount,currency,interval"
  for (i = 0; i < n; i++)
    printf "reader%d@example.org,Reader Number %d,2023-%02d-%02dT10:00:00Z,%d.%02d,UAH,month\n",
      i, i, i % 12 + 1, i % 28 + 1, 50 + i % 500, i % 100
}' >"$dir/import.csv"
mb=$(awk -v b="$(stat -c %s "$dir/import.csv")" 'BEGIN { printf "%.1f", b / 1048576 }')

# CPU seconds used so far by patrond and the cluster's server processes:
# on a shared machine a steadier measure than the wall clock.
cpu() {
  local t=0 p f
  for p in "$pid" $(pgrep -P "$(head -n 1 "$dir/pg/data/postmaster.pid")"); do
    # a backend may exit between pgrep and here; the redirection's own error is hushed too
    { read -r -a f <"/proc/$p/stat"; } 2>/dev/null || continue
    t=$((t + f[13] + f[14]))
  done
  awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}

# import SECONDS-VARIABLE CPU-VARIABLE: one timed upload; the reply lands in
# $dir/reply.json
import() {
  local t c0
  c0=$(cpu)
  t=$(curl -sS -o "$dir/reply.json" -w '%{http_code} %{time_total}' --max-time 600 \
    -H @<(printf 'Authorization: Bearer %s\n' "$key") -H 'Content-Type: text/csv' \
    --data-binary @"$dir/import.csv" "http://127.0.0.1:$port/v1/patrons/import")
  [[ ${t%% *} == 200 ]] || { echo "import bench: HTTP ${t%% *}: $(head -c 300 "$dir/reply.json")" >&2; exit 1; }
  printf -v "$1" '%s' "${t#* }"
  printf -v "$2" '%s' "$(awk -v a="$c0" -v b="$(cpu)" 'BEGIN { printf "%.1f", b - a }')"
}
import first first_cpu
created=$(jq .created "$dir/reply.json")
# what autovacuum would soon do after 200 000 new rows (and their audit
# entries), done now so that it does not land in the second measurement
psql -qX -d "$DATABASE_URL" -c "VACUUM ANALYZE" >/dev/null
import again again_cpu
unchanged=$(jq .unchanged "$dir/reply.json")
rss=$(($(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024))
errors=$(( (created != rows) + (unchanged != rows) ))
rps=$(awk -v n="$rows" -v s="$first" 'BEGIN { printf "%.0f", n / s }')
printf 'import: %s rows (%s MB) in %.1f s (%s s CPU), created %s; again (unchanged %s) in %.1f s (%s s CPU); patrond peak RSS %s MB; load average %s\n' \
  "$rows" "$mb" "$first" "$first_cpu" "$created" "$unchanged" "$again" "$again_cpu" "$rss" \
  "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/results.txt"
printf '%-10s %-10s %10s %9s %9s %8s %9s\n' patrond import "$rps" - - "$errors" "$rss" | tee -a "$out/results.txt"
