#!/bin/sh
# Runs every libFuzzer target in build/fuzz/ for $1 seconds (default 60),
# one after the other, on a copy of its committed corpus (new inputs go to
# build/fuzz/corpus/<target>), after replaying its regression inputs.
# Prints "fuzz <target>: ok|FAILED" per target; exits 1 when any failed.
# FUZZ_TARGETS restricts the run, e.g. FUZZ_TARGETS="csv money".
set -u
secs=${1:-60}
cd "$(dirname "$0")/../.." || exit 1
failed=0
for bin in build/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=${bin#build/fuzz/fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ]; then
    case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
  fi
  work=build/fuzz/corpus/$name
  mkdir -p "$work" "build/fuzz/artifacts/$name"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
  dict=
  [ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
  log=build/fuzz/$name.log
  ok=1
  if [ -d "tests/fuzz/regressions/$name" ] && [ -n "$(ls "tests/fuzz/regressions/$name")" ]; then
    "$bin" -runs=1 tests/fuzz/regressions/"$name"/* >"$log" 2>&1 || ok=0
  fi
  if [ $ok = 1 ]; then
    nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 $dict \
      -artifact_prefix="build/fuzz/artifacts/$name/" "$work" >>"$log" 2>&1 || ok=0
  fi
  execs=$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1)
  if [ $ok = 1 ]; then
    echo "fuzz $name: ok (${execs:-no summary})"
  else
    echo "fuzz $name: FAILED (see $log, build/fuzz/artifacts/$name/)"
    failed=1
  fi
done
exit $failed
