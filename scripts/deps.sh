#!/usr/bin/env bash
# Makes sure the build and test dependencies are present. As root it installs
# what is missing from Debian's packages; otherwise it names what to install.
set -euo pipefail

need=()
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v cc >/dev/null || need+=(gcc)
have_pc libmicrohttpd || need+=(libmicrohttpd-dev)
have_pc jansson || need+=(libjansson-dev)
have_pc libpq || need+=(libpq-dev)
have_pc libcrypto || need+=(libssl-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# `make run` creates the member-token signing key with it (scripts/run.sh)
command -v openssl >/dev/null || need+=(openssl)
if [[ ${1:-} == --test ]]; then
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  command -v chromium >/dev/null || need+=(chromium)
  command -v nginx >/dev/null || need+=(nginx)
  command -v jq >/dev/null || need+=(jq)
  command -v curl >/dev/null || need+=(curl)
  command -v clang-14 >/dev/null || need+=(clang-14)
  [[ -n $(ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null) ]] || need+=(libclang-rt-14-dev)
  # pgTAP for the SQL tests (tests/sql/): the extension for the server's
  # major version, and pg_prove, which Debian ships apart (only recommended).
  pgmajor=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  ls /usr/share/postgresql/"${pgmajor:-15}"/extension/pgtap.control >/dev/null 2>&1 || need+=(postgresql-"${pgmajor:-15}"-pgtap)
  command -v pg_prove >/dev/null || need+=(libtap-parser-sourcehandler-pgtap-perl)
fi
if [[ ${1:-} == --bench ]]; then
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || need+=(nginx)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  command -v pgbench >/dev/null || need+=(postgresql-client)
fi

((${#need[@]} == 0)) && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "deps: missing ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
