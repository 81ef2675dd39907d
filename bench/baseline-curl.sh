#!/usr/bin/env bash
# Baseline: what teams write by hand. Polls every 5 s with curl and jq until a final status.
set -u
url="$MINTLIFY_API_URL/v2/agent/$MINTLIFY_PROJECT_ID/job/$MINTLIFY_JOB_ID"
while :; do
  status=$(curl -fsS -H "Authorization: Bearer $MINTLIFY_API_KEY" "$url" | jq -r .status)
  case "$status" in
    completed) exit 0 ;;
    failed | archived) exit 1 ;;
  esac
  sleep 5
done
