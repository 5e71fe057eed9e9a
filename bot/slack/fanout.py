"""Paced fan-out: many chat.postMessage calls (1,000 stand-up prompts) inside Slack's rate limits.

Slack allows about one message per second per channel (short bursts tolerated) and a workspace-wide rate for the
app. `FanOut.send` keeps to both with a token bucket for the workspace and a per-channel interval, sends through a
bounded thread pool, pauses the whole stream when Slack answers 429 (for its Retry-After), retries 5xx and
connection errors with backoff, and returns one `Delivery` per message — sent with its ts, or failed with the error —
so the caller can finish or release each claim. `on_delivery` is called on the caller's thread as each message is
settled, so claims can be finished as the run goes rather than at its end; `on_deliveries` instead gets, in one call,
every message settled since the last call (those whose answers came in together, and, with `gather_seconds`, those
settled within that long of the first of them), so that they can be recorded in one transaction.

    deliveries = FanOut(client).send(posts, on_delivery=record_outcome)

The outbox worker (bot/jobs/outbox.py) sends everything the app sends on its own through one FanOut per workspace,
and records each Delivery's outcome. A Post may name another Web API method than chat.postMessage (chat.update,
files.upload_v2): every message write of a workspace shares one pace.

The pace is per FanOut (one `send` at a time each): two processes fanning out to one workspace at the same moment
would add up their rates; the 429 handling absorbs that.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.client import counting_only
from bot.slack.gateway import Answer, Verdict, classify, share_file

log = logging.getLogger("cadence.fanout")

# Slack documents "several hundred messages per minute" per workspace for chat.postMessage beyond the per-channel
# limit; 4 a second (240 a minute) with bursts of 10 stays well inside it.
DEFAULT_PER_SECOND = 4.0
DEFAULT_BURST = 10
PER_CHANNEL_INTERVAL = 1.0
DEFAULT_CONCURRENCY = 8
MAX_ATTEMPTS = 6  # per message, for 5xx and connection errors
MAX_RATE_LIMITED = 30  # per message: a 429 is Slack asking to slow down, not the message failing
MAX_BACKOFF_SECONDS = 30.0

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Post:
    """One message to send: `key` is the caller's name for it (e.g. its claim key), returned in its Delivery."""

    key: str
    channel: str
    text: str
    blocks: Sequence[Mapping[str, Any]] | None = None
    thread_ts: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # any other argument of the method
    method: str = "chat.postMessage"  # or chat.update, files.upload_v2: the call that delivers it

    @property
    def lane(self) -> str:
        """What the per-channel pace applies to: Slack's one message a second per channel is for new messages;
        an edit (chat.update) only counts against the workspace's rate, so each edit is a lane of its own."""
        return self.channel if self.method != "chat.update" else f"{self.channel}/{self.key}"

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {"channel": self.channel, **self.extra}
        if self.method != "files.upload_v2":
            args["text"] = self.text
        if self.blocks is not None:
            args["blocks"] = list(self.blocks)
        if self.thread_ts is not None:
            args["thread_ts"] = self.thread_ts
        return args


SENT = Answer(Verdict.OK)


@dataclass(frozen=True)
class Delivery:
    """What became of one Post: sent (`ts`, and the `channel` Slack put it in) or failed (`error`, `answer`)."""

    post: Post
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    attempts: int = 1
    answer: Answer = SENT

    @property
    def retryable(self) -> bool:
        """Failed on something that may pass later (429s, 5xx, connection errors ran out)."""
        return self.answer.verdict is Verdict.RETRY_LATER

    @property
    def ok(self) -> bool:
        return self.error is None


