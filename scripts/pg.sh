#!/usr/bin/env bash
# A private PostgreSQL cluster in a directory of ours, reachable only on a
# unix socket inside it. PostgreSQL refuses to run as root, so when we are
# root the cluster is owned and run by the `postgres` OS user.
#
#   scripts/pg.sh start DIR    create (first time) and start; prints the conninfo
#   scripts/pg.sh stop DIR     fast shutdown
#   scripts/pg.sh url DIR      prints the conninfo of the `patrond` database
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url DIR}
dir=${2:?usage: pg.sh start|stop|url DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
sock=$dir/run

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -n $bindir ]] || { echo "pg.sh: PostgreSQL server not installed (Debian package: postgresql)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

conninfo() { echo "host=$sock user=patrond dbname=patrond"; }

case $cmd in
start)
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  if [[ ! -f $data/PG_VERSION ]]; then
    as_owner "$bindir/initdb" -D "$data" -U patrond --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  as_owner mkdir -p "$sock"
  if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 start \
      -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c fsync=off -c max_connections=200" >/dev/null ||
      { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
  fi
  if ! "$bindir/psql" -h "$sock" -U patrond -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='patrond'" | grep -q 1; then
    "$bindir/createdb" -h "$sock" -U patrond patrond
  fi
  conninfo
  ;;
stop)
  if [[ -f $data/PG_VERSION ]]; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
url) conninfo ;;
*) echo "usage: pg.sh start|stop|url DIR" >&2; exit 2 ;;
esac
