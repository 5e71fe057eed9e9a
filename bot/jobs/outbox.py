"""Delivering the outbox (storage/outbox.py): every message the app sends on its own goes out here.

A round claims the due rows (several processes split them), groups them by workspace and sends each workspace's rows
through its own paced FanOut, workspaces side by side (a slow or failing workspace delays only itself). Each outcome
is recorded by the gateway's one classification of Slack's answer:

- sent: the row is marked sent, with the message's channel and ts, and the kind's `after_sent` hook records what the
  ceremony needs (a prompt's DM ts, a report's thread) in the same transaction; the rows of a workspace's batch sent
  within GATHER_SECONDS of each other are recorded in one transaction;
- retry later (429, 5xx, timeouts): the row is given back with a due time that backs off;
- unreachable / person gone / our bug: the row is given up and the kind's `on_failed` hook tells someone (and may
  queue that message in the same transaction);
- workspace gone: the workspace is marked uninstalled (its rows wait until it installs Cadence again).

Every post carries its row's key as message metadata. A row claimed again after its lease ran out (its process died
between sending and recording) is first looked for in the conversation, and only sent when it is not there.

Ceremonies register, from their jobs module, a `renderer` for rows that are built when sent (charts, redraws of
shared messages) and their `after_sent` / `on_failed` hooks. A kind sent many at a time (a stand-up's prompts) may
also register a `batch_renderer`, which builds a workspace's batch of such rows from one read, and an
`after_sent_many` hook: the deliveries whose answers came in together are then recorded in one transaction (each row
still only by the claim that holds it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.server import metrics
from bot.server.runtime import Runtime
from bot.slack.fanout import Delivery, FanOut, Post
from bot.slack.gateway import Answer, SlackFailure, Verdict, WorkspaceNotInstalled, classify, outbox_metadata
from storage import outbox, workspaces

log = logging.getLogger("cadence.outbox")

# A claim's lease is short and renewed every few seconds while its worker sends: a worker that dies frees its rows
# for another within about LEASE, however long its batch would have taken.
LEASE = timedelta(seconds=20)
RENEW_EVERY_SECONDS = 5.0
# How long stop() lets the deliveries already under way finish, so that a clean stop leaves no row waiting out its
# lease (and a frozen clock in tests or the demo, whose leases never run out, leaves none stuck).
STOP_GRACE_SECONDS = 15.0
BATCH = 500
PER_TEAM = 200  # a workspace's own rate limit is the bottleneck: one worker sends its batch, paced
TEAMS_AT_ONCE = 32  # workspaces served side by side by one process (each paced by its own FanOut)
WAIT_FOR_REF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(minutes=15)
GIVE_UP_AFTER = 12  # attempts that Slack answered "later"; then a person is told
# Deliveries are recorded together, at most this long after the first of them reached Slack: a workspace's paced
# batch costs a few transactions instead of one a message. (A crash in between only means the row is looked for in
# Slack before it is sent again, as for any row whose outcome was not recorded.)
GATHER_SECONDS = 1.0


@dataclass(frozen=True)
class Message:
    """What a renderer builds: a message (text, blocks), or a file to share (content and its names)."""

    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    content: bytes | None = None
    filename: str = ""
    title: str = ""
    alt_text: str | None = None


@dataclass(frozen=True)
class Delivered:
    """A row that reached Slack, for its kind's after_sent hook."""

    team_id: str
    key: str
    kind: str
    channel: str
    ts: str
    payload: dict[str, Any]
    now: datetime


@dataclass(frozen=True)
class Undelivered:
    """A row given up, for its kind's on_failed hook."""

    team_id: str
    key: str
    kind: str
    channel: str
    payload: dict[str, Any]
    answer: Answer
    now: datetime


Renderer = Callable[[Runtime, dict[str, Any]], Message | None]
BatchRenderer = Callable[[Runtime, list[dict[str, Any]]], list[Message | None]]
AfterSent = Callable[[Session, Delivered], None]
AfterSentMany = Callable[[Session, list[Delivered]], None]
OnFailed = Callable[[Session, Undelivered], None]