class Pacer:
    """When the next message may go: a workspace token bucket and one message per channel per interval.

    Pure arithmetic on the clock it is given. The bucket is kept as its "theoretical arrival time" (GCRA): a burst
    of `burst` messages may go at once, then one every 1/`per_second` seconds.
    """

    def __init__(self, *, per_second: float, burst: int = 1, per_channel_interval: float = PER_CHANNEL_INTERVAL,
                 clock: Clock = time.monotonic) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self.per_second = per_second
        self.interval = 1.0 / per_second
        self.tolerance = (burst - 1) * self.interval
        self.per_channel_interval = per_channel_interval
        self.clock = clock
        self._bucket_full_at = float("-inf")
        self._channel_free_at: dict[str, float] = {}
        self._paused_until = float("-inf")

    def channel_ready_at(self, channel: str) -> float:
        return self._channel_free_at.get(channel, float("-inf"))

    def workspace_ready_at(self) -> float:
        return max(self._bucket_full_at - self.tolerance, self._paused_until)

    def ready_at(self, channel: str) -> float:
        """The earliest time a message to `channel` may go (may be in the past)."""
        return max(self.channel_ready_at(channel), self.workspace_ready_at())

    def take(self, channel: str) -> float:
        """Spend the next slot for `channel`; returns when it starts (now at the earliest)."""
        start = max(self.clock(), self.ready_at(channel))
        self._bucket_full_at = max(self._bucket_full_at, start) + self.interval
        self._channel_free_at[channel] = start + self.per_channel_interval
        return start

    def pause(self, seconds: float) -> None:
        """Slack said 429: send nothing for `seconds`, then restart at the steady rate (no burst)."""
        until = self.clock() + seconds
        self._paused_until = max(self._paused_until, until)
        self._bucket_full_at = max(self._bucket_full_at, until + self.tolerance)


@dataclass
class _Pending:
    post: Post
    attempts: int = 0
    failures: int = 0
    rate_limited: int = 0
    not_before: float = float("-inf")


@dataclass
class _Outcome:
    pending: _Pending
    response: Any = None
    error: BaseException | None = None


