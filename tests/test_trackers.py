"""Jira and GitHub over HTTP: connecting, poker sessions from a tracker search with estimates written back, sprints
that follow the tracker, webhooks, action items as issues — against the fake Slack, fake Jira and fake GitHub, on
SQLite and Postgres."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.devtools.fakegithub import App, FakeGitHub, new_private_key
from bot.devtools.fakejira import STORY_POINTS_FIELD, FakeJira
from bot.devtools.fakeslack import FakeSlack, Message
from bot.devtools.harness import Cadence, FrozenClock, start_cadence
from bot.slack.crypto import generate_key
from storage import export
from storage import sprint as sprints
from storage import trackers as store
from tests.test_poker import click, current, parent_and_stories, vote

JIRA_EMAIL = "ada@example.com"
JIRA_TOKEN = "ATATT3xFfGF0-jira-api-token-1"
GITHUB_TOKEN = "github_pat_11ABCDEFG0123456789_secret"
ADMIN, MEMBER = "U1", "U2"
APP_ID, INSTALLATION_ID = 123456, 45678901


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    server = FakeJira().start()
    server.add_account(JIRA_EMAIL, JIRA_TOKEN, display_name="Ada Lovelace")
    yield server
    server.stop()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    server.add_token(GITHUB_TOKEN, "ada")
    yield server
    server.stop()


@pytest.fixture
def cadence(fake: FakeSlack, db_url: str, clock: FrozenClock, github: FakeGitHub) -> Iterator[Cadence]:
    fake.add_user(ADMIN, "ada", is_admin=True)
    fake.add_user(MEMBER, "bob")
    app = start_cadence(fake, db_url, clock, cadence_encryption_key=generate_key(), github_api_url=github.url)
    yield app
    app.stop()


# -- helpers -----------------------------------------------------------------------------------------------------------
def values(**fields: str) -> dict[str, dict[str, Any]]:
    return {f"trackers.{name}": {f"trackers.{name}": {"type": "plain_text_input", "value": value}}
            for name, value in fields.items()}


def connect_jira(cadence: Cadence, jira: FakeJira, *, token: str = JIRA_TOKEN, user: str = ADMIN,
                 project: str = "PROJ") -> dict[str, Any]:
    cadence.command("/cadence", "connect jira", user=user)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, values(site_url=jira.url, email=JIRA_EMAIL, token=token,
                                                        project=project), user=user)
    return seen(cadence, modal, reply)


def connect_github(cadence: Cadence, *, token: str = GITHUB_TOKEN, project: str = "acme/shop") -> dict[str, Any]:
    cadence.command("/cadence", "connect github", user=ADMIN)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, values(token=token, project=project), user=ADMIN)
    return seen(cadence, modal, reply)


def connect_github_app(cadence: Cadence, app: App, *, private_key: str | None = None, app_id: int = APP_ID,
                       installation_id: int = INSTALLATION_ID, token: str = "", channel: str = "C1"
                       ) -> dict[str, Any]:
    cadence.command("/cadence", "connect github", user=ADMIN, channel=channel)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, values(
        token=token, app_id=str(app_id), installation_id=str(installation_id),
        private_key=app.private_key if private_key is None else private_key, project="acme/shop"), user=ADMIN)
    return seen(cadence, modal, reply)


def seen(cadence: Cadence, modal: dict[str, Any], reply: Any) -> dict[str, Any]:
    """What the person ends up seeing, in the acknowledgement's shape: on a loaded machine the check may outlast
    the 2 s answered in the ack, and the modal then shows it after a "checking…" (both ways are tested below)."""
    assert reply.status == 200
    cadence.settle()
    answer = reply.json if reply.body else {}
    if "Checking the token" not in texts(answer.get("view") or {}):
        return answer
    shown = {view["id"]: view for view in cadence.fake.views()}[modal["id"]]
    if shown["callback_id"] != "trackers.connect":
        return {"response_action": "update", "view": shown}
    hints = {b["block_id"]: b["hint"]["text"] for b in shown["blocks"] if b["type"] == "input" and b.get("hint")}
    return {"response_action": "errors",
            "errors": {block: hint.removeprefix("⚠️ ") for block, hint in hints.items() if hint.startswith("⚠️ ")}}


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view)


def accept(cadence: Cadence, story: Message, card: str, *, voters: tuple[str, ...] = ("U2", "U3")) -> None:
    for voter in voters:
        vote(cadence, current(cadence, story), card, user=voter)
    click(cadence, current(cadence, story), "poker.reveal", user=ADMIN)
    click(cadence, current(cadence, story), "poker.accept", user=ADMIN)
    reply = cadence.slack.view_submission(cadence.fake.last_view(), {"poker.estimate": {"poker.estimate": {
        "type": "static_select", "selected_option": {"value": card}}}}, user=ADMIN)
    assert reply.status == 200
    cadence.settle()


# -- connecting --------------------------------------------------------------------------------------------------------
def test_connecting_jira_checks_the_token_once_and_stores_it_encrypted(cadence: Cadence, jira: FakeJira) -> None:
    answer = connect_jira(cadence, jira)
    assert answer.get("response_action") == "update", (answer, cadence.fake.responses(), cadence.fake.views())
    shown = texts(answer["view"])
    assert "Connected to Jira as *Ada Lovelace*" in shown
    assert "/trackers/jira?team=T1" in shown
    assert len(jira.calls_to("GET /rest/api/3/myself")) == 1
    with cadence.db.reading() as session:
        row = store.connection(session, team_id="T1", kind=store.domain.Kind.JIRA)
        assert row is not None
        assert (row.site_url, row.account, row.project) == (jira.url, "Ada Lovelace", "PROJ")
        assert JIRA_TOKEN not in row.secret
        assert JIRA_EMAIL not in row.secret


def test_a_wrong_token_is_refused_in_the_modal_in_jiras_words(cadence: Cadence, jira: FakeJira) -> None:
    answer = connect_jira(cadence, jira, token="not-the-token")
    assert answer == {"response_action": "errors", "errors": {
        "trackers.token": "Jira: Client must be authenticated to access this resource."}}
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.JIRA) is None


def test_a_wrong_site_is_refused_on_the_site_field(cadence: Cadence, jira: FakeJira) -> None:
    cadence.command("/cadence", "connect jira", user=ADMIN)
    reply = cadence.slack.view_submission(cadence.fake.last_view(), values(
        site_url="http://127.0.0.1:9", email=JIRA_EMAIL, token=JIRA_TOKEN, project=""), user=ADMIN)
    assert reply.json["errors"] == {"trackers.site_url": "Jira cannot be reached at http://127.0.0.1:9."}


def test_a_github_token_github_refuses_is_refused_in_the_modal(cadence: Cadence, github: FakeGitHub) -> None:
    answer = connect_github(cadence, token="github_pat_wrong")
    assert answer == {"response_action": "errors", "errors": {"trackers.token": "GitHub: Bad credentials"}}
    answer = connect_github(cadence)
    assert "Connected to GitHub as *ada*" in texts(answer["view"])


def test_a_github_app_installation_connects_as_the_account_it_is_installed_on(
        cadence: Cadence, github: FakeGitHub) -> None:
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    github.repo("acme/shop")
    cadence.command("/cadence", "connect github", user=ADMIN)
    modal = cadence.fake.last_view()
    fields = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert fields["trackers.private_key"]["element"]["multiline"] is True
    assert fields["trackers.private_key"]["element"]["max_length"] == 3000
    assert fields["trackers.token"]["optional"] is True  # one of the two ways

    answer = connect_github_app(cadence, app)
    assert answer.get("response_action") == "update", answer
    assert "Connected to GitHub as *acme* for the workspace" in texts(answer["view"])
    minted = github.calls_to(f"POST /app/installations/{INSTALLATION_ID}/access_tokens")
    assert len(minted) == 1
    assert minted[0].authorization.startswith("Bearer ey")  # the App's JWT
    assert github.calls_to("GET /installation/repositories")[-1].authorization.startswith("token ghs_")
    assert github.calls_to("GET /user") == []
    with cadence.db.reading() as session:
        row = store.connection(session, team_id="T1", kind=store.domain.Kind.GITHUB)
        assert row is not None
        assert row.account == "acme"
        assert "PRIVATE KEY" not in row.secret
        assert str(INSTALLATION_ID) not in row.secret


def test_a_github_app_github_refuses_is_refused_under_its_field_in_githubs_words(
        cadence: Cadence, github: FakeGitHub) -> None:
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    github.repo("acme/shop")
    assert connect_github_app(cadence, app, private_key=new_private_key()) == {"response_action": "errors", "errors": {
        "trackers.private_key": "GitHub: A JSON web token could not be decoded"}}
    assert connect_github_app(cadence, app, app_id=999) == {"response_action": "errors", "errors": {
        "trackers.private_key": "GitHub: A JSON web token could not be decoded"}}
    assert connect_github_app(cadence, app, installation_id=1) == {"response_action": "errors", "errors": {
        "trackers.installation_id": "GitHub: Not Found"}}
    garbage = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----"
    answer = connect_github_app(cadence, app, private_key=garbage)
    assert answer["errors"]["trackers.private_key"].startswith("GitHub App: the private key cannot be read")
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.GITHUB) is None
    assert "Connected to GitHub as *acme*" in texts(connect_github_app(cadence, app)["view"])
    # The same IDs with another key once the right one has a token: still refused (no token is shared between keys).
    assert connect_github_app(cadence, app, private_key=new_private_key())["errors"] == {
        "trackers.private_key": "GitHub: A JSON web token could not be decoded"}


def test_an_installation_token_is_renewed_by_githubkit_before_it_expires(cadence: Cadence, github: FakeGitHub) -> None:
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    github.add_issue("acme/shop", "Checkout")
    # githubkit renews a token a minute before it expires (by the real clock): one living a minute is stale at once.
    github.token_lifetime = timedelta(seconds=60)
    connect_github_app(cadence, app)
    cadence.command("/poker", "github acme/shop", user=ADMIN)
    assert "1 stor" in parent_and_stories(cadence)[0].all_text
    minted = github.calls_to(f"POST /app/installations/{INSTALLATION_ID}/access_tokens")
    assert len(minted) == 2
    used = {c.authorization for c in github.calls if c.authorization.startswith("token ghs_")}
    assert len(used) == 2


def test_a_github_connection_takes_a_token_or_an_app_not_both_nor_neither(cadence: Cadence, github: FakeGitHub) -> None:
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    assert connect_github_app(cadence, app, token=GITHUB_TOKEN) == {"response_action": "errors", "errors": {
        "trackers.token": "Either a token or a GitHub App, not both: empty the token or the App's fields."}}
    assert connect_github(cadence, token="") == {"response_action": "errors", "errors": {
        "trackers.token": "Paste a fine-grained token, or fill in the GitHub App's three fields."}}
    answer = connect_github_app(cadence, app, private_key="my key")
    assert set(answer["errors"]) == {"trackers.private_key"}
    assert github.calls == []  # refused before any call


def test_a_poker_session_from_github_writes_its_estimates_back_as_the_app(cadence: Cadence, github: FakeGitHub) -> None:
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    github.add_issue("acme/shop", "Checkout with Apple Pay")
    github.add_issue("acme/shop", "Checkout coupon", labels=["estimate: 3"])
    github.add_issue("other/secret", "Checkout elsewhere")  # not where the App is installed
    project, item, field = github.add_to_project("acme/shop", 1)
    connect_github_app(cadence, app)
    cadence.command("/poker", "github acme/shop checkout", user=ADMIN)
    parent, thread = parent_and_stories(cadence)
    assert "2 stories" in parent.all_text
    assert github.calls_to("GET /search/issues")[-1].authorization.startswith("token ghs_")
    accept(cadence, thread[0], "5")
    accept(cadence, parent_and_stories(cadence)[1][1], "8")
    cadence.tick()
    assert github.project_value(project, item, field) == 5
    assert github.issue("acme/shop", 2).labels == ["estimate: 8"]
    assert "Estimate written to shop#1." in current(cadence, thread[0]).all_text
    # One installation token served it all: githubkit keeps it for its hour.
    assert len(github.calls_to(f"POST /app/installations/{INSTALLATION_ID}/access_tokens")) == 1

    cadence.command("/poker", "github other/secret checkout", user=ADMIN)
    assert "GitHub did not give the issues: GitHub: Validation Failed — The listed users and repositories cannot " \
        "be searched" in cadence.fake.ephemerals(ADMIN)[-1]["text"]


def test_the_fake_github_checks_an_apps_jwt_and_token_expiry_as_github_documents(github: FakeGitHub) -> None:
    import time
    import urllib.error
    import urllib.request

    import jwt as pyjwt

    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    github.add_issue("acme/shop", "Checkout")

    def call(method: str, path: str, authorization: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(github.url + path, method=method, headers={"Authorization": authorization})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def signed(key: str = app.private_key, iss: Any = str(APP_ID), iat: int = -60, exp: int = 540) -> str:
        now = int(time.time())
        return "Bearer " + pyjwt.encode({"iss": iss, "iat": now + iat, "exp": now + exp}, key, algorithm="RS256")

    mint = f"/app/installations/{INSTALLATION_ID}/access_tokens"
    for token, message in ((signed(key=new_private_key()), "A JSON web token could not be decoded"),
                           (signed(iss="99"), "A JSON web token could not be decoded"),
                           (signed(iat=-700, exp=-100), "'Expiration time' claim ('exp') must be a numeric value"),
                           (signed(iat=0, exp=660), "'Expiration time' claim ('exp') is too far in the future"),
                           (signed(iat=-300, exp=400), "'Expiration time' claim ('exp') is too far in the future"),
                           (signed(iat=300, exp=500), "'Issued at' claim ('iat') must be an Integer")):
        status, body = call("POST", mint, token)
        assert (status, body["message"][:len(message)]) == (401, message)
    assert call("POST", "/app/installations/1/access_tokens", signed())[0] == 404
    status, body = call("POST", mint, signed())
    assert status == 201
    token = body["token"]
    assert token.startswith("ghs_")
    expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert call("GET", "/repos/acme/shop/issues/1", f"token {token}")[0] == 200
    assert call("GET", "/user", f"token {token}")[0] == 403  # an installation is no user
    github.now = lambda: datetime.now(UTC) + timedelta(hours=1, seconds=1)
    assert call("GET", "/repos/acme/shop/issues/1", f"token {token}") == (401, {
        "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})


def test_a_slow_tracker_gets_a_checking_modal_then_the_connection(cadence: Cadence, jira: FakeJira) -> None:
    jira.latency["GET /rest/api/3/myself"] = 2.5  # past what may be answered inside Slack's 3 s
    cadence.command("/cadence", "connect jira", user=ADMIN)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, values(site_url=jira.url, email=JIRA_EMAIL, token=JIRA_TOKEN,
                                                        project="PROJ"), user=ADMIN)
    assert reply.json["response_action"] == "update"
    assert "Checking the token with Jira" in texts(reply.json["view"])
    cadence.settle()
    shown = {view["id"]: view for view in cadence.fake.views()}[modal["id"]]
    assert "Connected to Jira as *Ada Lovelace*" in texts(shown)
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.JIRA) is not None


def test_a_slow_refusal_shows_the_form_again_with_the_reason_under_the_token(cadence: Cadence, jira: FakeJira) -> None:
    jira.latency["GET /rest/api/3/myself"] = 2.5
    cadence.command("/cadence", "connect jira", user=ADMIN)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, values(site_url=jira.url, email=JIRA_EMAIL, token="not-the-token",
                                                        project="PROJ"), user=ADMIN)
    assert "Checking the token with Jira" in texts(reply.json["view"])
    cadence.settle()
    shown = {view["id"]: view for view in cadence.fake.views()}[modal["id"]]
    fields = {block["block_id"]: block for block in shown["blocks"] if block["type"] == "input"}
    assert fields["trackers.token"]["hint"]["text"] == (
        "⚠️ Jira: Client must be authenticated to access this resource.")
    assert fields["trackers.site_url"]["element"]["initial_value"] == jira.url  # what was typed is kept...
    assert "initial_value" not in fields["trackers.token"]["element"]  # ...but the token is never sent back
    assert "not-the-token" not in texts(shown)
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.JIRA) is None


def test_only_an_admin_or_the_teams_facilitator_may_connect(cadence: Cadence, jira: FakeJira) -> None:
    cadence.command("/cadence", "connect jira", user=MEMBER)
    # The modal opened at once (its trigger lasts 3 s) and then says why not.
    [refusal] = cadence.fake.last_view()["blocks"]
    assert refusal["text"]["text"] == ":warning: Only a workspace admin can connect or disconnect a tracker."
    cadence.command("/cadence", "disconnect jira", user=MEMBER)
    assert "Only a workspace admin" in cadence.fake.responses()[-1]["text"]


def test_disconnecting_deletes_the_token(cadence: Cadence, jira: FakeJira) -> None:
    connect_jira(cadence, jira)
    cadence.command("/cadence", "disconnect jira", user=ADMIN)
    assert "Jira is disconnected" in cadence.fake.ephemerals(ADMIN)[-1]["text"]
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.JIRA) is None


# -- estimating from the tracker ---------------------------------------------------------------------------------------
def test_a_session_from_jql_takes_fifty_issues_and_names_the_rest(cadence: Cadence, jira: FakeJira) -> None:
    for number in range(1, 56):
        jira.add_issue(f"PROJ-{number}", f"Story {number}")
    jira.add_issue("OTHER-1", "Not this one")
    connect_jira(cadence, jira)
    cadence.command("/poker", "jira project = PROJ ORDER BY rank", user=ADMIN)
    parent, thread = parent_and_stories(cadence)
    assert "50 stories" in parent.all_text
    first = thread[0]
    assert "PROJ-1" in first.all_text
    assert "Story 1" in first.all_text
    assert f"{jira.url}/browse/PROJ-1" in first.all_text
    more = [m for m in thread if "more Jira issues matched" in m.all_text]
    assert len(more) == 1
    assert more[0].all_text.startswith(":information_source: 5 more")


def test_an_accepted_estimate_is_written_to_the_story_points_field_found_by_name(
        cadence: Cadence, jira: FakeJira) -> None:
    jira.rename_points_field("Story Points")  # a company-managed project names it so
    jira.add_issue("PROJ-1", "Pay by card")
    connect_jira(cadence, jira)
    cadence.command("/poker", "jira project = PROJ", user=ADMIN)
    story = parent_and_stories(cadence)[1][0]
    accept(cadence, story, "8")
    assert "Writing the estimate to PROJ-1" in current(cadence, story).all_text
    cadence.tick()
    assert jira.issue("PROJ-1").points == 8
    assert jira.calls_to("PUT /rest/api/3/issue/PROJ-1")[-1].body == {"fields": {STORY_POINTS_FIELD: 8.0}}
    assert "Estimate written to PROJ-1." in current(cadence, story).all_text


def test_a_refused_write_is_retried_after_retry_after_and_shown_meanwhile(cadence: Cadence, jira: FakeJira) -> None:
    jira.add_issue("PROJ-1", "Pay by card")
    connect_jira(cadence, jira)
    cadence.command("/poker", "jira project = PROJ", user=ADMIN)
    story = parent_and_stories(cadence)[1][0]
    accept(cadence, story, "5")
    jira.fail("PUT /rest/api/3/issue", status=429, retry_after=120)
    cadence.tick()
    assert "Not written to PROJ-1 yet: Jira: Rate limit exceeded. (trying again)" in current(cadence, story).all_text
    assert jira.issue("PROJ-1").points is None
    puts = len(jira.calls_to("PUT /rest/api/3/issue"))
    cadence.tick(cadence.clock() + timedelta(seconds=60))  # Retry-After not over yet: Jira is left alone
    assert len(jira.calls_to("PUT /rest/api/3/issue")) == puts
    cadence.tick(cadence.clock() + timedelta(seconds=61))
    assert jira.issue("PROJ-1").points == 5
    assert "Estimate written to PROJ-1." in current(cadence, story).all_text


def test_a_search_jira_refuses_is_told_to_the_facilitator_and_starts_nothing(cadence: Cadence, jira: FakeJira) -> None:
    connect_jira(cadence, jira)
    cadence.command("/poker", "jira nonsense ~~ here", user=ADMIN)
    assert cadence.fake.messages("C1") == []
    assert cadence.fake.ephemerals(ADMIN)[-1]["text"] == (
        ":warning: Jira did not give the issues: Jira: Error in the JQL Query: the clause 'nonsense ~~ here' is not "
        "valid.")


def test_poker_from_a_tracker_that_is_not_connected_says_how_to_connect(cadence: Cadence) -> None:
    cadence.command("/poker", "github acme/shop", user=ADMIN)
    assert "`/cadence connect github`" in cadence.fake.responses()[-1]["text"]


def test_a_session_from_a_github_search_gets_estimate_labels(cadence: Cadence, github: FakeGitHub) -> None:
    github.add_issue("acme/shop", "Checkout with Apple Pay")
    github.add_issue("acme/shop", "Checkout coupon", labels=["estimate: 3"])
    github.add_issue("acme/shop", "Unrelated")
    github.add_issue("acme/shop", "Checkout done already", state="closed")
    connect_github(cadence)
    cadence.command("/poker", "github acme/shop checkout", user=ADMIN)
    parent, thread = parent_and_stories(cadence)
    assert "2 stories" in parent.all_text
    assert "shop#1" in thread[0].all_text
    assert "Checkout with Apple Pay" in thread[0].all_text
    accept(cadence, thread[0], "5")
    second = parent_and_stories(cadence)[1][1]
    accept(cadence, second, "8")
    github.fail("GET /repos/acme/shop/issues", status=403, retry_after=60)  # a secondary rate limit
    cadence.tick()
    assert github.issue("acme/shop", 1).labels == []
    assert "Not written to shop#1 yet: GitHub: You have exceeded a secondary rate limit" in \
        current(cadence, thread[0]).all_text
    cadence.tick(cadence.clock() + timedelta(seconds=61))
    assert github.issue("acme/shop", 1).labels == ["estimate: 5"]
    assert github.issue("acme/shop", 2).labels == ["estimate: 8"]  # the old estimate's label went
    assert "Estimate written to shop#2." in current(cadence, second).all_text


# -- sprints following the tracker, and webhooks ------------------------------------------------------------------------
def webhook_url(cadence: Cadence, kind: str, team: str = "T1") -> str:
    return f"{cadence.url}/trackers/{kind}?team={team}"


def webhook_secret(cadence: Cadence, kind: str) -> str:
    from bot.trackers import connections

    with cadence.db.reading() as session:
        row = store.connection(session, team_id="T1", kind=store.domain.Kind(kind))
        return connections.webhook_secret_of(cadence.runtime.settings, row)


def sprint_summary(cadence: Cadence, channel: str = "C1") -> str:
    cadence.command("/sprint", "summary", user=ADMIN, channel=channel)
    return [m for m in cadence.fake.messages(channel) if " · so far" in m.all_text][-1].all_text


def stories_by_key(cadence: Cadence, channel: str = "C1") -> dict[str, sprints.SprintStory]:
    with cadence.db.reading() as session:
        sprint = sprints.running_sprint(session, team_id="T1", channel_id=channel)
        assert sprint is not None
        return {s.key: s for s in sprints.stories(session, team_id="T1", sprint_id=sprint.id)}


def test_a_sprint_linked_to_a_jira_sprint_follows_its_issues(cadence: Cadence, jira: FakeJira) -> None:
    jira.add_sprint(42, "Sprint 14", board_id=7)
    jira.add_issue("PROJ-1", "Pay by card", sprint=42, points=3)
    jira.add_issue("PROJ-2", "Refunds", sprint=42, points=5)
    jira.add_issue("PROJ-3", "Receipts", sprint=42, points=2, category="done")
    jira.add_issue("PROJ-9", "Another sprint's", points=8)
    connect_jira(cadence, jira)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11 --jira 7:42', user=ADMIN)
    assert cadence.fake.responses()[-1]["text"].startswith(
        ":link: The sprint follows Jira sprint 42 (board 7): its issues become the committed stories")
    cadence.tick()
    stories = stories_by_key(cadence)
    assert set(stories) == {"PROJ-1", "PROJ-2", "PROJ-3"}
    assert all(s.committed for s in stories.values())
    assert stories["PROJ-3"].completed_at is not None

    # The next day: one issue is done in Jira, one is added to the sprint (a scope change).
    cadence.clock.advance(timedelta(days=1))
    jira.set_status("PROJ-1", "done")
    jira.add_issue("PROJ-4", "Invoices", sprint=42, points=1)
    cadence.tick()
    stories = stories_by_key(cadence)
    assert stories["PROJ-1"].completed_at == cadence.clock()
    assert not stories["PROJ-4"].committed
    summary = sprint_summary(cadence)
    assert "Points: 5 of 10 committed done (2 of 3 committed stories)" in summary
    assert "+1 added" in summary


def test_jira_and_github_webhooks_are_verified_and_deduplicated(cadence: Cadence, jira: FakeJira,
                                                                github: FakeGitHub) -> None:
    jira.add_sprint(42, "Sprint 14")
    jira.add_issue("PROJ-1", "Pay by card", sprint=42, points=3)
    connect_jira(cadence, jira)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11 --jira 1:42', user=ADMIN)
    cadence.tick()
    jira.set_status("PROJ-1", "done")

    # Unsigned, wrongly signed, or for a workspace without the connection: 401 and nothing changes.
    assert jira.webhook(webhook_url(cadence, "jira"), secret=None, issue_key="PROJ-1")[0] == 401
    assert jira.webhook(webhook_url(cadence, "jira"), secret="not-the-secret", issue_key="PROJ-1")[0] == 401
    secret = webhook_secret(cadence, "jira")
    assert jira.webhook(webhook_url(cadence, "jira", team="T9"), secret=secret, issue_key="PROJ-1")[0] == 401
    assert stories_by_key(cadence)["PROJ-1"].completed_at is None

    assert jira.webhook(webhook_url(cadence, "jira"), secret=secret, issue_key="PROJ-1", delivery_id="d-1")[0] == 200
    assert stories_by_key(cadence)["PROJ-1"].completed_at == cadence.clock()
    # Jira retries with the same delivery id: nothing happens again (reopened meanwhile, the retry does not undo it).
    jira.set_status("PROJ-1", "indeterminate")
    cadence.clock.advance(timedelta(minutes=1))
    assert jira.webhook(webhook_url(cadence, "jira"), secret=secret, issue_key="PROJ-1", delivery_id="d-1")[0] == 200
    assert stories_by_key(cadence)["PROJ-1"].completed_at is not None

    github.add_issue("acme/shop", "Checkout")
    connect_github(cadence)
    url = webhook_url(cadence, "github")
    github.close("acme/shop", 1)
    assert github.webhook(url, secret="wrong", full_name="acme/shop", number=1)[0] == 401
    assert github.webhook(url, secret=webhook_secret(cadence, "github"), full_name="acme/shop", number=1)[0] == 200


def test_closed_action_item_issues_show_done_at_the_next_retro_and_in_the_sprint_summary(
        cadence: Cadence, github: FakeGitHub) -> None:
    from tests.test_retro_actions import retro_with_actions, reviews
    from tests.test_retro_steps import CHANNEL, start_retro

    cadence.fake.add_user("U3", "carol")["profile"]["email"] = "carol@example.com"
    github.public_emails["carol@example.com"] = "carol"
    github.repo("acme/shop").collaborators.add("carol")
    github.add_milestone("acme/shop", 3, "Sprint 14")
    github.add_issue("acme/shop", "Checkout", milestone=3, labels=["estimate: 5"])
    connect_github(cadence)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11 --github acme/shop#3', user=ADMIN,
                    channel=CHANNEL)
    cadence.tick()
    assert stories_by_key(cadence, CHANNEL)["shop#1"].points == 5

    retro_with_actions(cadence, [("Fix the flaky test", "U3", None)])
    dm = cadence.fake.dms("U3")[-1]
    assert "You own an action item" in dm.all_text
    click(cadence, dm, "trackers.create_issue.github", user="U3")
    assert "Creating the GitHub issue" in cadence.fake.ephemerals("U3")[-1]["text"]
    click(cadence, dm, "trackers.create_issue.github", user="U3")  # a second click creates nothing more
    cadence.tick()
    created = github.issue("acme/shop", 2)
    assert created.title == "Fix the flaky test"
    assert created.assignees == ["carol"]  # the owner, known to GitHub by their e-mail
    assert "<https://github.com/acme/shop/issues/2|shop#2> created" in cadence.fake.dms("U3")[-1].all_text
    assert len(github.repo("acme/shop").issues) == 2

    start_retro(cadence, user=ADMIN, anonymous=True)
    review = reviews(cadence)["Fix the flaky test"]
    github.close("acme/shop", 2)
    github.close("acme/shop", 1)
    cadence.tick(cadence.clock() + timedelta(minutes=6))  # the sync finds both closed (no webhook needed)
    assert "*Done*." in current(cadence, review).all_text
    cadence.clock.advance(timedelta(minutes=1))
    summary = sprint_summary(cadence, CHANNEL)
    assert "action items 1 created, 1 done" in summary
    assert "Points: 5 of 5 committed done" in summary


# -- secrets -------------------------------------------------------------------------------------------------------------
def test_no_token_in_any_log_or_export(cadence: Cadence, jira: FakeJira, github: FakeGitHub,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jira.add_issue("PROJ-1", "Pay by card")
    github.add_issue("acme/shop", "Checkout")
    connect_jira(cadence, jira, token="wrong-token-to-log-maybe")
    connect_jira(cadence, jira)
    connect_github(cadence)
    cadence.command("/poker", "jira project = PROJ", user=ADMIN)
    accept(cadence, parent_and_stories(cadence)[1][0], "3")
    jira.fail("PUT /rest/api/3/issue", status=500)
    cadence.tick()
    cadence.tick(cadence.clock() + timedelta(minutes=5))
    cadence.command("/poker", "github acme/shop", user=ADMIN)
    # A GitHub App installation for C2: first with another App's key (refused), then with its own.
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    other_key = new_private_key()
    cadence.fake.add_channel("C2", "team-two")
    connect_github_app(cadence, app, private_key=other_key, channel="C2")
    assert "Connected to GitHub as *acme*" in texts(connect_github_app(cadence, app, channel="C2")["view"])
    cadence.command("/poker", "github acme/shop", user=ADMIN, channel="C2")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    import base64

    from ceremonies.trackers import private_key_parts

    basic = base64.b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode()
    keys = [part for key in (app.private_key, other_key) for part in private_key_parts(key)[1:]]
    for secret in (JIRA_TOKEN, GITHUB_TOKEN, basic, "wrong-token-to-log-maybe", webhook_secret(cadence, "jira"),
                   *keys):
        assert secret not in logged
    exported = export.export_json(cadence.db, team_id="T1", now=datetime(2026, 12, 2, tzinfo=UTC))
    assert "tracker_connections" in exported
    for secret in (JIRA_TOKEN, GITHUB_TOKEN, webhook_secret(cadence, "jira"), *keys):
        assert secret not in exported
    assert "PRIVATE KEY" not in exported
    with cadence.db.reading() as session:
        stored = session.scalars(select(store.TrackerConnection.secret)).all()
    assert '"secret"' not in exported
    assert all(s not in exported for s in stored)


def test_the_poker_modal_offers_the_connected_tracker_as_a_source(cadence: Cadence, jira: FakeJira) -> None:
    cadence.command("/poker", "", user=ADMIN)
    assert "poker.source" not in texts(cadence.fake.last_view())  # nothing connected: nothing offered
    jira.add_issue("PROJ-1", "Pay by card")
    jira.add_issue("PROJ-2", "Refunds")
    connect_jira(cadence, jira)
    cadence.command("/poker", "", user=ADMIN)
    modal = cadence.fake.last_view()
    source = next(b for b in modal["blocks"] if b.get("block_id") == "poker.source")
    assert [o["value"] for o in source["element"]["options"]] == ["jira"]
    chosen = {
        "poker.source": {"poker.source": {"type": "static_select", "selected_option": {"value": "jira"}}},
        "poker.search": {"poker.search": {"type": "plain_text_input", "value": "project = PROJ"}},
        "poker.deck": {"poker.deck": {"type": "static_select", "selected_option": {"value": "fibonacci"}}},
        "poker.reveal_policy": {"poker.reveal_policy": {"type": "radio_buttons",
                                                        "selected_option": {"value": "facilitator"}}},
    }
    assert cadence.slack.view_submission(modal, chosen, user=ADMIN).status == 200
    cadence.settle()
    parent, thread = parent_and_stories(cadence)
    assert "2 stories" in parent.all_text
    assert "PROJ-1" in thread[0].all_text


def test_jira_data_center_connects_with_a_personal_access_token_over_rest_v2(cadence: Cadence, jira: FakeJira) -> None:
    jira.add_account("dc-user@example.com", pat="dc-personal-access-token-1", display_name="DC User")
    jira.add_issue("OPS-1", "Rotate the certificates")
    cadence.command("/cadence", "connect jira", user=ADMIN)
    reply = cadence.slack.view_submission(cadence.fake.last_view(), values(
        site_url=jira.url, email="", token="dc-personal-access-token-1", project=""), user=ADMIN)
    assert "Connected to Jira as *DC User*" in texts(reply.json["view"])
    assert jira.calls_to("GET /rest/api/2/myself")[-1].authorization == "Bearer dc-personal-access-token-1"
    cadence.command("/poker", "jira project = OPS", user=ADMIN)
    assert "OPS-1" in parent_and_stories(cadence)[1][0].all_text
    assert jira.calls_to("GET /rest/api/2/search")


def test_an_unknown_tracker_is_answered_with_one_line(cadence: Cadence) -> None:
    reply = cadence.command("/cadence", "connect trello", user=ADMIN)
    assert reply.json["text"] == ":warning: Say which tracker: `jira` or `github`."


def test_a_jira_issue_for_an_action_item_is_assigned_to_its_owner_by_e_mail(cadence: Cadence, jira: FakeJira) -> None:
    from tests.test_retro_actions import retro_with_actions

    owner = jira.add_account("carol@example.com", "carols-own-token", display_name="Carol")
    cadence.fake.add_user("U3", "carol")["profile"]["email"] = "carol@example.com"
    cadence.fake.add_user("U4", "dan")  # no e-mail Jira knows
    connect_jira(cadence, jira, project="OPS")
    retro_with_actions(cadence, [("Fix the flaky test", "U3", None), ("Write the runbook", "U4", None)])
    click(cadence, cadence.fake.dms("U3")[-1], "trackers.create_issue.jira", user="U3")
    click(cadence, cadence.fake.dms("U4")[-1], "trackers.create_issue.jira", user="U4")
    cadence.tick()
    assert jira.issue("OPS-1").summary == "Fix the flaky test"
    assert jira.issue("OPS-1").assignee == owner.account_id
    assert jira.issue("OPS-2").assignee is None
    assert f"{jira.url}/browse/OPS-1|OPS-1> created" in cadence.fake.dms("U3")[-1].all_text


def test_on_a_github_project_the_estimate_goes_to_its_number_field(cadence: Cadence, github: FakeGitHub) -> None:
    github.add_issue("acme/shop", "Checkout on a board")
    github.add_issue("acme/shop", "Checkout on no board")
    project, item, field = github.add_to_project("acme/shop", 1, field_name="Story Points")
    connect_github(cadence)
    cadence.command("/poker", "github acme/shop checkout", user=ADMIN)
    first = parent_and_stories(cadence)[1][0]
    accept(cadence, first, "5")
    accept(cadence, parent_and_stories(cadence)[1][1], "3")
    cadence.tick()
    assert github.project_value(project, item, field) == 5
    assert github.issue("acme/shop", 1).labels == []  # on a board: its field, no label
    assert github.issue("acme/shop", 2).labels == ["estimate: 3"]
    assert "Estimate written to shop#1." in current(cadence, first).all_text


def test_a_token_without_projects_access_falls_back_to_the_label(cadence: Cadence, github: FakeGitHub) -> None:
    github.add_issue("acme/shop", "Checkout")
    github.add_to_project("acme/shop", 1)
    github.without_projects.add(GITHUB_TOKEN)
    connect_github(cadence)
    cadence.command("/poker", "github acme/shop", user=ADMIN)
    accept(cadence, parent_and_stories(cadence)[1][0], "8")
    cadence.tick()
    assert github.issue("acme/shop", 1).labels == ["estimate: 8"]


def test_a_sync_jira_refuses_waits_its_retry_after_and_the_sprint_goes_on(cadence: Cadence, jira: FakeJira) -> None:
    jira.add_sprint(42, "Sprint 14")
    jira.add_issue("PROJ-1", "Pay by card", sprint=42, points=3)
    connect_jira(cadence, jira)
    jira.fail("GET /rest/agile/1.0/sprint/42/issue", status=429, retry_after=600)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11 --jira 1:42', user=ADMIN)
    cadence.tick()
    assert stories_by_key(cadence) == {}
    cadence.command("/sprint", "", user=ADMIN)
    assert "Sprint 14" in cadence.fake.responses()[-1]["text"]  # the sprint goes on without Jira
    calls = len(jira.calls_to("GET /rest/agile/1.0/sprint/42/issue"))
    cadence.tick(cadence.clock() + timedelta(minutes=6))  # the usual 5 minutes, but Jira asked for 10
    assert len(jira.calls_to("GET /rest/agile/1.0/sprint/42/issue")) == calls
    cadence.tick(cadence.clock() + timedelta(minutes=5))
    assert set(stories_by_key(cadence)) == {"PROJ-1"}
    assert stories_by_key(cadence)["PROJ-1"].committed  # the first sync that worked takes them as committed


def test_a_team_channel_can_have_its_own_connection(cadence: Cadence, github: FakeGitHub) -> None:
    github.add_token("github_pat_team_two_token", "team-two-bot")
    github.add_issue("acme/shop", "Checkout")
    connect_github(cadence)  # the workspace's
    cadence.command("/cadence", "connect github", user=ADMIN, channel="C2")
    only_here = {"trackers.scope": {"trackers.scope": {"type": "checkboxes",
                                                       "selected_options": [{"value": "channel"}]}}}
    reply = cadence.slack.view_submission(cadence.fake.last_view(), {
        **values(token="github_pat_team_two_token", project=""), **only_here}, user=ADMIN)
    shown = texts(reply.json["view"])
    assert "Connected to GitHub as *team-two-bot* for <#C2>" in shown
    assert "/trackers/github?team=T1&amp;channel=C2" in shown  # escaped for mrkdwn: Slack shows &

    cadence.command("/poker", "github acme/shop", user=ADMIN, channel="C2")
    assert github.calls_to("GET /search/issues")[-1].authorization == "token github_pat_team_two_token"
    cadence.command("/poker", "github acme/shop", user=ADMIN, channel="C1")
    assert github.calls_to("GET /search/issues")[-1].authorization == f"token {GITHUB_TOKEN}"

    with cadence.db.reading() as session:
        row = store.own_connection(session, team_id="T1", kind=store.domain.Kind.GITHUB, channel_id="C2")
        from bot.trackers import connections

        secret = connections.webhook_secret_of(cadence.runtime.settings, row)
    url = webhook_url(cadence, "github")
    assert github.webhook(url + "&channel=C2", secret=secret, full_name="acme/shop", number=1)[0] == 200
    assert github.webhook(url, secret=secret, full_name="acme/shop", number=1)[0] == 401  # not the workspace's

    cadence.command("/cadence", "disconnect github", user=ADMIN, channel="C2")
    assert "GitHub is disconnected from <#C2>" in cadence.fake.ephemerals(ADMIN)[-1]["text"]
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.GITHUB, channel_id="C2").channel_id == ""


def test_a_t_shirt_size_is_not_forced_into_jiras_numeric_field(cadence: Cadence, jira: FakeJira) -> None:
    jira.add_issue("PROJ-1", "Pay by card")
    connect_jira(cadence, jira)
    cadence.command("/poker", "", user=ADMIN)
    chosen = {
        "poker.source": {"poker.source": {"type": "static_select", "selected_option": {"value": "jira"}}},
        "poker.search": {"poker.search": {"type": "plain_text_input", "value": "project = PROJ"}},
        "poker.deck": {"poker.deck": {"type": "static_select", "selected_option": {"value": "tshirt"}}},
        "poker.reveal_policy": {"poker.reveal_policy": {"type": "radio_buttons",
                                                        "selected_option": {"value": "facilitator"}}},
    }
    cadence.slack.view_submission(cadence.fake.last_view(), chosen, user=ADMIN)
    cadence.settle()
    story = parent_and_stories(cadence)[1][0]
    accept(cadence, story, "M")
    cadence.tick()
    assert "Estimate not written to PROJ-1: “M” is not a number, and Jira's story points are numbers." in \
        current(cadence, story).all_text
    assert jira.calls_to("PUT /rest/api/3/issue") == []
    cadence.tick(cadence.clock() + timedelta(hours=2))
    assert len(jira.calls_to("GET /rest/api/3/field")) == 1  # given up at once: not tried again


def test_a_sprint_review_follow_up_gets_an_issue_in_the_connected_tracker(cadence: Cadence, jira: FakeJira) -> None:
    from bot.views import review as review_views
    from tests.test_review import FACILITATOR, LAST_DAY, MONDAY, SPONSOR, STAKEHOLDER, react, start_review, story, told

    # The review tests' Sprint 14 in C1 (PAY-1 and PAY-2 done), here with Jira connected.
    team = cadence
    for user, name in ((STAKEHOLDER, "sam"), (SPONSOR, "sue")):
        team.fake.add_user(user, name, tz="Europe/Berlin")
    team.fake.add_channel("C2", "stakeholders")
    team.clock.set(MONDAY)
    team.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user=FACILITATOR)
    for key, title in (("PAY-1", "Checkout page"), ("PAY-2", "Card payments")):
        team.command("/sprint", f"add {key} 3 {title}", user=FACILITATOR)
        team.command("/sprint", f"done {key}", user=FACILITATOR)
    team.clock.set(LAST_DAY)
    for key, title in (("PAY-1", "Checkout page"), ("PAY-2", "Card payments"), ("PAY-3", "Refund flow")):
        jira.add_issue(key, title)
    cadence.fake.add_user(FACILITATOR, "tess", is_admin=True)
    connect_jira(team, jira, project="PAY")
    start_review(team)
    react(team, "PAY-2", review_views.NEEDS_CHANGES, SPONSOR, "Show the card's last four digits")
    team.slack.click(story(team, "PAY-2"), review_views.FOLLOW_UP, user=FACILITATOR)
    team.settle()
    assert "Added to the next sprint's backlog" in told(team)
    team.tick()
    created = jira.issue("PAY-4")
    assert created.summary == "Follow-up to PAY-2: Show the card's last four digits"
    with team.db.reading() as session:
        follow_up = session.scalars(select(sprints.SprintStory).where(sprints.SprintStory.source == "review")).one()
    assert follow_up.key == "PAY-4"
    assert f"<{jira.url}/browse/PAY-4|PAY-4> created for the review's follow-up" in team.fake.dms(FACILITATOR)[-1].text


def test_the_connection_is_purged_with_the_workspace(cadence: Cadence, jira: FakeJira, github: FakeGitHub) -> None:
    from storage import workspace_data

    connect_jira(cadence, jira)
    app = github.add_app(APP_ID, installation_id=INSTALLATION_ID, account="acme")
    github.repo("acme/shop")
    connect_github_app(cadence, app)
    with cadence.db.transaction() as session:
        deleted = workspace_data.purge(session, team_id="T1")
    assert deleted["tracker_connections"] == 2
    with cadence.db.reading() as session:
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.JIRA) is None
        assert store.connection(session, team_id="T1", kind=store.domain.Kind.GITHUB) is None