_renderers: dict[str, Renderer] = {}
_batch_renderers: dict[str, BatchRenderer] = {}
_after_sent: dict[str, AfterSent] = {}
_after_sent_many: dict[str, AfterSentMany] = {}
_on_failed: dict[str, OnFailed] = {}


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register the function that builds rows rendered as `name` when they are sent (None: nothing to send)."""
    def register(function: Renderer) -> Renderer:
        _renderers[name] = function
        return function
    return register


def batch_renderer(name: str) -> Callable[[BatchRenderer], BatchRenderer]:
    """Register the function that builds many rows rendered as `name` at once (one message, or None, per row, in
    order), beside their one-row `renderer`, which is used when the batch fails."""
    def register(function: BatchRenderer) -> BatchRenderer:
        _batch_renderers[name] = function
        return function
    return register


def after_sent_many(kind: str) -> Callable[[AfterSentMany], AfterSentMany]:
    """Register what a ceremony records for many rows of `kind` sent at once, in the transaction that marks them sent
    (beside its one-row `after_sent` hook)."""
    def register(function: AfterSentMany) -> AfterSentMany:
        _after_sent_many[kind] = function
        return function
    return register


def after_sent(kind: str) -> Callable[[AfterSent], AfterSent]:
    """Register what a ceremony records when a row of `kind` was sent, in the transaction that marks it sent."""
    def register(function: AfterSent) -> AfterSent:
        _after_sent[kind] = function
        return function
    return register


def on_failed(kind: str) -> Callable[[OnFailed], OnFailed]:
    """Register what happens when a row of `kind` is given up (tell someone, mark a person gone)."""
    def register(function: OnFailed) -> OnFailed:
        _on_failed[kind] = function
        return function
    return register


def _database_unavailable(error: OperationalError) -> None:
    # Expected now and then (down, restarting): one line, not a traceback every second.
    log.warning("outbox delivery: database unavailable (%s); it goes on once the database is back",
                (str(error.orig or error).strip().splitlines() or ["?"])[0][:200])


@dataclass
class _Prepared:
    row: outbox.Claimed
    post: Post | None = None  # None: settled while preparing


@dataclass
class OutboxWorker:
    """Claims and delivers due outbox rows; `drain()` in tests, `start()` for a process's delivery loop.

    Workspaces are delivered side by side, each by one worker of a bounded pool (`teams_at_once`), as a pipeline: a
    workspace's batch is claimed when a worker is free and no batch of that workspace is in flight, so a workspace
    whose Slack is slow keeps one worker busy and never holds up the others' rounds.
    """

    runtime: Runtime
    batch: int = BATCH
    per_team: int = PER_TEAM
    teams_at_once: int = TEAMS_AT_ONCE
    poll_seconds: float = 1.0
    _fanouts: OrderedDict[str, FanOut] = field(default_factory=OrderedDict)
    _fanouts_lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _round_lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None
    _busy: set[str] = field(default_factory=set)  # workspaces with a batch in flight
    _tokens: dict[str, int] = field(default_factory=dict)  # claim token -> its workspaces still in flight
    _busy_lock: threading.Lock = field(default_factory=threading.Lock)
    _renewer: threading.Thread | None = None
    _in_flight: dict[Future[None], list[outbox.Claimed]] = field(default_factory=dict)

    # -- the loop -------------------------------------------------------------------------------------------------
    def kick(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._busy_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            # Batches not started are given back, due at once for whoever claims next; those under way get a short
            # grace to finish and record what they sent. One that outlasts it is left to its lease, and whoever
            # claims it next looks first for what had reached Slack.
            with self._busy_lock:
                in_flight = dict(self._in_flight)
            pool.shutdown(wait=False, cancel_futures=True)
            untried = [rows for future, rows in in_flight.items() if future.cancelled()]
            for rows in untried:
                self._done_with(rows[0].team_id, rows[0].claim_token)
            if untried:
                self._give_back([row for rows in untried for row in rows])
            wait_for([future for future in in_flight if not future.cancelled()], timeout=STOP_GRACE_SECONDS)

    def _give_back(self, rows: list[outbox.Claimed]) -> None:
        try:
            with self.runtime.db.transaction() as session:
                outbox.release(session, rows)
        except OperationalError as error:  # left to their lease, as after a crash
            _database_unavailable(error)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.deliver_due(wait=False) > 0
            except OperationalError as error:
                metrics.job_failed("outbox")
                _database_unavailable(error)
                busy = False
            except Exception:
                metrics.job_failed("outbox")
                log.exception("outbox delivery failed; it runs again shortly")
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def drain(self, rounds: int = 50) -> int:
        """Deliver until nothing is due now (tests and the demo, with a frozen clock); returns how many settled."""
        total = 0
        for _ in range(rounds):
            try:
                settled = self.deliver_due()
            except OperationalError as error:  # the database is down: what waits goes out once it is back
                _database_unavailable(error)
                break
            total += settled
            if settled == 0:
                break
        return total

    # -- one round ------------------------------------------------------------------------------------------------
    def deliver_due(self, *, wait: bool = True) -> int:
        """Claim what is due now for the workspaces not already being served (as many as there are free workers) and
        start delivering it; the number of rows claimed. `wait`: return once they are delivered (tests, `drain`)."""
        with self._round_lock:
            with self._busy_lock:
                busy = set(self._busy)
            free = self.teams_at_once - len(busy)
            if free <= 0:
                return 0
            now = self.runtime.now()
            with self.runtime.db.transaction() as session:
                rows = outbox.claim_due(session, now=now, lease=LEASE, limit=self.batch, per_team=self.per_team,
                                        skip_teams=busy, max_teams=free)
            if not rows:
                return 0
            by_team: dict[str, list[outbox.Claimed]] = {}
            for row in rows:
                by_team.setdefault(row.team_id, []).append(row)
            token = rows[0].claim_token
            with self._busy_lock:
                self._busy.update(by_team)
                self._tokens[token] = len(by_team)
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self.teams_at_once, thread_name_prefix="outbox-team")
                pool = self._pool
                self._keep_renewing()
            futures = {pool.submit(self._serve_team, team, team_rows, token): team_rows
                       for team, team_rows in by_team.items()}
            with self._busy_lock:
                self._in_flight.update(futures)
            for future in futures:
                future.add_done_callback(self._finished)
        if wait:
            for future in futures:
                future.result()
        return len(rows)

    def _finished(self, future: Future[None]) -> None:
        with self._busy_lock:
            self._in_flight.pop(future, None)

    def _serve_team(self, team_id: str, rows: list[outbox.Claimed], token: str) -> None:
        try:
            self._deliver_team(team_id, rows)
        except OperationalError as error:
            _database_unavailable(error)
        except Exception as error:
            # The process is stopping under it (stop(), or the interpreter exiting, which refuses new threads to the
            # FanOut's pool): expected, and nothing is lost.
            if self._stop.is_set() or (isinstance(error, RuntimeError) and "after shutdown" in str(error)):
                log.info("outbox delivery stopped with the process (%s); its rows go again after their lease",
                         error, extra={"team": team_id})
                return
            metrics.job_failed("outbox")
            log.exception("outbox delivery of a workspace failed; its rows go again after their lease",
                          extra={"team": team_id})
        finally:
            self._done_with(team_id, token)
            self._wake.set()  # a worker is free: the loop claims the next workspace's rows

    def _done_with(self, team_id: str, token: str) -> None:
        with self._busy_lock:
            self._busy.discard(team_id)
            self._tokens[token] -= 1
            if self._tokens[token] <= 0:
                del self._tokens[token]

    def _keep_renewing(self) -> None:
        # Called holding _busy_lock. One thread keeps every claim in flight alive (a paced batch can take longer
        # than the lease); it ends when none is left and the next claim starts another.
        if self._renewer is None:
            self._renewer = threading.Thread(target=self._renew, daemon=True, name="outbox-lease")
            self._renewer.start()

    def _renew(self) -> None:
        while True:
            time.sleep(RENEW_EVERY_SECONDS)
            with self._busy_lock:
                tokens = list(self._tokens)
                if not tokens:
                    self._renewer = None
                    return
            try:
                with self.runtime.db.transaction() as session:
                    for token in tokens:
                        outbox.renew(session, token=token, now=self.runtime.now(), lease=LEASE)
            except OperationalError as error:
                _database_unavailable(error)

    def _deliver_team(self, team_id: str, rows: list[outbox.Claimed]) -> None:
        try:  # one token lookup (a decryption with many workspaces) serves the fan-out and the look-ups
            client = self.runtime.clients.for_team(team_id)
        except WorkspaceNotInstalled as error:
            answer = classify(error)
            for row in rows:
                self._settle_failure(row, answer)
            return
        slack = self.runtime.gateway.for_client(client, team_id=team_id)
        in_batch = {row.key for row in rows}
        rendered = self._render_batch(rows)
        prepared = [self._prepare(slack, row, in_batch, rendered) for row in rows]
        posts = {p.post.key: p.row for p in prepared if p.post is not None}
        if not posts:
            return
        fanout = self._fanout(team_id, client)
        fanout.send([p.post for p in prepared if p.post is not None],
                    on_deliveries=lambda deliveries: self._settle_all(
                        [(posts[delivery.post.key], delivery) for delivery in deliveries]),
                    gather_seconds=GATHER_SECONDS)

    def _fanout(self, team_id: str, client: Any) -> FanOut:
        # One FanOut a workspace, kept between rounds so that its pace carries over (bounded: least recent go).
        with self._fanouts_lock:
            fanout = self._fanouts.get(team_id)
            if fanout is None or fanout.client.token != client.token:
                # One attempt a round: a 5xx or a timeout may hide a post, so the next attempt is the outbox's, which
                # looks for the message first (429s are still waited out inside the FanOut: they post nothing).
                settings = self.runtime.settings
                fanout = FanOut(client, per_second=settings.slack_fanout_per_second,
                                per_channel_interval=settings.slack_channel_interval_seconds, max_attempts=1)
                self._fanouts[team_id] = fanout
            self._fanouts.move_to_end(team_id)
            while len(self._fanouts) > 2000:
                self._fanouts.popitem(last=False)
            return fanout

    # -- preparing a row --------------------------------------------------------------------------------------------
    def _render_batch(self, rows: list[outbox.Claimed]) -> dict[str, Message | None]:
        """The messages of the rows whose renderer has a batch form, built together (one read for the batch), by
        key. A row missing here (its batch failed) is rendered on its own when it is prepared."""
        by_render: dict[str, list[outbox.Claimed]] = {}
        for row in rows:
            # A row waiting for its parent may not go now: it is rendered once it does.
            if row.render in _batch_renderers and not row.ref_key:
                by_render.setdefault(row.render, []).append(row)
        rendered: dict[str, Message | None] = {}
        for name, batch in by_render.items():
            if len(batch) < 2:
                continue
            try:
                messages = _batch_renderers[name](self.runtime, [row.payload for row in batch])
            except Exception:
                log.exception("outbox batch renderer %s failed; its rows are rendered one by one", name,
                              extra={"team": batch[0].team_id})
                continue
            rendered.update(zip((row.key for row in batch), messages, strict=True))
        return rendered

    def _prepare(self, slack: Any, row: outbox.Claimed, in_batch: set[str],
                 rendered: dict[str, Message | None] | None = None) -> _Prepared:
        try:
            return self._prepare_row(slack, row, in_batch, rendered or {})
        except SlackFailure as failure:
            self._settle_failure(row, failure.answer)
        except Exception:
            log.exception("outbox row %s could not be prepared", row.key, extra={"team": row.team_id})
            self._settle_failure(row, Answer(Verdict.OUR_BUG, "render_failed"))
        return _Prepared(row)

    def _prepare_row(self, slack: Any, row: outbox.Claimed, in_batch: set[str],
                     rendered: dict[str, Message | None]) -> _Prepared:
        channel, ts, thread_ts = row.channel, row.ts, row.thread_ts
        if row.ref_key:
            with self.runtime.db.reading() as session:
                ref = outbox.sent_message(session, key=row.ref_key)
                ref_state = outbox.state_of(session, key=row.ref_key) if ref is None else outbox.SENT
            if ref is None:
                if ref_state == outbox.FAILED or ref_state is None:
                    self._settle_failure(row, Answer(Verdict.UNREACHABLE, "parent_not_sent"))
                else:
                    # Its parent goes out in this round: right after it; otherwise once the parent had time.
                    wait = timedelta(0) if row.ref_key in in_batch else WAIT_FOR_REF
                    with self.runtime.db.transaction() as session:
                        outbox.postpone(session, row, at=self.runtime.now() + wait, reason="waiting for " + row.ref_key)
                return _Prepared(row)
            if row.action == outbox.POST:
                channel, thread_ts = ref.channel, thread_ts or ref.ts
            else:
                channel, ts = ref.channel, ref.ts
        message = rendered[row.key] if row.key in rendered else self._message(row)
        if message is None:  # nothing to send any more (the thing it was about is gone)
            self._settle_sent(row, channel="", ts="")
            return _Prepared(row)
        if row.maybe_sent_before:
            try:
                found = self._already_sent(slack, row, channel, thread_ts)
            except SlackFailure as busy:
                if row.attempts < GIVE_UP_AFTER - 1:  # look again later rather than risk a second copy...
                    self._settle_failure(row, busy.answer)
                    return _Prepared(row)
                found = None  # ...but on its last attempt a message is sent twice rather than lost
            if found is not None:
                log.info("outbox row %s was sent before its process stopped; not sent again", row.key,
                         extra={"team": row.team_id})
                self._settle_sent(row, channel=found[0], ts=found[1])
                return _Prepared(row)
        return _Prepared(row, self._post(row, message, channel=channel, ts=ts, thread_ts=thread_ts))

    def _message(self, row: outbox.Claimed) -> Message | None:
        if row.render is None:
            return Message(text=str(row.payload.get("text") or ""), blocks=row.payload.get("blocks") or None)
        render = _renderers.get(row.render)
        if render is None:
            raise LookupError(f"no outbox renderer {row.render!r}")
        return render(self.runtime, row.payload)

    @staticmethod
    def _post(row: outbox.Claimed, message: Message, *, channel: str, ts: str | None, thread_ts: str | None) -> Post:
        if message.content is not None:
            extra: dict[str, Any] = {"content": message.content, "filename": message.filename,
                                     "title": message.title or message.filename}
            if message.alt_text:
                extra["alt_txt"] = message.alt_text
            if thread_ts:
                extra["thread_ts"] = thread_ts
            if message.text:
                extra["initial_comment"] = message.text
            return Post(key=row.key, channel=channel, text=message.text, extra=extra, method="files.upload_v2")
        if row.action in (outbox.UPDATE, outbox.REDRAW):
            return Post(key=row.key, channel=channel, text=message.text, blocks=message.blocks,
                        extra={"ts": ts}, method="chat.update")
        extra = {"metadata": outbox_metadata(row.key)}
        if thread_ts and row.payload.get("reply_broadcast"):
            extra["reply_broadcast"] = True
        return Post(key=row.key, channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts,
                    extra=extra)

    def _already_sent(self, slack: Any, row: outbox.Claimed, channel: str, thread_ts: str | None
                      ) -> tuple[str, str] | None:
        if row.action == outbox.UPLOAD or channel == "":
            return None
        try:
            conversation = slack.open_dm(user=channel) if channel.startswith(("U", "W")) else channel
            found = slack.find_by_key(channel=conversation, key=row.key, thread_ts=thread_ts,
                                      oldest=row.created_at.timestamp() - 1)
        except SlackFailure as failure:
            if failure.verdict is Verdict.RETRY_LATER:  # Slack busy or unreachable for a moment: the caller decides
                raise
            # Without the history scope (an older installation) the message is sent again rather than lost.
            log.warning("could not look for outbox row %s before resending it (%s); sending it", row.key,
                        failure.error, extra={"team": row.team_id})
            return None
        return (conversation, str(found.get("ts"))) if found is not None else None

    # -- outcomes -----------------------------------------------------------------------------------------------------
    def _settle_all(self, outcomes: list[tuple[outbox.Claimed, Delivery]]) -> None:
        """Record deliveries whose answers came in together: those sent in one transaction, failures one by one."""
        sent = [outbox.Landed(row, delivery.channel or row.channel, delivery.ts or "")
                for row, delivery in outcomes if delivery.ok]
        if len(sent) == 1:
            self._settle_sent(sent[0].row, channel=sent[0].channel, ts=sent[0].ts)
        elif sent:
            try:
                self._settle_sent_many(sent)
            except OperationalError:
                raise
            except Exception:
                # One row's hook failed: the others are recorded one by one, as if they had come in apart.
                log.exception("recording %d deliveries together failed; recording them one by one", len(sent),
                              extra={"team": sent[0].row.team_id})
                for landed in sent:
                    self._settle_sent(landed.row, channel=landed.channel, ts=landed.ts)
        for row, delivery in outcomes:
            if not delivery.ok:
                self._settle_failure(row, delivery.answer)

    def _settle_sent_many(self, sent: list[outbox.Landed]) -> None:
        now = self.runtime.now()
        with self.runtime.db.transaction() as session:
            recorded = outbox.mark_sent_many(session, sent, now=now)
            by_kind: dict[str, list[Delivered]] = {}
            for landed in sent:
                row = landed.row
                if row.key in recorded and landed.ts:
                    by_kind.setdefault(row.kind, []).append(
                        Delivered(row.team_id, row.key, row.kind, landed.channel, landed.ts, row.payload, now))
            for kind, delivered in by_kind.items():
                many = _after_sent_many.get(kind)
                if many is not None:
                    many(session, delivered)
                elif (hook := _after_sent.get(kind)) is not None:
                    for one in delivered:
                        hook(session, one)
        for landed in sent:
            if landed.row.key in recorded:
                metrics.observe_lag(landed.row.kind, landed.row.due_at, now)

    def _settle_sent(self, row: outbox.Claimed, *, channel: str, ts: str) -> None:
        now = self.runtime.now()
        with self.runtime.db.transaction() as session:
            if not outbox.mark_sent(session, row, now=now, channel=channel, ts=ts):
                return
            hook = _after_sent.get(row.kind)
            if hook is not None and ts:
                hook(session, Delivered(row.team_id, row.key, row.kind, channel, ts, row.payload, now))
        metrics.observe_lag(row.kind, row.due_at, now)

    def _settle_failure(self, row: outbox.Claimed, answer: Answer) -> None:
        now = self.runtime.now()
        if answer.verdict is Verdict.RETRY_LATER and row.attempts < GIVE_UP_AFTER:
            wait = timedelta(seconds=answer.retry_after) if answer.retry_after is not None \
                else min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** (row.attempts - 1)))
            self._retry(row, at=now + wait, error=answer.error or "retry")
            return
        if answer.verdict is Verdict.WORKSPACE_GONE:
            with self.runtime.db.transaction() as session:
                workspaces.record_uninstall(session, team_id=row.team_id, now=now)
        log.warning("outbox row %s given up: %s (%s)", row.key, answer.error, answer.verdict,
                    extra={"team": row.team_id, "channel": row.channel})
        with self.runtime.db.transaction() as session:
            if not outbox.give_up(session, row, now=now, error=f"{answer.verdict}: {answer.error}"):
                return
            hook = _on_failed.get(row.kind)
            if hook is not None:
                hook(session, Undelivered(row.team_id, row.key, row.kind, row.channel, row.payload, answer, now))

    def _retry(self, row: outbox.Claimed, *, at: datetime, error: str) -> None:
        with self.runtime.db.transaction() as session:
            outbox.retry(session, row, at=at, error=error)


KEEP_DELIVERED = timedelta(days=30)


def forget_delivered(runtime: Runtime, now: datetime) -> None:
    """Delete rows sent or given up more than 30 days ago: the table holds what is waiting, not a history."""
    with runtime.db.transaction() as session:
        outbox.prune(session, before=now - KEEP_DELIVERED)


JOBS = (forget_delivered,)
