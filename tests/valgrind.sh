#!/bin/sh
# PATROND_BIN for `make valgrind`: patrond under memcheck. Any error, or a
# definitely lost block at exit, makes the process exit 99 and leaves
# "ERROR SUMMARY: N errors" on stderr, which the black-box harness fails on.
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PATROND_VALGRIND_TARGET:-$root/build/patrond}
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions="$root/tests/valgrind.supp" "$bin" "$@"
