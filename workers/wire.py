"""The wire format of reviewq's queues: how a message in Redis becomes one a worker runs.

Two things dramatiq's Redis broker does not do, and reviewq needs (reliability.md, "poison
messages"):

- `SafeJSONEncoder.decode` never raises. dramatiq's consumer decodes each prefetched payload
  with the global encoder; a `DecodeError` (not JSON, not UTF-8, nested past the recursion limit,
  not a message object) escapes its `__next__`, the consumer is rebuilt, and the messages fetched
  with the bad one sit in the live worker's ack set and never run. Here an undecodable payload
  decodes to a marker message that carries the reason (`undecodable_reason`).
- `IdentifyingConsumer` fetches each payload together with its Redis id. dramatiq's fetch
  returns payloads only and acknowledges by the id the payload itself names
  (`options.redis_message_id`), so a message pushed by another program without that option ran
  and was never acknowledged: it ran again after every restart. This consumer always acks by the
  id the payload was stored under, and moves a marker message straight to the dead letters with
  its reason (`dead_letter_reasons`), without stalling the messages fetched with it.

And one thing it does slowly: an idle dramatiq consumer sleeps a growing back-off (up to the
worker timeout, 1 s) between fetches, so a message sent to an idle worker waited up to a second.
Here every enqueue also pushes a token on the queue's wake list (`wake_key`: LPUSH, trimmed to
WAKE_TOKENS, with a TTL; in the enqueue's own round trip), and an idle consumer BLPOPs that list
for up to the worker timeout instead of sleeping: it fetches as soon as a token comes, and
otherwise once a second. The list is a hint, never the queue: a message pushed by another
program without a token still runs within that second, and a stale token only costs one empty
fetch. A consumer that holds all it may prefetch waits for one of its own acks instead (a token
is no use to it, and another consumer may need it).

dramatiq's heartbeat (this process's broker id in the heartbeats sorted set) is written by the
fetch script itself, on every fetch; the queue's maintenance (bringing back the messages of dead
workers, dropping expired dead letters) runs through an empty dramatiq fetch at most once per
UPKEEP_SECONDS per consumer (it had cost a second round trip on every fetch), which keeps an idle
queue maintained as often as before: see workers/broker.py for why that brings a SIGKILLed
worker's messages back within a minute.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis
from dramatiq import Message
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.encoder import JSONEncoder, MessageData
from dramatiq.errors import ConnectionClosed
from dramatiq.message import generate_unique_id

from workers.redis_keys import QUEUE_NAMESPACE, wake_key

logger = logging.getLogger(__name__)

#: The option a marker message carries: why its payload could not be decoded.
UNDECODABLE_OPTION = "reviewq_undecodable"
#: The actor name of a marker message (no actor has it).
UNDECODABLE_ACTOR = "reviewq.undecodable"
REASON_MAX_CHARS = 500
#: At most this many wake tokens wait on a queue's wake list (enough to wake every idle
#: consumer of a small fleet at once; more would only be stale).
WAKE_TOKENS = 16
#: A wake list nobody reads goes away after this long.
WAKE_TTL_MS = 60_000
#: How often (at most) each consumer runs dramatiq's maintenance draw on its queue (an idle
#: consumer used to, once per back-off: 0.5 to 1 s).
UPKEEP_SECONDS = 0.5
#: The fields of dramatiq's message object, and the JSON types they must have.
_REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "queue_name": str,
    "actor_name": str,
    "args": list,
    "kwargs": dict,
    "options": dict,
}
_OPTIONAL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "message_id": str,
    "message_timestamp": (int, float),
}

# Record this broker's heartbeat (ARGV[2] = now in ms, ARGV[3] = broker id, as dramatiq's
# dispatch does on every command), pop up to ARGV[1] ids off the queue into this worker's ack
# set, and return id, payload pairs (a payload is nil when the id has no entry in the queue's
# hash).
_FETCH_WITH_IDS = """
local queue = KEYS[1]
local messages = KEYS[2]
local acks = KEYS[3]
redis.call("zadd", KEYS[4], ARGV[2], ARGV[3])
local out = {}
for i = 1, tonumber(ARGV[1]) do
    local message_id = redis.call("lpop", queue)
    if not message_id then
        break
    end
    redis.call("sadd", acks, message_id)
    out[#out + 1] = message_id
    out[#out + 1] = redis.call("hget", messages, message_id)
end
return out
"""


class SafeJSONEncoder(JSONEncoder):
    """dramatiq's JSON encoder whose `decode` never raises: a payload that is not a dramatiq
    message decodes to a marker message naming the reason."""

    def decode(self, data: bytes) -> MessageData:
        try:
            fields = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            return undecodable_message("the payload is not UTF-8")
        except RecursionError:
            return undecodable_message("the payload is nested past the recursion limit")
        except ValueError as exc:
            return undecodable_message(f"the payload is not JSON ({exc})")
        problem = _shape_problem(fields)
        if problem is not None:
            return undecodable_message(problem)
        return dict(fields)


def _shape_problem(fields: Any) -> str | None:
    if not isinstance(fields, dict):
        return "the payload is not a JSON object"
    for name, kind in _REQUIRED_FIELDS.items():
        if name not in fields:
            return f"{name}: missing"
        if not isinstance(fields[name], kind):
            return f"{name}: wrong type {type(fields[name]).__name__}"
    for name, kind in _OPTIONAL_FIELDS.items():
        value = fields.get(name)
        if name in fields and (isinstance(value, bool) or not isinstance(value, kind)):
            return f"{name}: wrong type {type(value).__name__}"
    unknown = sorted(set(fields) - set(_REQUIRED_FIELDS) - set(_OPTIONAL_FIELDS))
    if unknown:
        return f"unknown fields: {', '.join(unknown)[:REASON_MAX_CHARS]}"
    return None


def undecodable_message(reason: str) -> MessageData:
    """The marker message an undecodable payload decodes to."""
    return {
        "queue_name": "",
        "actor_name": UNDECODABLE_ACTOR,
        "args": [],
        "kwargs": {},
        "options": {UNDECODABLE_OPTION: reason[:REASON_MAX_CHARS]},
        "message_id": generate_unique_id(),
        "message_timestamp": 0,
    }


def decode_message(data: bytes) -> Message[Any]:
    """`data` as a dramatiq message, a marker message (`undecodable_reason`) when it is not one."""
    fields = SafeJSONEncoder().decode(data)
    return Message(**{**fields, "args": tuple(fields["args"])})


def undecodable_reason(message: Message[Any]) -> str | None:
    """Why `message` is a marker of an undecodable payload; None for a real message."""
    if message.actor_name != UNDECODABLE_ACTOR:
        return None
    return str(message.options.get(UNDECODABLE_OPTION, "undecodable"))


def failure_reason(options: dict[str, Any]) -> str:
    """The last line of the error a message's last attempt raised (Retries keeps the
    traceback in its options)."""
    lines = [line for line in str(options.get("traceback", "")).splitlines() if line.strip()]
    return lines[-1] if lines else "failed without a recorded error"


def dead_letter_reasons_key(queue_name: str) -> str:
    """The hash of dead-letter reasons (Redis id -> reason) next to a queue's dead letters."""
    canonical = queue_name.removesuffix(".DQ")
    return f"{QUEUE_NAMESPACE}:{canonical}.XQ.reasons"


class IdentifyingConsumer(_RedisConsumer):
    """dramatiq's Redis consumer, fetching (id, payload) pairs: see the module docstring."""

    broker: IdentifyingRedisBroker

    def __init__(
        self, broker: IdentifyingRedisBroker, queue_name: str, prefetch: int, timeout: int
    ) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
        self._fetch = broker.client.register_script(_FETCH_WITH_IDS)
        self._acked = threading.Event()  # set by the worker threads' acks
        self._next_upkeep = 0.0

    def __next__(self) -> Any:
        try:
            while True:
                if self.message_cache:
                    redis_id, data = self.message_cache.pop(0)
                    self.misses = 0
                    message = self._message(redis_id, data)
                    if message is None:
                        continue
                    self.queued_message_ids.add(message.message_id)
                    return MessageProxy(message)
                if self.outstanding_message_count >= self.prefetch:
                    self._wait_for_ack()
                    return None
                if not self._fill():
                    self._wait_for_message()
                    return None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

    def _backoff_seconds(self) -> float:
        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
        return backoff_ms / 1000

    def _wait_for_message(self) -> None:
        """The queue was empty: wait for a wake token (the module docstring), at most the
        worker timeout (dramatiq's longest back-off). A token ends the wait at once, so the
        short back-offs dramatiq starts with would only be fetches of nothing: after each
        message, eight of them in the next two seconds, for every consumer of the queue."""
        self.broker.client.blpop([wake_key(self.queue_name)], timeout=self.timeout / 1000)

    def _wait_for_ack(self) -> None:
        """This consumer holds all it may prefetch: wait the back-off, cut short by one of its
        acks (a stale one only costs one more turn: the caller checks again)."""
        self._acked.wait(self._backoff_seconds())
        self._acked.clear()

    def _fill(self) -> bool:
        wanted = self.prefetch - self.outstanding_message_count
        if wanted <= 0:
            return False
        self._upkeep()
        namespace = self.broker.namespace
        queue = f"{namespace}:{self.queue_name}"
        acks = f"{namespace}:__acks__.{self.broker.broker_id}.{self.queue_name}"
        heartbeats = f"{namespace}:__heartbeats__"
        flat = self._fetch(
            keys=[queue, f"{queue}.msgs", acks, heartbeats],
            args=[wanted, current_millis(), self.broker.broker_id],
        )
        self.message_cache = [(_text(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]
        return bool(self.message_cache)

    def _upkeep(self) -> None:
        """At most once per UPKEEP_SECONDS, a fetch of none: dramatiq's heartbeat and (by
        chance) maintenance, which brings back the messages of dead workers."""
        now = time.monotonic()
        if now >= self._next_upkeep:
            self._next_upkeep = now + UPKEEP_SECONDS
            self.broker.do_fetch(self.queue_name, 0)

    def _message(self, redis_id: str, data: bytes | None) -> Message[Any] | None:
        if data is None:  # the id had no payload: drop it from the ack set
            self.broker.do_ack(self.queue_name, redis_id)
            return None
        message = decode_message(data)
        reason = undecodable_reason(message)
        if reason is None and message.queue_name != self.queue_name:
            # dramatiq's worker finds the consumer to ack by the message's queue name: a wrong
            # one would kill the worker thread, so the message cannot run here
            reason = f"queue_name {message.queue_name!r} is not the queue it was on"
            reason += f" ({self.queue_name!r})"
        if reason is not None:
            self.dead_letter(redis_id, reason)
            return None
        if message.options.get("redis_message_id") != redis_id:
            message = message.copy(options={"redis_message_id": redis_id})
        return message

    def ack(self, message: MessageProxy) -> None:
        try:
            super().ack(message)  # type: ignore[no-untyped-call]
        finally:
            self._acked.set()

    def nack(self, message: MessageProxy) -> None:
        """A message failed for good: keep why (its last error) beside it in the dead letters,
        since the payload Redis moves there is the one first stored, without the error."""
        redis_id = message.options.get("redis_message_id")
        try:
            if redis_id:
                reason = failure_reason(message.options)
                self.broker.client.hset(dead_letter_reasons_key(self.queue_name), redis_id, reason)
            super().nack(message)  # type: ignore[no-untyped-call]
        finally:
            self._acked.set()

    def dead_letter(self, redis_id: str, reason: str) -> None:
        """Move the payload stored under `redis_id` to the dead letters, with its reason."""
        self.broker.client.hset(dead_letter_reasons_key(self.queue_name), redis_id, reason)
        self.broker.do_nack(self.queue_name, redis_id)
        logger.error(
            "message %s on queue %s moved to the dead letters: %s",
            redis_id,
            self.queue_name,
            reason,
        )


class IdentifyingRedisBroker(RedisBroker):
    """dramatiq's Redis broker with reviewq's consumer, whose enqueue also wakes an idle
    consumer of the queue (the module docstring)."""

    @property
    def consumer_class(self) -> type[IdentifyingConsumer]:
        return IdentifyingConsumer

    def do_enqueue(self, queue_name: str, redis_id: str, data: bytes) -> None:
        """dramatiq's enqueue command (`enqueue` calls it with the queue the message goes on:
        the delay queue for a delayed one) and a wake token for that queue's consumers, in one
        round trip. A token that cannot be pushed is only a later start, never an error."""
        key = wake_key(queue_name)
        with self.client.pipeline(transaction=False) as pipe:
            # the script by its digest alone: a pipeline given the Script object would first
            # ask Redis whether it has it (one more round trip per enqueue)
            pipe.evalsha(
                self.scripts["dispatch"].sha,
                1,
                self.namespace,
                *self._dispatch_args("enqueue", queue_name, redis_id, data),
            )
            pipe.lpush(key, b"1")
            pipe.ltrim(key, 0, WAKE_TOKENS - 1)
            pipe.pexpire(key, WAKE_TTL_MS)
            enqueued, *_wake_replies = pipe.execute(raise_on_error=False)
        if isinstance(enqueued, redis.exceptions.NoScriptError):  # Redis was restarted
            self._dispatch("enqueue")(queue_name, redis_id, data)  # type: ignore[no-untyped-call]
        elif isinstance(enqueued, Exception):
            raise enqueued

    def _dispatch_args(self, command: str, queue_name: str, *args: Any) -> list[Any]:
        """The arguments of dramatiq's dispatch script, exactly as `RedisBroker._dispatch`
        builds them (dramatiq 2.2, pinned)."""
        return [
            command,
            current_millis(),
            queue_name,
            self.broker_id,
            self.heartbeat_timeout,
            self.dead_message_ttl,
            self._should_do_maintenance(command),
            self._max_unpack_size(),  # type: ignore[no-untyped-call]
            *args,
        ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
