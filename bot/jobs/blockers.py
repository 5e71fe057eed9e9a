"""The blocker tracker's scheduled work and its messages: escalations to the contact, the daily digest, and the
blocker cards (posted and redrawn) — all through the outbox (storage.outbox), each with a deterministic key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs import outbox as outbox_jobs
from bot.server.runtime import Runtime
from bot.views import blockers as views
from ceremonies import blockers as domain
from ceremonies.blockers import BlockerNotFound
from storage import blockers as store
from storage import outbox
from storage.calendar import holiday_days


@outbox_jobs.renderer(store.CARD)
def render_card(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """A blocker's card as it stands: open with its buttons, or resolved with who did it and how long it took."""
    with runtime.db.reading() as session:
        try:
            blocker = store.get_blocker(session, team_id=args["team_id"], blocker_id=int(args["blocker_id"]))
        except BlockerNotFound:
            return None
        unblocked_in = store.time_to_unblock(session, blocker, default_timezone=runtime.settings.default_timezone)
    return outbox_jobs.Message(text=views.card_text(blocker),
                               blocks=views.card_blocks(blocker, time_to_unblock=unblocked_in))


@outbox_jobs.after_sent(store.CARD)
def card_sent(session: Session, sent: outbox_jobs.Delivered) -> None:
    """Remember where the card is, to redraw it in place."""
    store.set_message(session, team_id=sent.team_id, blocker_id=int(sent.payload["blocker_id"]),
                      channel_id=sent.channel, ts=sent.ts)


@outbox_jobs.renderer(store.ESCALATION)
def render_escalation(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """The escalation DM: the blocker and how long it has been open; nothing when it was resolved meanwhile."""
    with runtime.db.reading() as session:
        try:
            blocker = store.get_blocker(session, team_id=args["team_id"], blocker_id=int(args["blocker_id"]))
        except BlockerNotFound:
            return None
        if not blocker.is_open:
            return None
        [item] = store.aged_in_channel(session, [blocker], team_id=blocker.team_id, channel_id=blocker.channel_id,
                                       default_timezone=runtime.settings.default_timezone, now=runtime.now())
    return outbox_jobs.Message(text=views.escalation_text(item),
                               blocks=views.escalation_blocks(item, level=int(args["level"])))


@outbox_jobs.after_sent(store.ESCALATION)
def escalation_sent(session: Session, sent: outbox_jobs.Delivered) -> None:
    store.escalation_sent(session, team_id=sent.team_id, blocker_id=int(sent.payload["blocker_id"]),
                          level=int(sent.payload["level"]), contact_id=sent.payload["contact_id"], now=sent.now)


BATCH = 500


def run_blockers(runtime: Runtime, now: datetime) -> None:
    """The team channels with an open blocker due now (storage.due): escalation steps and the daily digest, each
    queued once; then each blocker's next due moment. Channels with nothing due are not read."""
    default_timezone = runtime.settings.default_timezone
    while True:
        with runtime.db.transaction() as session:
            channels = store.claim_due_channels(session, now=now, limit=BATCH)
        for team_id, channel_id in channels:
            escalate_channel(runtime, team_id=team_id, channel_id=channel_id, now=now)
            send_digest(runtime, team_id=team_id, channel_id=channel_id, now=now)
            with runtime.db.transaction() as session:
                store.schedule_channel(session, team_id=team_id, channel_id=channel_id, now=now,
                                       default_timezone=default_timezone)
        if len(channels) < BATCH:
            return


def escalate_channel(runtime: Runtime, *, team_id: str, channel_id: str, now: datetime) -> None:
    """DM the escalation contact about every open blocker of a channel that passed another threshold step, each
    step once."""
    default_timezone = runtime.settings.default_timezone
    with runtime.db.reading() as session:
        settings = store.tracker_settings(session, team_id=team_id, channel_id=channel_id,
                                          default_timezone=default_timezone)
        items = store.aged_in_channel(session, store.open_blockers(session, team_id=team_id, channel_id=channel_id),
                                      team_id=team_id, channel_id=channel_id, default_timezone=default_timezone,
                                      now=now)
    for item in items:
        level = domain.escalation_level(item.age, threshold_days=settings.threshold_days)
        contact = settings.contact_id or item.blocker.owner_id
        if level <= item.blocker.escalation_level or not contact:
            continue
        with runtime.db.transaction() as session:
            store.queue_escalation(session, team_id=team_id, blocker_id=item.blocker.id, level=level,
                                   contact_id=contact, now=now)


def send_digest(runtime: Runtime, *, team_id: str, channel_id: str, now: datetime) -> None:
    """Post a team channel's open blockers, oldest first, once a working day at its digest time."""
    default_timezone = runtime.settings.default_timezone
    with runtime.db.transaction() as session:
        settings = store.tracker_settings(session, team_id=team_id, channel_id=channel_id,
                                          default_timezone=default_timezone)
        holidays = holiday_days(session, team_id=team_id, start=now.date() - timedelta(days=1),
                                end=now.date() + timedelta(days=1))
        day = domain.digest_day(now, settings=settings, holidays=holidays)
        if day is None:
            return
        # Blockers flagged after the digest time wait for tomorrow's digest, so that a late tick (after an
        # outage) sends the digest that was due and flagging a blocker in the afternoon does not set one off.
        moment = domain.digest_moment(day, settings=settings)
        due = [b for b in store.open_blockers(session, team_id=team_id, channel_id=channel_id)
               if b.created_at <= moment]
        items = store.aged_in_channel(session, due, team_id=team_id, channel_id=channel_id,
                                      default_timezone=default_timezone, now=now)
        if not items:
            return
        label = f"{day:%a} {day.day} {day:%b}"
        outbox.add(session, team_id=team_id, key=f"blocker.digest:{team_id}:{channel_id}:{day.isoformat()}",
                   kind="blocker.digest", channel=channel_id, now=now,
                   text=views.digest_text(items, day_label=label), blocks=views.digest_blocks(items, day_label=label))


JOBS = (run_blockers,)
