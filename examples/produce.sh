#!/usr/bin/env bash
# A producer in another language than Python: put a seeds/004 bulk-assign request on reviewq's
# queue with redis-cli alone (README, "Producers"). A running `reviewq worker` picks it up.
#
#   examples/produce.sh REQUEST.json [IDEMPOTENCY_KEY]
#
# REDIS_URL (default redis://localhost:6379/0) names the broker. The request's result is then
# read with `reviewq requests list` / `reviewq requests show ID`; the same key twice has one
# effect. Needs redis-cli, python3 (for the JSON and a uuid) and nothing of reviewq.
set -euo pipefail

body_file=${1:?usage: $0 REQUEST.json [IDEMPOTENCY_KEY]}
key=${2:-producer-$(date +%s)-$$}
redis_url=${REDIS_URL:-redis://localhost:6379/0}

redis_id=$(python3 -c 'import uuid; print(uuid.uuid4())')
message=$(python3 - "$body_file" "$key" <<'PY'
import json, sys, time, uuid
body = json.load(open(sys.argv[1], encoding="utf-8"))
print(json.dumps({
    "queue_name": "assignments",
    "actor_name": "assign_reviews",
    "args": [{"request": body, "idempotency_key": sys.argv[2]}],
    "kwargs": {},
    "options": {},
    "message_id": str(uuid.uuid4()),
    "message_timestamp": int(time.time() * 1000),
}))
PY
)

# Both writes at once (one script runs atomically): no worker sees an id without its payload.
# The message travels as an argument, so no character of it needs quoting.
redis-cli -u "$redis_url" EVAL \
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return redis.call('RPUSH', KEYS[2], ARGV[1])" \
    2 reviewq:assignments.msgs reviewq:assignments "$redis_id" "$message" >/dev/null
echo "queued $key (redis id $redis_id)"
