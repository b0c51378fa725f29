# Shared by the patrond admin scripts beside it; sourced, not run.
# Reads PATROND_URL (default http://127.0.0.1:8080) and the admin API key
# from PATROND_ADMIN_KEY or the file named by PATROND_ADMIN_KEY_FILE.

PROG=${0##*/}

# The environment part of every script's --help.
env_help() {
  cat <<'HELP'
Environment:
  PATROND_URL             base URL of patrond (default http://127.0.0.1:8080)
  PATROND_ADMIN_KEY       an admin API key (`patrond key create --scope admin`)
  PATROND_ADMIN_KEY_FILE  or a file holding it (used when PATROND_ADMIN_KEY is unset)

Exit status: 0 on success, 1 when patrond refuses (its problem+json is
printed on stderr) or cannot be reached, 2 on a usage error.
HELP
}

die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

usage_error() {
  printf '%s: %s (see %s --help)\n' "$PROG" "$*" "$PROG" >&2
  exit 2
}

# Checks the tools and the environment; sets BASE_URL and ADMIN_KEY.
admin_init() {
  command -v curl >/dev/null || die "curl is not installed"
  command -v jq >/dev/null || die "jq is not installed"
  BASE_URL=${PATROND_URL:-http://127.0.0.1:8080}
  BASE_URL=${BASE_URL%/}
  if [[ -n ${PATROND_ADMIN_KEY:-} ]]; then
    ADMIN_KEY=$PATROND_ADMIN_KEY
  elif [[ -n ${PATROND_ADMIN_KEY_FILE:-} ]]; then
    [[ -r $PATROND_ADMIN_KEY_FILE ]] || die "PATROND_ADMIN_KEY_FILE: cannot read $PATROND_ADMIN_KEY_FILE"
    ADMIN_KEY=$(tr -d ' \t\r\n' <"$PATROND_ADMIN_KEY_FILE")
  else
    ADMIN_KEY=
  fi
  [[ -n $ADMIN_KEY ]] || die "set PATROND_ADMIN_KEY or PATROND_ADMIN_KEY_FILE to an admin API key"
  RESPONSE=$(mktemp)
  trap 'rm -f "$RESPONSE"' EXIT
}

# A path segment or query value, percent-encoded.
uri() {
  jq -rn --arg v "$1" '$v | @uri'
}

# Prints a problem+json reply (or whatever came instead) on stderr.
report_problem() {
  local status=$1
  if jq -e 'type == "object" and has("status")' "$RESPONSE" >/dev/null 2>&1; then
    jq -r --arg prog "$PROG" '
      "\($prog): \(.status) \(.title // "error")" + (if .detail then ": \(.detail)" else "" end),
      (.errors // [] | .[] | "  \(.field // "-"): \(.message // "")")' "$RESPONSE" >&2
  else
    printf '%s: HTTP %s from patrond\n' "$PROG" "$status" >&2
    head -c 500 "$RESPONSE" >&2
    echo >&2
  fi
}

# api METHOD PATH [JSON-BODY] [extra curl arguments...]
# The reply body lands in $RESPONSE and its status in $STATUS. Any status
# of 400 or more is reported and ends the script; so does a failure to
# reach patrond. The key goes through a file descriptor, never argv, so
# other users cannot read it in the process list.
api() {
  local method=$1 path=$2 body=${3:-}
  shift $(($# < 3 ? $# : 3))
  local args=(-sS -X "$method" -o "$RESPONSE" -w '%{http_code}' --connect-timeout 10 --max-time 300 "$@")
  if [[ -n $body ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary @-)
  fi
  if ! STATUS=$(printf '%s' "$body" |
    curl "${args[@]}" -H @<(printf 'Authorization: Bearer %s\n' "$ADMIN_KEY") "$BASE_URL$path"); then
    die "cannot reach patrond at $BASE_URL"
  fi
  if ((STATUS >= 400)); then
    report_problem "$STATUS"
    exit 1
  fi
}

# Every item of an admin list (GET PATH, which may already have a query),
# one JSON object per line, following next_cursor.
api_list_all() {
  local path=$1 sep='?' after=
  [[ $path == *\?* ]] && sep='&'
  while :; do
    api GET "$path${sep}limit=500${after:+&after=$(uri "$after")}"
    jq -c '.data[]' "$RESPONSE"
    after=$(jq -r '.next_cursor // empty' "$RESPONSE")
    [[ -n $after ]] || break
  done
}
