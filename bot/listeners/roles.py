"""Who may administer a thing (change a stand-up's or a team's settings, delete it, purge): its owner, the team's
facilitator, or a Slack workspace admin or owner. Ceremony-level rules (who may reveal, close, end) stay with them."""

from __future__ import annotations

from collections.abc import Collection

from bot.server.runtime import Runtime
from bot.slack.gateway import Slack
from bot.slack.people import profile
from ceremonies.errors import NotAllowed


def may_administer(
    runtime: Runtime,
    slack: Slack,
    *,
    team_id: str,
    user_id: str,
    owner_id: str | None = None,
    facilitator_ids: Collection[str] = (),
) -> bool:
    """True when `user_id` owns the thing, facilitates the team, or is a workspace admin or owner (users.info)."""
    if user_id and (user_id == owner_id or user_id in facilitator_ids):
        return True
    person = profile(runtime, slack, team_id=team_id, user_id=user_id)
    return person is not None and not person.is_deleted and person.can_administer


def require_admin(
    runtime: Runtime,
    slack: Slack,
    *,
    team_id: str,
    user_id: str,
    action: str,
    owner_id: str | None = None,
    facilitator_ids: Collection[str] = (),
    owner_label: str = "its owner",
) -> None:
    """Refuse with NotAllowed (one clear line to the user) unless `user_id` may administer the thing.

    `action` completes "Only … can <action>.", e.g. "change this stand-up's settings".
    """
    if may_administer(
        runtime, slack, team_id=team_id, user_id=user_id, owner_id=owner_id, facilitator_ids=facilitator_ids
    ):
        return
    allowed = [f"{owner_label} (<@{owner_id}>)" if owner_id else None]
    if facilitator_ids:
        mentions = ", ".join(f"<@{f}>" for f in sorted(facilitator_ids))
        allowed.append(f"the team's facilitator ({mentions})")
    allowed.append("a workspace admin")
    who = [a for a in allowed if a]
    listed = ", ".join(who[:-1]) + f" or {who[-1]}" if len(who) > 1 else who[0]
    raise NotAllowed(f"Only {listed} can {action}.")
