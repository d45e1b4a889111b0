"""The task queue on NATS JetStream: a work-queue stream delivers, the consumer's AckWait is the lease.

Owns the JetStream backend of :class:`TaskQueue` (nats-py). Each topic is a subject of one work-queue stream
(``MQ_<namespace>``) read through its own durable pull consumer, so ``reserve`` pulls only the topics it names.
The broker does the timing: a reserved message that is not acknowledged within the consumer's ``AckWait`` (the
lease, ``?lease=`` in the URL, default 30 s) is redelivered by the server; ``extend_lease`` sends an in-progress
ack (``+WPI``) that restarts it; ``release`` is a NAK with a delay (the retry time); ``ack`` and ``move_to_dlq``
end the message (``+ACK``/``+TERM``). Every publish carries ``Nats-Msg-Id``, so a publish retried after a lost
reply is stored once (the stream's duplicate window).

What a stream cannot say about a task (its status after it left the stream, attempts, owner, dedupe key, last
error) is a record in a JetStream key-value bucket (``MQ_<namespace>``), changed only by compare-and-set on its
revision: that record is the truth, and a message that disagrees with it (a late redelivery of a task that was
acked, a copy from before a replay) is dropped. The dedupe key is a key of the same bucket created with
``create`` (fails if present), so it holds until the task is purged rather than for the stream's duplicate
window only; that is where this backend beats the duplicate window alone.

Differences, declared in :data:`NATSTaskQueue.capabilities`: leases, retry delays and delayed availability run
on the server's clock (``server_clock``; the ``clock`` argument only stamps records), the lease is fixed per
queue (``lease_per_reserve`` is False: reserve's ``lease`` argument is ignored, the task's ``lease_until`` says
what it got), and there is no priority (FIFO per topic). nats-server 2.9 has no per-message delay or TTL, so a
task that is not due yet is NAKed with the remaining delay when it is first pulled (that pull is not counted as
an attempt) and an expired task is dropped when it is pulled or counted. ``stats``, ``purge`` and
``replay_dlq`` read the whole bucket (O(tasks kept); purge done tasks). Install with ``pip install
'plumego[nats]'``. Imports the standard library, nats-py and this package; never plumego.core.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

try:
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the NATS JetStream task queue needs nats-py: pip install 'plumego[nats]'") from exc

from ._queue import QueueCapabilities
from ._rows import check_identifier, dump_meta
from ._task import (
    DEFAULT_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    DuplicateTaskError,
    LeaseLostError,
    QueueError,
    QueueStats,
    Task,
    TaskNotFoundError,
    TaskStatus,
    new_task,
)

__all__ = ["NATSTaskQueue", "split_nats_url"]

_FINISHED = (TaskStatus.DONE, TaskStatus.DEAD, TaskStatus.EXPIRED)
_PULL_TIMEOUT = 10.0          # a no-wait pull is answered at once; this only bounds a broken connection


def split_nats_url(url: str) -> tuple[str, str, float, float]:
    """``nats://host:4222?namespace=NS&lease=30&poll_interval=1`` -> (server URL, namespace, lease, poll)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(params) - {"namespace", "lease", "poll_interval"}
    if unknown:
        raise ValueError(f"unknown NATS queue URL parameters {sorted(unknown)}: use namespace, lease, poll_interval")
    namespace = check_identifier(params.get("namespace", "mq"), "namespace")
    try:
        lease = float(params.get("lease", DEFAULT_LEASE))
        poll = float(params.get("poll_interval", 1.0))
    except ValueError:
        raise ValueError("lease and poll_interval must be numbers of seconds") from None
    if not (0 < lease < 86400) or poll <= 0:
        raise ValueError("lease must be within (0, 86400) seconds and poll_interval > 0")
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")), namespace, lease, poll


