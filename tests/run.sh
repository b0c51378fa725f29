#!/usr/bin/env bash
# `make test`: C unit tests, then the SQL functions' pgTAP tests (tests/sql/)
# and the black-box suite against the ASan build on a throw-away PostgreSQL
# cluster. Ends with one line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0

for t in build/unit/test_*; do
  [[ -x $t ]] || continue
  out=$("$t" 2>&1)
  status=$?
  echo "$out" | grep -v ': [0-9]* passed, [0-9]* failed$' | sed 's/^/  /'
  line=$(echo "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  echo "unit ${line:-$t: crashed}"
  p=$(echo "$line" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/p')
  f=$(echo "$line" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/p')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [[ $status -ne 0 && ${f:-0} -eq 0 ]]; then failed=$((failed + 1)); fi
done

# A short smoke of each libFuzzer target (regressions replayed first); each counts once.
while read -r line; do
  echo "$line"
  case $line in
    fuzz*": ok"*) passed=$((passed + 1)) ;;
    fuzz*) failed=$((failed + 1)) ;;
  esac
done < <(tests/fuzz/run.sh "${FUZZ_SMOKE_TIME:-3}")

pgdir=$(mktemp -d /tmp/patrond-test-pg.XXXXXX)
cleanup() { scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"; }
trap cleanup EXIT
if ! scripts/pg.sh start "$pgdir" >/dev/null; then
  echo "could not start the test PostgreSQL cluster"
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
fi

# The SQL functions tested directly with pgTAP (tests/sql/*.sql), by pg_prove,
# on a database of their own migrated by build/patrond. Each pgTAP assertion
# counts once. Counted from the TAP lines, not pg_prove's summary: a file
# that dies half-way (an SQL error) has run fewer tests than it planned, and
# the ones it never ran count as failed.
sql_tests() {
  local db=pgtap_$$ out rc planned
  local host=$pgdir/run
  if ! command -v pg_prove >/dev/null; then
    echo "not ok sql tests: pg_prove not found (scripts/deps.sh --test installs postgresql-15-pgtap and libtap-parser-sourcehandler-pgtap-perl)"
    failed=$((failed + 1))
    return
  fi
  if ! psql -X -q -h "$host" -U patrond -d postgres -c "CREATE DATABASE $db" ||
    ! DATABASE_URL="host=$host user=patrond dbname=$db" build/patrond migrate >/dev/null ||
    ! psql -X -q -h "$host" -U patrond -d "$db" -c "CREATE EXTENSION pgtap"; then
    echo "not ok sql tests: could not create, migrate or add pgtap to database $db"
    failed=$((failed + 1))
    return
  fi
  out=$(pg_prove --verbose -h "$host" -U patrond -d "$db" tests/sql/*.sql 2>&1)
  rc=$?
  # the failures and pg_prove's own report, for the CI log
  echo "$out" | grep -E '^(not ok [0-9]+|# )' | head -n 200 | sed 's/^/  /'
  echo "$out" | grep -E '^(tests/sql/.*\(Wstat|psql:|  Parse errors|Files=|Result:)' | sed 's/^/  /'
  planned=$(echo "$out" | sed -nE 's/^1\.\.([0-9]+)$/\1/p' | awk '{s += $1} END {print s + 0}')
  local p f
  p=$(echo "$out" | grep -cE '^ok [0-9]+')
  f=$((planned - p))
  if [[ $rc -ne 0 && $f -le 0 ]]; then f=1; fi
  echo "sql tests (pg_prove tests/sql): $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
  psql -X -q -h "$host" -U patrond -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
}
sql_tests

# SQL functions are code: each is defined once in the tree, in sql/ (a
# migration may DROP one whose signature changes, never define it).
dups=$(cat migrations/*.sql sql/*.sql |
  grep -oiE 'CREATE[[:space:]]+(OR[[:space:]]+REPLACE[[:space:]]+)?FUNCTION[[:space:]]+[A-Za-z_][A-Za-z0-9_.]*' |
  awk '{print tolower($NF)}' | sort | uniq -d)
if [[ -z $dups ]]; then
  echo "ok sql functions defined once (migrations/, sql/)"
  passed=$((passed + 1))
else
  echo "not ok sql functions defined more than once: $(echo $dups)"
  failed=$((failed + 1))
fi

if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "npm ci failed"; failed=$((failed + 1)); }
fi

# The OpenAPI description must lint clean (rules: redocly.yaml).
if lint=$(REDOCLY_TELEMETRY=off npx --no-install redocly lint api/openapi.yaml 2>&1); then
  echo "ok openapi lint"
  passed=$((passed + 1))
else
  echo "$lint" | tail -n 40 | sed 's/^/  /'
  echo "not ok openapi lint (npx redocly lint api/openapi.yaml)"
  failed=$((failed + 1))
fi

export PATROND_TEST_PGHOST=$pgdir/run
export PATROND_BIN=${PATROND_BIN:-build/asan/patrond}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tap=$(mktemp)
node --test --test-reporter=tap --test-reporter-destination=stdout ${PATROND_TESTS:-tests/blackbox/} | tee "$tap" |
  grep -E '^(not ok|# (Subtest|pass|fail))' | grep -vE '^# Subtest' 
# the failed subtests themselves, with their errors, for the CI log
grep -E -A 20 '^ *not ok [0-9]+ - ' "$tap" | grep -vE '^ +(duration_ms|location|failureType|code):' | head -n 200
bp=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$tap" | tail -n 1)
bf=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$tap" | tail -n 1)
if [[ -z $bp ]]; then
  echo "the black-box suite did not report results"
  bf=$((${bf:-0} + 1))
fi
rm -f "$tap"
passed=$((passed + ${bp:-0}))
failed=$((failed + ${bf:-0}))

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