class FanOut:
    """Sends many messages through one workspace's client, paced and retried; see the module docstring."""

    def __init__(
        self,
        client: WebClient,
        *,
        per_second: float = DEFAULT_PER_SECOND,
        burst: int = DEFAULT_BURST,
        per_channel_interval: float = PER_CHANNEL_INTERVAL,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.client = counting_only(client)
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.clock = clock
        self.sleep = sleep
        self.pacer = Pacer(per_second=per_second, burst=burst, per_channel_interval=per_channel_interval,
                           clock=clock)
        self._order = itertools.count()  # ties between channels ready at once go first come, first served

    def send(self, posts: Iterable[Post], *, on_delivery: Callable[[Delivery], None] | None = None,
             on_deliveries: Callable[[list[Delivery]], None] | None = None, gather_seconds: float = 0.0,
             gather_most: int = 50) -> list[Delivery]:
        """Send every post; one Delivery per post, in the order given.

        `on_deliveries` is handed the deliveries settled since its last call, at most `gather_seconds` after the
        first of them settled (or once `gather_most` wait, or once the last post is settled)."""
        posts = list(posts)
        keys = [post.key for post in posts]
        if len(set(keys)) != len(keys):
            raise ValueError("every Post needs its own key")
        queues: dict[str, deque[_Pending]] = {}
        for post in posts:
            queues.setdefault(post.lane, deque()).append(_Pending(post))
        order = self._order
        # Channels by when their next message may go, so that one busy channel never holds up the others.
        ready: list[tuple[float, int, str]] = [(float("-inf"), next(order), channel) for channel in queues]
        done: queue.Queue[_Outcome] = queue.Queue()
        deliveries: dict[str, Delivery] = {}
        in_flight = 0

        def settle(outcome: _Outcome) -> Delivery | None:
            nonlocal in_flight
            in_flight -= 1
            delivery = self._settle(outcome)
            if delivery is None:  # to be tried again
                pending = outcome.pending
                queues.setdefault(pending.post.lane, deque()).appendleft(pending)
                heapq.heappush(ready, (pending.not_before, next(order), pending.post.lane))
                return None
            deliveries[delivery.post.key] = delivery
            if on_delivery is not None:
                on_delivery(delivery)
            return delivery

        held: list[Delivery] = []  # settled, not yet handed to on_deliveries
        held_since = 0.0

        def hand_over(*, now: bool = False) -> None:
            nonlocal held
            if held and on_deliveries is not None and (
                    now or len(held) >= gather_most or self.clock() - held_since >= gather_seconds):
                batch, held = held, []
                on_deliveries(batch)

        def settle_all(first: _Outcome | None = None) -> None:
            nonlocal held_since
            # Every answer already in, at once.
            settled = [] if first is None else [settle(first)]
            while True:
                try:
                    settled.append(settle(done.get_nowait()))
                except queue.Empty:
                    break
            if on_deliveries is not None and (delivered := [d for d in settled if d is not None]):
                if not held:
                    held_since = self.clock()
                held.extend(delivered)
                hand_over()

        def gathering_left() -> float | None:
            return None if not held else max(0.0, held_since + gather_seconds - self.clock())

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fanout") as pool:
            while True:
                settle_all()
                channel = self._next_channel(ready, queues)
                if channel is None and in_flight == 0:
                    break
                if channel is None or in_flight >= self.concurrency:
                    left = gathering_left()
                    try:
                        settle_all(done.get(timeout=left))
                    except queue.Empty:  # the held deliveries waited long enough
                        hand_over(now=True)
                    continue
                start = max(self.pacer.ready_at(channel), queues[channel][0].not_before)
                wait = start - self.clock()
                if wait > 0:
                    left = gathering_left()
                    if left is not None and left <= wait:
                        self.sleep(left)
                        hand_over(now=True)
                        continue
                    self.sleep(wait)
                    continue  # a 429 may have come in meanwhile
                self.pacer.take(channel)
                heapq.heappop(ready)  # _next_channel left this channel's entry on top
                pending = queues[channel].popleft()
                pending.attempts += 1
                if queues[channel]:
                    heapq.heappush(ready, (self._channel_ready(channel, queues), next(order), channel))
                in_flight += 1
                pool.submit(self._post, pending, done)
        hand_over(now=True)
        return [deliveries[key] for key in keys]

    def _channel_ready(self, channel: str, queues: dict[str, deque[_Pending]]) -> float:
        return max(self.pacer.channel_ready_at(channel), queues[channel][0].not_before)

    def _next_channel(self, ready: list[tuple[float, int, str]], queues: dict[str, deque[_Pending]]) -> str | None:
        while ready:
            at, _, channel = ready[0]
            if not queues.get(channel):
                heapq.heappop(ready)
                continue
            actual = self._channel_ready(channel, queues)
            if actual > at:
                heapq.heapreplace(ready, (actual, next(self._order), channel))
                continue
            return channel
        return None

    def _post(self, pending: _Pending, done: queue.Queue[_Outcome]) -> None:
        try:
            if pending.post.method == "files.upload_v2":  # joins a public channel first where it must
                response = share_file(self.client, **pending.post.arguments())
            else:
                response = getattr(self.client, pending.post.method.replace(".", "_"))(**pending.post.arguments())
            done.put(_Outcome(pending, response=response))
        except (SlackApiError, OSError) as error:
            done.put(_Outcome(pending, error=error))
        except BaseException as error:
            # A bug in one message must not lose the others: report it as that message's failure.
            log.exception("posting %s failed unexpectedly", pending.post.key)
            done.put(_Outcome(pending, error=error))

    def _settle(self, outcome: _Outcome) -> Delivery | None:
        """The Delivery for a finished attempt, or None after arranging another attempt."""
        pending = outcome.pending
        if outcome.error is None:
            response = outcome.response
            ts, channel = response.get("ts"), response.get("channel")
            if pending.post.method == "files.upload_v2":  # a file has no ts of its own here: its id stands in
                ts, channel = ((response.get("files") or [{}])[0].get("id") or ""), pending.post.channel
            return Delivery(pending.post, ts=ts, channel=channel, attempts=pending.attempts)
        error = outcome.error
        answer = classify(error)
        code, transient, retry_after = answer.error or "unknown", answer.retryable, None
        if answer.error == "ratelimited":
            retry_after = answer.retry_after if answer.retry_after is not None else 1.0
        if retry_after is not None:
            pending.rate_limited += 1
            if pending.rate_limited < MAX_RATE_LIMITED:
                log.info("Slack rate-limited %s: pausing the fan-out for %.0f s", pending.post.key, retry_after)
                self.pacer.pause(retry_after)
                return None
        elif transient:
            pending.failures += 1
            if pending.failures < self.max_attempts:
                backoff = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (pending.failures - 1))
                pending.not_before = self.clock() + backoff
                return None
        log.warning("could not send %s to %s after %d attempts: %s", pending.post.key, pending.post.channel,
                    pending.attempts, code)
        return Delivery(pending.post, error=code, attempts=pending.attempts, answer=answer)