def _task(rec: Mapping[str, Any]) -> Task:
    return Task(id=rec["id"], topic=rec["topic"], payload=base64.b64decode(rec["payload"]),
                status=TaskStatus(rec["status"]), tenant_id=rec["tenant_id"], meta=rec["meta"],
                priority=rec["priority"], dedupe_key=rec["dedupe_key"], available_at=rec["available_at"],
                expires_at=rec["expires_at"], attempts=rec["attempts"], max_attempts=rec["max_attempts"],
                lease_owner=rec["lease_owner"], lease_until=rec["lease_until"], created_at=rec["created_at"],
                last_error=rec["last_error"])


def _record(task: Task) -> dict[str, Any]:
    return {"id": task.id, "topic": task.topic, "payload": base64.b64encode(task.payload).decode(),
            "status": task.status.value, "tenant_id": task.tenant_id, "meta": dict(task.meta),
            "priority": task.priority, "dedupe_key": task.dedupe_key, "available_at": task.available_at,
            "expires_at": task.expires_at, "attempts": task.attempts, "max_attempts": task.max_attempts,
            "lease_owner": task.lease_owner, "lease_until": task.lease_until, "created_at": task.created_at,
            "last_error": task.last_error, "updated_at": task.created_at, "gen": 0, "ack": ""}


def _encode(rec: Mapping[str, Any]) -> bytes:
    return json.dumps(rec, separators=(",", ":")).encode()


def _dedupe_key(key: str) -> str:
    return "d." + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _task_key(task_id: str) -> str | None:
    """The bucket key of a task id; None for an id no task can have (so the lookup is simply "not found")."""
    if not task_id or len(task_id) > 64 or not all(c.isalnum() or c in "-_" for c in task_id):
        return None
    return "t." + task_id


