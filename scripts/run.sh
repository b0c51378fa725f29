#!/usr/bin/env bash
# `make run`: the server on the embedded PostgreSQL under var/pg/ (or on
# DATABASE_URL when set), migrated, with an admin key printed the first time
# and a member-token signing key made under var/ unless one is configured.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z ${DATABASE_URL:-} ]]; then
  export DATABASE_URL
  DATABASE_URL=$(scripts/pg.sh start var/pg)
  echo "embedded PostgreSQL running under var/pg/ ($DATABASE_URL)"
fi
build/patrond migrate

# The first admin key is printed once (only its hash is stored); while an
# unrevoked admin key exists, `patrond key create` is how to mint more.
if ! build/patrond key list | awk '$2 == "admin" && $4 == "-" { found = 1 } END { exit !found }'; then
  key=$(build/patrond key create --scope admin --name "first admin" | tail -n 1)
  echo
  echo "Your admin API key (shown only this once; store it somewhere safe):"
  echo "  $key"
  echo "Try: curl -H 'Authorization: Bearer $key' http://${PATROND_LISTEN:-127.0.0.1:8080}/v1/patrons"
  echo
fi
# Member tokens (README "Member tokens"): an Ed25519 key of its own, kept
# across restarts so the tokens already handed out still verify.
if [[ -z ${PATROND_SIGNING_KEY_FILE:-} ]]; then
  export PATROND_SIGNING_KEY_FILE=var/signing-key.pem
  if [[ ! -s $PATROND_SIGNING_KEY_FILE ]]; then
    mkdir -p var
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$PATROND_SIGNING_KEY_FILE.tmp")
    mv "$PATROND_SIGNING_KEY_FILE.tmp" "$PATROND_SIGNING_KEY_FILE"
    echo "created the member-token signing key $PATROND_SIGNING_KEY_FILE"
  fi
fi
exec build/patrond serve
