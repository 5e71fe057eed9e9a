"""Who a member is (name, timezone, still here?), from `users.info`, cached in the database for a day."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.server.runtime import Runtime
from bot.slack.gateway import Slack, SlackFailure, Verdict
from storage import people as store
from storage.models import Person

log = logging.getLogger("cadence.people")

PROFILE_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str
    timezone: str | None
    is_deleted: bool
    is_admin: bool
    is_owner: bool
    is_bot: bool

    @property
    def can_administer(self) -> bool:
        return self.is_admin or self.is_owner


def profile(runtime: Runtime, slack: Slack, *, team_id: str, user_id: str) -> Profile | None:
    """The member's profile: from the cache when fresher than a day, else from Slack; None when Slack has no such user.

    When Slack cannot answer (rate limited, down, ...) a cached profile of any age is better than none.
    """
    now = runtime.now()
    with runtime.db.transaction() as session:
        cached = store.get_person(session, team_id=team_id, user_id=user_id)
        if cached is not None and now - cached.fetched_at < PROFILE_MAX_AGE:
            return _profile(cached)
    try:
        user = slack.user_info(user=user_id)
    except SlackFailure as failure:
        if failure.verdict is Verdict.PERSON_GONE:
            return None
        if cached is not None:
            log.warning("users.info failed for %s; using the cached profile: %s", user_id, failure.error,
                        extra={"team": team_id})
            return _profile(cached)
        raise
    with runtime.db.transaction() as session:
        return _profile(save(session, team_id, user, now))


def save(session: Session, team_id: str, user: dict[str, Any], now: datetime) -> Person:
    """Cache what `users.info` said about a member."""
    return store.save_person(
        session,
        team_id=team_id,
        user_id=user["id"],
        display_name=_name(user),
        timezone=user.get("tz"),
        is_deleted=bool(user.get("deleted")),
        is_bot=bool(user.get("is_bot")),
        is_admin=bool(user.get("is_admin")),
        is_owner=bool(user.get("is_owner")),
        fetched_at=now,
    )


def refresh(runtime: Runtime, slack: Slack, *, team_id: str, user_ids: Iterable[str], now: datetime
            ) -> dict[str, Person | None]:
    """Ask Slack about each of a few members with `users.info` (Tier 4: 100+ a minute) and cache the answers.

    Never pages `users.list`: a workspace of 10,000 people with 3 stale participants costs 3 calls. The result maps
    each member Slack answered about to their profile, or to None when Slack has no such user any more; a member
    Slack did not answer about (rate limited, down) is left out and asked again later.
    """
    found: dict[str, Person | None] = {}
    for user_id in user_ids:
        try:
            user = slack.user_info(user=user_id)
        except SlackFailure as failure:
            if failure.verdict is Verdict.PERSON_GONE or failure.error == "user_not_found":
                found[user_id] = None
            else:
                log.warning("users.info failed; %s is asked again later: %s", user_id, failure.error,
                            extra={"team": team_id, "user": user_id})
            continue
        try:
            with runtime.db.transaction() as session:
                found[user_id] = save(session, team_id, user, now)
        except IntegrityError:
            # Another process cached the same person at the same moment; the cache is fresh either way.
            with runtime.db.reading() as session:
                found[user_id] = store.get_person(session, team_id=team_id, user_id=user_id)
    return found


def _name(user: dict) -> str:
    prof = user.get("profile") or {}
    return prof.get("display_name") or prof.get("real_name") or user.get("real_name") or user.get("name") or user["id"]


def _profile(person: Person) -> Profile:
    return Profile(
        user_id=person.user_id,
        name=person.display_name,
        timezone=person.timezone,
        is_deleted=person.is_deleted,
        is_admin=person.is_admin,
        is_owner=person.is_owner,
        is_bot=person.is_bot,
    )