class NATSTaskQueue:
    """A :class:`TaskQueue` on NATS JetStream.

    Create it with ``await NATSTaskQueue.open("nats://host:4222?namespace=app")``."""

    capabilities = QueueCapabilities(priority=False, push_wakeups=True, shared=True, server_clock=True,
                                     lease_per_reserve=False)

    def __init__(self, nc: Any, kv: Any, namespace: str, lease: float, poll_interval: float,
                 clock: Callable[[], float]) -> None:
        self._nc = nc
        self._js = nc.jetstream()
        self._kv = kv
        self.namespace = namespace
        self.stream = f"MQ_{namespace}"
        self.lease = lease
        self._poll = poll_interval
        self._clock = clock
        self._consumers: dict[str, str] = {}
        self._held: dict[str, tuple[dict[str, Any], int]] = {}
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> NATSTaskQueue:
        """Connect, and create the stream and the bucket if they are missing (an existing one is used as is)."""
        server, namespace, lease, poll = split_nats_url(url)
        nc = await nats.connect(server, connect_timeout=10, max_reconnect_attempts=-1, allow_reconnect=True)
        try:
            js = nc.jetstream()
            stream = f"MQ_{namespace}"
            try:
                await js.stream_info(stream)
            except NotFoundError:
                with contextlib.suppress(BadRequestError):      # created meanwhile by another process
                    await js.add_stream(StreamConfig(name=stream, subjects=[f"plumego.mq.{namespace}.>"],
                                                     retention=RetentionPolicy.WORK_QUEUE, storage=StorageType.FILE,
                                                     duplicate_window=120.0))
            try:
                kv = await js.key_value(stream)
            except NotFoundError:
                kv = await js.create_key_value(bucket=stream, history=1, storage=StorageType.FILE)
            return cls(nc, kv, namespace, lease, poll, clock)
        except BaseException:
            await nc.close()
            raise

    def _subject(self, topic: str) -> str:
        if any(not token for token in topic.split(".")):
            raise ValueError(f"topic {topic!r} is not a valid NATS subject token list (empty token)")
        return f"plumego.mq.{self.namespace}.{topic}"

    # -- the bucket ---------------------------------------------------------------------------------------------

    async def _load(self, task_id: str) -> tuple[dict[str, Any], int] | None:
        key = _task_key(task_id)
        if key is None:
            return None
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        return json.loads(entry.value), entry.revision

    async def _store(self, rec: dict[str, Any], revision: int) -> int | None:
        """Compare-and-set a record; its new revision, or None when someone changed it since ``revision``."""
        rec["updated_at"] = self._clock()
        try:
            return int(await self._kv.update("t." + rec["id"], _encode(rec), last=revision))
        except KeyWrongLastSequenceError:
            return None

    def _remember(self, rec: dict[str, Any], revision: int) -> None:
        """Keep the record of a task this handle leased, so ack/extend/release skip a read (one round trip): the
        compare-and-set still refuses it if anyone changed the record since."""
        self._held[rec["id"]] = (dict(rec), revision)
        if len(self._held) > 10_000:                 # leases that ran out here and were finished elsewhere
            del self._held[next(iter(self._held))]

    async def _scan(self) -> list[tuple[dict[str, Any], int]]:
        """Every task record with its revision (one ordered read of the bucket)."""
        watcher = await self._kv.watch("t.>", ignore_deletes=True)
        out: list[tuple[dict[str, Any], int]] = []
        try:
            while True:
                entry = await watcher.updates(timeout=_PULL_TIMEOUT)
                if entry is None:
                    break
                if entry.value:
                    out.append((json.loads(entry.value), entry.revision))
                if entry.delta == 0:
                    break
        finally:
            await watcher.stop()
        return out

    # -- producer -----------------------------------------------------------------------------------------------

    async def enqueue(self, topic: str, payload: bytes, *, dedupe_key: str | None = None,
                      available_at: float | None = None, delay: float = 0.0, expires_at: float | None = None,
                      priority: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS, tenant_id: str = "",
                      meta: Mapping[str, str] | None = None) -> Task:
        now = self._clock()
        task = new_task(topic, payload, now, dedupe_key=dedupe_key, available_at=available_at, delay=delay,
                        expires_at=expires_at, priority=priority, max_attempts=max_attempts, tenant_id=tenant_id,
                        meta=meta)
        subject = self._subject(topic)
        dump_meta(meta)                                          # the same type check as the SQL backends
        if dedupe_key is not None:
            await self._hold_dedupe_key(dedupe_key, task.id)
        await self._kv.create("t." + task.id, _encode(_record(task)))
        await self._publish(subject, task.id, 0, task.payload)
        return task

    async def _hold_dedupe_key(self, dedupe_key: str, task_id: str) -> None:
        key = _dedupe_key(dedupe_key)
        while True:
            try:
                await self._kv.create(key, task_id.encode())
                return
            except KeyWrongLastSequenceError:
                pass
            try:
                entry = await self._kv.get(key)
            except KeyNotFoundError:
                continue                                         # freed meanwhile: try again
            holder = entry.value.decode()
            if await self._load(holder) is not None:
                raise DuplicateTaskError(dedupe_key, holder)
            # the holder's enqueue died before its record was written: the key is free
            with contextlib.suppress(KeyWrongLastSequenceError):
                await self._kv.update(key, task_id.encode(), last=entry.revision)
                return

    async def _publish(self, subject: str, task_id: str, gen: int, payload: bytes,
                       extra: Mapping[str, str] | None = None) -> None:
        headers = {"Nats-Msg-Id": f"{task_id}.{gen}", "Plumego-Task": task_id, "Plumego-Gen": str(gen), **(extra or {})}
        await self._js.publish(subject, payload, stream=self.stream, headers=headers)

    # -- consumer -----------------------------------------------------------------------------------------------

    async def _consumer(self, topic: str) -> str:
        name = self._consumers.get(topic)
        if name is None:
            name = "c" + hashlib.sha1(topic.encode()).hexdigest()[:24]
            config = ConsumerConfig(durable_name=name, filter_subject=self._subject(topic),
                                    ack_policy=AckPolicy.EXPLICIT, ack_wait=self.lease, max_deliver=-1,
                                    max_ack_pending=-1, max_waiting=4096)
            try:     # look first: nats-server 2.9 would silently update an existing consumer's AckWait
                info = await self._js.consumer_info(self.stream, name)
            except NotFoundError:
                info = await self._js.add_consumer(self.stream, config)
            if abs(info.config.ack_wait - self.lease) > 1e-3:
                raise QueueError(f"topic {topic!r} of NATS queue {self.namespace!r} has lease {info.config.ack_wait}s,"
                                 f" not {self.lease}s: every handle of a queue must open it with the same ?lease=")
            self._consumers[topic] = name
        return name

    async def _pull(self, topic: str, batch: int) -> list[Any]:
        """A no-wait pull of up to ``batch`` messages: what is available now, at once. Delivered messages keep
        their own subject, so each pull has its own inbox subscription (dropped when the batch is complete)."""
        consumer = await self._consumer(topic)
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox)
        out: list[Any] = []
        try:
            await self._nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{consumer}",
                                   json.dumps({"batch": batch, "no_wait": True}).encode(), reply=inbox)
            while len(out) < batch:
                msg = await sub.next_msg(timeout=_PULL_TIMEOUT)
                status = msg.headers.get("Status") if msg.headers else None
                if status == "100":                              # a heartbeat
                    continue
                if status is not None:                           # 404 no messages, 408 batch ended, 409 ...
                    break
                out.append(msg)
        except nats.errors.TimeoutError:
            raise QueueError(f"NATS did not answer a pull on {topic!r} within {_PULL_TIMEOUT}s") from None
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        return out

    async def reserve(self, topics: Sequence[str], *, consumer_id: str, limit: int = 1,
                      lease: float = DEFAULT_LEASE) -> list[Task]:
        """Lease up to ``limit`` tasks. The lease is the queue's (``lease_per_reserve`` is False): ``lease`` is
        checked like everywhere else and otherwise ignored; each task's ``lease_until`` says when it ends."""
        if not topics or limit < 1:
            return []
        if lease <= 0:
            raise ValueError("lease must be > 0")
        if not consumer_id:
            raise ValueError("consumer_id must not be empty")
        out: list[Task] = []
        for topic in dict.fromkeys(topics):
            while len(out) < limit:
                msgs = await self._pull(topic, limit - len(out))
                if not msgs:
                    break
                for msg in msgs:
                    task = await self._claim(msg, consumer_id)
                    if task is not None:
                        out.append(task)
        return out

    async def _claim(self, msg: Any, consumer_id: str) -> Task | None:
        """Decide what a delivered message means, with the record as the truth; the leased task, or None."""
        headers = msg.headers or {}
        task_id, gen_text = headers.get("Plumego-Task", ""), headers.get("Plumego-Gen", "")
        if not gen_text.isdigit():                               # not a message this queue published
            await self._settle(msg.reply, b"+TERM")
            return None
        gen = int(gen_text)
        while True:
            now = self._clock()
            loaded = await self._load(task_id)
            if loaded is None:                                   # purged, or not a task message
                await self._settle(msg.reply, b"+TERM")
                return None
            rec, revision = loaded
            if gen > rec["gen"] and rec["status"] == TaskStatus.DEAD:
                # a replay published this copy and died before it updated the record: finish the replay
                rec.update(status=TaskStatus.QUEUED.value, gen=gen, available_at=now, last_error="")
                if headers.get("Plumego-Reset") == "1":
                    rec["attempts"] = 0
            if gen != rec["gen"] or rec["status"] in _FINISHED:  # a stale copy, or a late redelivery
                await self._settle(msg.reply, b"+TERM")
                return None
            if rec["expires_at"] is not None and rec["expires_at"] <= now:
                rec.update(status=TaskStatus.EXPIRED.value, lease_owner=None, lease_until=None)
                if await self._store(rec, revision) is not None:
                    await self._settle(msg.reply, b"+TERM")
                    return None
                continue
            if rec["status"] == TaskStatus.QUEUED and rec["available_at"] > now:
                await self._nak(msg.reply, rec["available_at"] - now)   # not due: not an attempt
                return None
            if rec["status"] == TaskStatus.LEASED and rec["attempts"] >= rec["max_attempts"]:
                # the server redelivered because the last allowed lease ran out: a poison message
                rec.update(status=TaskStatus.DEAD.value, lease_owner=None, lease_until=None,
                           last_error=f"lease expired on attempt {rec['attempts']} of {rec['max_attempts']}")
                if await self._store(rec, revision) is not None:
                    await self._settle(msg.reply, b"+TERM")
                    return None
                continue
            rec.update(status=TaskStatus.LEASED.value, lease_owner=consumer_id, lease_until=now + self.lease,
                       attempts=rec["attempts"] + 1, ack=msg.reply)
            stored = await self._store(rec, revision)
            if stored is not None:
                self._remember(rec, stored)
                return _task(rec)

    async def _settle(self, reply: str, verb: bytes) -> None:
        if reply:
            await self._nc.publish(reply, verb)

    async def _nak(self, reply: str, delay: float) -> None:
        if delay <= 0:
            await self._settle(reply, b"-NAK")
        else:
            await self._settle(reply, b'-NAK {"delay": %d}' % int(delay * 1e9))

    async def _owned(self, task_id: str, consumer_id: str,
                     change: Callable[[dict[str, Any], float], None]) -> dict[str, Any]:
        """Change the record of a task the caller holds (compare-and-set, retried on a conflict). The first try
        uses the record this handle remembers from ``reserve``, when it has it."""
        held = self._held.pop(task_id, None)
        while True:
            if held is not None:
                rec, revision = dict(held[0]), held[1]
                held = None
            else:
                loaded = await self._load(task_id)
                if loaded is None:
                    raise TaskNotFoundError(task_id)
                rec, revision = loaded
            if rec["status"] != TaskStatus.LEASED or rec["lease_owner"] != consumer_id:
                raise LeaseLostError(f"{consumer_id!r} does not hold the lease of task {task_id}")
            change(rec, self._clock())
            stored = await self._store(rec, revision)
            if stored is not None:
                if rec["status"] == TaskStatus.LEASED:          # extend: still held
                    self._remember(rec, stored)
                return rec

    async def ack(self, task_id: str, consumer_id: str) -> None:
        def done(rec: dict[str, Any], now: float) -> None:
            rec.update(status=TaskStatus.DONE.value, lease_owner=None, lease_until=None)

        rec = await self._owned(task_id, consumer_id, done)
        await self._settle(rec["ack"], b"+ACK")

    async def release(self, task_id: str, consumer_id: str, *, retry_at: float | None = None,
                      error: str = "") -> Task:
        def back(rec: dict[str, Any], now: float) -> None:
            dead = rec["attempts"] >= rec["max_attempts"]
            rec.update(status=(TaskStatus.DEAD if dead else TaskStatus.QUEUED).value, lease_owner=None,
                       lease_until=None, available_at=now if retry_at is None else retry_at, last_error=error)

        rec = await self._owned(task_id, consumer_id, back)
        if rec["status"] == TaskStatus.DEAD:
            await self._settle(rec["ack"], b"+TERM")
        else:
            await self._nak(rec["ack"], rec["available_at"] - self._clock())
        return _task(rec)

    async def extend_lease(self, task_id: str, consumer_id: str, lease: float = DEFAULT_LEASE) -> float:
        """Restart the server's AckWait with an in-progress ack; the lease is the queue's, whatever ``lease``."""
        if lease <= 0:
            raise ValueError("lease must be > 0")

        def extend(rec: dict[str, Any], now: float) -> None:
            rec["lease_until"] = now + self.lease

        rec = await self._owned(task_id, consumer_id, extend)
        await self._settle(rec["ack"], b"+WPI")
        await self._nc.flush()                  # the server has the in-progress ack before the caller goes on
        return float(rec["lease_until"])

    async def move_to_dlq(self, task_id: str, consumer_id: str, reason: str = "") -> None:
        def dead(rec: dict[str, Any], now: float) -> None:
            rec.update(status=TaskStatus.DEAD.value, lease_owner=None, lease_until=None, last_error=reason)

        rec = await self._owned(task_id, consumer_id, dead)
        await self._settle(rec["ack"], b"+TERM")

    # -- administration -----------------------------------------------------------------------------------------

    async def replay_dlq(self, *, limit: int = 100, reset_attempts: bool = True) -> int:
        """Publish a new copy of up to ``limit`` dead tasks (oldest first), then mark them queued. A replay that
        dies between the two is finished by whoever pulls the copy."""
        if limit < 1:
            return 0
        dead = sorted((r for r in await self._scan() if r[0]["status"] == TaskStatus.DEAD),
                      key=lambda r: r[0]["updated_at"])[:limit]
        count = 0
        for rec, revision in dead:
            gen = rec["gen"] + 1
            await self._publish(self._subject(rec["topic"]), rec["id"], gen, base64.b64decode(rec["payload"]),
                                {"Plumego-Reset": "1" if reset_attempts else "0"})
            rec.update(status=TaskStatus.QUEUED.value, gen=gen, available_at=self._clock(), last_error="")
            if reset_attempts:
                rec["attempts"] = 0
            await self._store(rec, revision)     # a conflict means the copy was pulled and adopted meanwhile
            count += 1
        return count

    async def purge(self, *, finished_before: float) -> int:
        """Delete done and expired tasks finished before the given time (their dedupe keys become free again)."""
        count = 0
        for rec, revision in await self._scan():
            if rec["status"] in (TaskStatus.DONE, TaskStatus.EXPIRED) and rec["updated_at"] < finished_before:
                try:
                    await self._kv.delete("t." + rec["id"], last=revision)
                except (KeyWrongLastSequenceError, BadRequestError):     # changed meanwhile: keep it
                    continue
                if rec["dedupe_key"] is not None:
                    await self._free_dedupe_key(rec["dedupe_key"], rec["id"])
                count += 1
        return count

    async def _free_dedupe_key(self, dedupe_key: str, task_id: str) -> None:
        key = _dedupe_key(dedupe_key)
        with contextlib.suppress(KeyNotFoundError, KeyWrongLastSequenceError, BadRequestError):
            entry = await self._kv.get(key)
            if entry.value.decode() == task_id:
                await self._kv.delete(key, last=entry.revision)

    async def get(self, task_id: str) -> Task | None:
        loaded = await self._load(task_id)
        return None if loaded is None else _task(loaded[0])

    async def stats(self) -> QueueStats:
        """Counts by status; queued (or abandoned leased) tasks past ``expires_at`` are marked expired first."""
        now = self._clock()
        counts = dict.fromkeys(TaskStatus, 0)
        for rec, revision in await self._scan():
            status = TaskStatus(rec["status"])
            lapsed = status == TaskStatus.QUEUED or (status == TaskStatus.LEASED and rec["lease_until"] <= now)
            if rec["expires_at"] is not None and rec["expires_at"] <= now and lapsed:
                rec.update(status=TaskStatus.EXPIRED.value, lease_owner=None, lease_until=None)
                if await self._store(rec, revision) is not None:
                    status = TaskStatus.EXPIRED
            counts[status] += 1
        return QueueStats(**{s.value: n for s, n in counts.items()})

    # -- waiting and shutdown -----------------------------------------------------------------------------------

    async def wait(self, topics: Sequence[str], timeout: float) -> None:
        """Wait for a publish on one of the topics' subjects (core NATS sees every stream publish), or
        ``min(timeout, poll_interval)``: redeliveries and NAK delays that end are seen at the poll."""
        woke = asyncio.Event()

        async def on_msg(msg: Any) -> None:
            woke.set()

        subs = [await self._nc.subscribe(self._subject(t), cb=on_msg) for t in dict.fromkeys(topics)]
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woke.wait(), min(timeout, self._poll))
        finally:
            for sub in subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._nc.close()
