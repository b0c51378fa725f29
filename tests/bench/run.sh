#!/usr/bin/env bash
# `make bench`: the side-by-side harness (../shared/bench/run.sh, or
# BENCH_DIR) with patrond measured in the same run as the bare
# libmicrohttpd server, nginx, pgbench and the Node peer. Results go to
# $OUT/results.txt (default /tmp/patrond-bench). Needs root (the harness
# runs its PostgreSQL as the postgres user).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=${BENCH_DIR:-$root/../shared/bench}
if [[ ! -x $bench/run.sh ]]; then
  echo "bench: no harness at $bench; set BENCH_DIR to the shared bench folder" >&2
  exit 1
fi
export PATROND_SEED_CMD="$root/tests/bench/seed.sh"
# The defaults: one HTTP thread per core, 16 database threads (the
# environment's PATROND_THREADS / PATROND_DB_THREADS override them).
export PATROND_CMD="$root/build/patrond serve"
"$bench/run.sh"
# The row tests/bench/seed.sh measured: patrond's webhook SQL alone.
out=${OUT:-/tmp/patrond-bench}
tps=$(awk '/^tps/{printf "%.0f", $3}' "$out/pgbench-patrond-webhook.log" 2>/dev/null)
printf '%-10s %-10s %10s %9s %9s %8s %9s\n' pgbench wh_receive "${tps:-0}" - - - - |
  tee -a "$out/results.txt"
# Two instances behind nginx against a primary and a streaming replica.
"$root/tests/bench/scaleout.sh" || echo "bench: the scale-out run failed, see ${OUT:-/tmp/patrond-bench}/scaleout" >&2
# The import of 100 000 rows, on its own database once the harness is done.
"$root/tests/bench/import.sh"
