#!/usr/bin/env bash
# The scale-out rows of `make bench` (SPEC §5): one PostgreSQL primary and a
# real streaming replica made with pg_basebackup, both on this machine, and
# patrond as one instance and as two behind nginx. nginx runs the deploy's
# own snippets (deploy/nginx/) with their per-address rate limits taken out,
# since every request of a load generator comes from one address. Reports
# read from the replica (PATROND_DATABASE_READ_URL); tallies come from each
# instance's memory, and ballots and every other write go to the primary.
# After the ballots, both instances must serve the very tally a recount of
# the ballots gives: their caches are told of each other's writes only
# through LISTEN/NOTIFY.
# Rows are appended to $OUT/results.txt. Needs root (PostgreSQL runs as
# the postgres user), nginx and wrk.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=${BENCH_DIR:-$root/../shared/bench}
out=${OUT:-/tmp/patrond-bench}
dur=${DUR:-15} conn=${CONN:-64}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
primary_port=55460 replica_port=55461 nginx_two=18110 nginx_one=18109 ports=(18111 18112)
dir=$out/scaleout
rm -rf "$dir"
mkdir -p "$dir/run"
chown -R postgres "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $dir/nginx.pid ]] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  for c in replica primary; do
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/$c" stop -m fast >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
as_pg() { runuser -u postgres -- "$@"; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "scaleout: port $1 never opened" >&2
  return 1
}
row() { printf '%-10s %-10s %10s %9s %9s %8s %9s\n' "$@" | tee -a "$out/results.txt"; }
ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else if (v ~ /s$/) printf "%.2f", v*1000; else print "-" }'; }
# load SYSTEM PATH PORT SCRIPT: one wrk run, one row (SCRIPT: the
# harness's, or a path of ours)
load() {
  local log=$dir/wrk-$1-$2.log script=$4
  [[ $script == */* ]] || script=$bench/wrk/$script
  wrk -t2 -c"$conn" -d"${dur}s" --timeout 5s --latency -s "$script" "http://127.0.0.1:$3" >"$log" 2>&1
  row "$1" "$2" "$(awk '/Requests\/sec/{printf "%.0f", $2}' "$log")" \
    "$(ms "$(awk '$1=="50%"{print $2}' "$log")")" "$(ms "$(awk '$1=="99%"{print $2}' "$log")")" \
    "$(awk '/Non-2xx/{n=$5} /Socket errors/{s=$4+$6+$8+$10} END{print n+s+0}' "$log")" -
}

# The primary with PostgreSQL's durable defaults, as the harness runs its own.
as_pg "$pgbin/initdb" -D "$dir/primary" -A trust -U bench >/dev/null
as_pg "$pgbin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -o \
  "-k $dir/run -p $primary_port -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" \
  start >/dev/null
primary="postgresql://bench@127.0.0.1:$primary_port/patrond"
psql -qX -h 127.0.0.1 -p $primary_port -U bench -d postgres -c 'create database patrond'
DATABASE_URL=$primary "$root/build/patrond" migrate >"$dir/setup.log" 2>&1
psql -qX -v ON_ERROR_STOP=1 -d "$primary" -f "$root/tests/bench/seed.sql" >>"$dir/setup.log"
psql -qX -d "$primary" -c 'VACUUM ANALYZE' >>"$dir/setup.log"
# a read key for the reports, made before the replica copies the primary
ADMIN_KEY=$(DATABASE_URL=$primary "$root/build/patrond" key create --scope read --name bench | tail -n 1)
export ADMIN_KEY

# The replica: a base backup that streams from the primary from then on.
as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p $primary_port -U bench -D "$dir/replica" -R -X stream --checkpoint=fast
as_pg "$pgbin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -o \
  "-k $dir/run -p $replica_port -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" \
  start >/dev/null
replica="postgresql://bench@127.0.0.1:$replica_port/patrond"
[[ $(psql -XtA -d "$replica" -c 'SELECT pg_is_in_recovery()') == t ]] ||
  { echo "scaleout: the replica is not in recovery" >&2; exit 1; }

ids=$(psql -XtA -d "$primary" -c "SELECT r.id || ' ' || string_agg('\"' || rt.topic_id || '\"', ',' ORDER BY rt.position)
                                     FROM rounds r JOIN round_topics rt ON rt.round_id = r.id GROUP BY r.id")
export ROUND_ID=${ids%% *} TOPIC_IDS=${ids#* }
for port in "${ports[@]}"; do
  DATABASE_URL=$primary PATROND_DATABASE_READ_URL=$replica PATROND_LISTEN=127.0.0.1:$port \
    PATROND_TRUSTED_PROXIES=127.0.0.1 "$root/build/patrond" serve >"$dir/patrond-$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
done

# nginx: the deploy's locations without limit_req, one server block for
# each upstream (the first instance alone, and both).
sed '/^ *limit_req /d' "$root/deploy/nginx/patrond-locations.conf" >"$dir/patrond-locations.conf"
server_block() {
  cat <<NGX
    upstream $1 { least_conn; $3 keepalive 32; }
    server {
        listen 127.0.0.1:$2;
        include $dir/locations-$1.conf;
    }
NGX
  sed "s#proxy_pass http://patrond;#proxy_pass http://$1;#" "$dir/patrond-locations.conf" \
    >"$dir/locations-$1.conf"
}
{
  cat <<NGX
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path $dir/nginx-body;
    proxy_temp_path $dir/nginx-proxy;
    include $root/deploy/nginx/patrond-http.conf;
NGX
  server_block one $nginx_one "server 127.0.0.1:${ports[0]};"
  server_block two $nginx_two "server 127.0.0.1:${ports[0]}; server 127.0.0.1:${ports[1]};"
  echo "}"
} >"$dir/nginx.conf"
nginx -c "$dir/nginx.conf" -p "$dir"
wait_port $nginx_one
wait_port $nginx_two

load patrond-1 tally $nginx_one tally.lua
load patrond-2 tally $nginx_two tally.lua
load patrond-1 ballot $nginx_one ballot.lua
load patrond-2 ballot $nginx_two ballot.lua
# A summary report scans every pledge (about half a second at 100 000
# members): 8 connections, so that answers come within wrk's timeout.
conn=8 load patrond-1 report $nginx_one "$root/tests/bench/reports.lua"
conn=8 load patrond-2 report $nginx_two "$root/tests/bench/reports.lua"

# Exactness: both instances' tallies against the ballots themselves.
tally_of() {
  curl -fsS "http://127.0.0.1:$1/v1/rounds/$ROUND_ID/tally" |
    jq -cS '[.topics[] | {topic_id, votes, weight}] | sort_by(.topic_id)'
}
recount=$(psql -XtA -d "$primary" -c "
  SELECT coalesce(jsonb_agg(jsonb_build_object('topic_id', t, 'votes', v, 'weight', w) ORDER BY t::text), '[]')
    FROM (SELECT rt.topic_id AS t, count(b.*) AS v, coalesce(sum(b.weight), 0) AS w
            FROM round_topics rt
            LEFT JOIN ballots b ON b.round_id = rt.round_id AND rt.topic_id = ANY (b.topic_ids) AND b.weight > 0
           WHERE rt.round_id = '$ROUND_ID' GROUP BY rt.topic_id) x" | jq -cS 'sort_by(.topic_id)')
verdict=exact
for port in "${ports[@]}"; do
  got=$(tally_of "$port")
  if [[ $got != "$recount" ]]; then
    verdict=DIFFERS
    printf 'scaleout: instance %s serves\n  %s\nthe recount is\n  %s\n' "$port" "$got" "$recount" >&2
  fi
done
voters=$(psql -XtA -d "$primary" -c "SELECT count(*) FROM ballots WHERE round_id = '$ROUND_ID' AND weight > 0")
echo "scale-out: two instances' tallies after the ballots: $verdict ($voters ballots recounted)" |
  tee -a "$out/results.txt"
lag=$(psql -XtA -d "$primary" -c "SELECT coalesce(max(replay_lag)::text, 'none') FROM pg_stat_replication")
echo "scale-out: replica replay lag at the end: $lag" | tee -a "$out/results.txt"
[[ $verdict == exact ]]
