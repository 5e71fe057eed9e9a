"""Many workspaces: installing through OAuth, each workspace's own (encrypted) token, rotation, uninstalling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock
from bot.slack.gateway import WorkspaceNotInstalled
from storage.installations import slack_bots, slack_installations, slack_oauth_states
from storage.models import Workspace
from storage.schema import ALL_METADATA
from tests.platform import CLIENT_SECRET, ENCRYPTION_KEY, get, grant, install, start_install, start_multi

TOKEN_A = "xoxb-1111-aaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN_B = "xoxb-2222-bbbbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
def multi(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    app = start_multi(fake, db_url, clock)
    yield app
    app.stop()


def dump(cadence: Cadence) -> str:
    """Every row of every table, as text: what a database dump would reveal."""
    lines = []
    with cadence.db.transaction() as session:
        for metadata in ALL_METADATA:
            for table in metadata.sorted_tables:
                lines.extend(f"{table.name}: {tuple(row)}" for row in session.execute(select(table)))
    return "\n".join(lines)


def test_install_page_links_to_slack_with_our_scopes_and_a_signed_state(multi: Cadence) -> None:
    page, state = start_install(multi)
    assert page.status == 200
    assert "https://slack.com/oauth/v2/authorize?" in page.body
    assert "client_id=1111.2222" in page.body
    assert "chat%3Awrite" in page.body or "chat:write" in page.body
    assert f"state={state}" in page.body
    unsigned, _, signature = state.rpartition(".")
    assert unsigned
    assert len(signature) == 32
    with multi.db.transaction() as session:
        assert session.scalars(select(slack_oauth_states.c.state)).all() == [unsigned]


def test_installing_stores_the_workspace_and_its_token_encrypted(multi: Cadence) -> None:
    page = install(multi, "TA", TOKEN_A, team_name="Alpha")
    assert page.status == 200, page.body
    assert "slack://app?team=TA" in page.body  # the success page opens Slack in the workspace

    with multi.db.transaction() as session:
        workspace = session.get(Workspace, "TA")
        assert workspace is not None
        assert (workspace.name, workspace.uninstalled_at) == ("Alpha", None)
        stored = session.execute(select(slack_installations.c.team_id, slack_installations.c.bot_token)).all()
        bots = session.execute(select(slack_bots.c.bot_token)).scalars().all()
    assert [team for team, _ in stored] == ["TA"]
    assert stored[0].bot_token != TOKEN_A
    assert Fernet(ENCRYPTION_KEY.encode()).decrypt(stored[0].bot_token.encode()).decode() == TOKEN_A
    assert len(bots) == 1
    assert Fernet(ENCRYPTION_KEY.encode()).decrypt(bots[0].encode()).decode() == TOKEN_A
    assert multi.runtime.clients.for_team("TA").token == TOKEN_A

    assert multi.fake.calls("oauth.v2.access")[-1].args["code"].startswith("code-TA")


def test_a_database_dump_reveals_no_token(multi: Cadence) -> None:
    install(multi, "TA", TOKEN_A, refresh_token="xoxe-1-refresh-aaaaaaaaaaaa", expires_in=43200)
    install(multi, "TB", TOKEN_B)
    text = dump(multi)
    assert "slack_installations" in text
    assert "slack_bots" in text
    for secret in (TOKEN_A, TOKEN_B, "xoxe-1-refresh-aaaaaaaaaaaa", CLIENT_SECRET, ENCRYPTION_KEY):
        assert secret not in text
    assert "xox" not in text


def test_two_workspaces_each_act_with_their_own_token(multi: Cadence) -> None:
    install(multi, "TA", TOKEN_A)
    install(multi, "TB", TOKEN_B)
    assert multi.runtime.clients.for_team("TA").token == TOKEN_A
    assert multi.runtime.clients.for_team("TB").token == TOKEN_B

    multi.runtime.clients.for_team("TB").chat_postMessage(channel="C1", text="hello B")
    multi.runtime.clients.for_team("TA").chat_postMessage(channel="C1", text="hello A")
    posts = [(c.token, c.args["text"]) for c in multi.fake.calls("chat.postMessage")]
    assert posts == [(TOKEN_B, "hello B"), (TOKEN_A, "hello A")]

    reply = multi.command("/cadence", "help", team="TB")
    assert reply.status == 200
    assert "/cadence help" in reply.text
    assert multi.fake.calls("auth.test")[-1].token == TOKEN_B


def test_a_workspace_that_never_installed_gets_no_client(multi: Cadence) -> None:
    with pytest.raises(WorkspaceNotInstalled, match="TZ"):
        multi.runtime.clients.for_team("TZ")


def test_a_forged_missing_or_replayed_state_is_refused(multi: Cadence) -> None:
    _page, state = start_install(multi)
    multi.fake.oauth_grants["code-x"] = grant("TA", TOKEN_A)
    forged = state[:-4] + ("0000" if not state.endswith("0000") else "1111")
    page = get(f"{multi.url}/slack/oauth_redirect?code=code-x&state={forged}",
               {"Cookie": f"slack-app-oauth-state={forged}"})
    assert page.status == 401
    no_cookie = get(f"{multi.url}/slack/oauth_redirect?code=code-x&state={state}")
    assert no_cookie.status == 400
    assert multi.fake.calls("oauth.v2.access") == []

    with_cookie = {"Cookie": f"slack-app-oauth-state={state}"}
    assert get(f"{multi.url}/slack/oauth_redirect?code=code-x&state={state}", with_cookie).status == 200
    multi.fake.oauth_grants["code-y"] = grant("TB", TOKEN_B)
    assert get(f"{multi.url}/slack/oauth_redirect?code=code-y&state={state}", with_cookie).status == 401
    with multi.db.transaction() as session:
        assert session.scalars(select(Workspace.team_id)).all() == ["TA"]


def test_an_expiring_token_is_rotated_before_scheduled_work(multi: Cadence) -> None:
    install(multi, "TA", TOKEN_A, refresh_token="xoxe-1-first", expires_in=60)
    multi.fake.refresh_grants["xoxe-1-first"] = {
        "access_token": "xoxb-1111-rotated", "refresh_token": "xoxe-1-second", "expires_in": 43200,
        "token_type": "bot",
    }
    multi.fake.tokens["xoxb-1111-rotated"] = "TA"
    client = multi.runtime.clients.for_team("TA")
    assert client.token == "xoxb-1111-rotated"
    refresh = multi.fake.calls("oauth.v2.access")[-1]
    assert (refresh.args["grant_type"], refresh.args["refresh_token"]) == ("refresh_token", "xoxe-1-first")
    # The new token is stored (encrypted) and used from now on, with no further refresh.
    assert multi.runtime.clients.for_team("TA").token == "xoxb-1111-rotated"
    assert len(multi.fake.calls("oauth.v2.access")) == 2
    text = dump(multi)
    assert "xoxb-1111-rotated" not in text
    assert "xoxe-1-second" not in text


def test_requests_rotate_an_expiring_token_too(multi: Cadence) -> None:
    install(multi, "TA", TOKEN_A, refresh_token="xoxe-1-first", expires_in=60)
    multi.fake.refresh_grants["xoxe-1-first"] = {
        "access_token": "xoxb-1111-fresh", "refresh_token": "xoxe-1-next", "expires_in": 43200, "token_type": "bot",
    }
    multi.fake.tokens["xoxb-1111-fresh"] = "TA"
    assert multi.command("/cadence", "help", team="TA").status == 200
    assert multi.fake.calls("auth.test")[-1].token == "xoxb-1111-fresh"
    assert multi.runtime.clients.for_team("TA").token == "xoxb-1111-fresh"


def test_uninstalling_stops_the_workspace_and_forgets_its_tokens(multi: Cadence) -> None:
    install(multi, "TA", TOKEN_A)
    install(multi, "TB", TOKEN_B)
    assert multi.slack.event({"type": "app_uninstalled"}, team="TA").status == 200
    multi.settle()

    assert not multi.runtime.is_active("TA")
    assert multi.runtime.is_active("TB")
    with pytest.raises(WorkspaceNotInstalled):
        multi.runtime.clients.for_team("TA")
    assert multi.runtime.clients.for_team("TB").token == TOKEN_B
    with multi.db.transaction() as session:
        assert session.scalars(select(slack_bots.c.team_id)).all() == ["TB"]
        assert session.scalars(select(slack_installations.c.team_id)).all() == ["TB"]
        workspace = session.get(Workspace, "TA")
        assert workspace is not None
        assert workspace.uninstalled_at == multi.clock()

    # Reinstalling brings it back.
    multi.clock.advance(timedelta(days=1))
    install(multi, "TA", "xoxb-1111-again")
    assert multi.runtime.is_active("TA")
    assert multi.runtime.clients.for_team("TA").token == "xoxb-1111-again"


def test_revoking_the_bot_token_uninstalls_but_revoking_a_user_token_does_not(multi: Cadence) -> None:
    install(multi, "TA", TOKEN_A)
    multi.slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U7"]}}, team="TA")
    multi.settle()
    assert multi.runtime.is_active("TA")
    assert multi.runtime.clients.for_team("TA").token == TOKEN_A

    multi.slack.event({"type": "tokens_revoked", "tokens": {"bot": ["BCADENCE"]}}, team="TA")
    multi.settle()
    assert not multi.runtime.is_active("TA")
    with pytest.raises(WorkspaceNotInstalled):
        multi.runtime.clients.for_team("TA")


def test_requests_from_an_unknown_workspace_are_told_to_reinstall(multi: Cadence) -> None:
    reply = multi.command("/cadence", "help", team="TNOPE")
    assert reply.status == 200
    assert "reinstall" in (multi.fake.responses()[-1].get("text", "") if multi.fake.responses() else reply.text)


def test_scheduled_work_stops_at_once_for_an_uninstalled_workspace(
    multi: Cadence, caplog: pytest.LogCaptureFixture
) -> None:
    """A job written the way ceremonies write them: due rows filtered with active_clause, then clients.for_team."""
    from datetime import date

    from bot.jobs.scheduler import Scheduler
    from bot.server.runtime import Runtime
    from storage import workspaces
    from storage.models import Holiday

    def announce_holidays(runtime: Runtime, now: object) -> None:
        with runtime.db.transaction() as session:
            due = session.execute(select(Holiday.team_id, Holiday.name)
                                  .where(workspaces.active_clause(Holiday.team_id)).order_by(Holiday.team_id)).all()
        for team_id, name in due:
            runtime.clients.for_team(team_id).chat_postMessage(channel="C1", text=f"Day off: {name}")

    def careless(runtime: Runtime, now: object) -> None:
        runtime.clients.for_team("TA")

    install(multi, "TA", TOKEN_A)
    install(multi, "TB", TOKEN_B)
    with multi.db.transaction() as session:
        for team in ("TA", "TB"):
            session.add(Holiday(team_id=team, day=date(2026, 12, 24), name=team, added_by="U1", added_at=multi.clock()))
    scheduler = Scheduler(multi.runtime, [announce_holidays, careless])
    scheduler.tick()
    assert [(c.token, c.args["text"]) for c in multi.fake.calls("chat.postMessage")] == [
        (TOKEN_A, "Day off: TA"), (TOKEN_B, "Day off: TB")]

    multi.slack.event({"type": "app_uninstalled"}, team="TA")
    multi.settle()
    scheduler.tick()
    assert [c.args["text"] for c in multi.fake.calls("chat.postMessage")] == [
        "Day off: TA", "Day off: TB", "Day off: TB"]
    assert "careless acted in an uninstalled workspace" in caplog.text
