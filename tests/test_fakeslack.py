"""The fake Slack itself: it must refuse what Slack refuses, or the other tests prove nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.devtools.fakeslack import FakeSlack, manifest_scopes


@pytest.fixture
def raw_fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    server.add_channel("C1", "team")
    yield server
    server.stop()


@pytest.fixture
def client(raw_fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-1", base_url=raw_fake.api_url)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_posting_to_a_user_lands_in_the_dm(raw_fake: FakeSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="U7", text="hello")
    assert response["channel"] == "DU7"
    assert [m.text for m in raw_fake.dms("U7")] == ["hello"]
    assert client.conversations_open(users="U7")["channel"]["id"] == "DU7"


def test_a_section_over_3000_characters_is_refused(raw_fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x", blocks=[section("a" * 3001)])
    assert any("3000" in v for v in raw_fake.violations)


def test_more_than_50_blocks_are_refused(raw_fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x", blocks=[section("a")] * 51)
    assert any("51 blocks" in v for v in raw_fake.violations)


def test_a_bad_option_inside_a_select_is_found(raw_fake: FakeSlack, client: WebClient) -> None:
    select = {"type": "static_select", "action_id": "a", "placeholder": {"type": "plain_text", "text": "p"},
              "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "v"}]}
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "actions", "elements": [select]}])
    assert raw_fake.violations


def test_a_modal_over_100_blocks_is_refused(raw_fake: FakeSlack, client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": [section("a")] * 101}
    with pytest.raises(SlackApiError):
        client.views_open(trigger_id=raw_fake.trigger_id(), view=view)
    assert any("101 blocks" in v for v in raw_fake.violations)


def test_a_valid_message_passes(raw_fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x", blocks=[section("a" * 3000)])
    assert raw_fake.violations == []


def test_failures_on_demand(raw_fake: FakeSlack, client: WebClient) -> None:
    raw_fake.fail("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    assert caught.value.response["error"] == "channel_not_found"
    raw_fake.fail("chat.postMessage", status=500)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x")
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_429_with_retry_after_is_retried_by_the_client(raw_fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-1", base_url=raw_fake.api_url, retry_handlers=[RateLimitErrorRetryHandler(2)])
    raw_fake.fail("chat.postMessage", status=429, retry_after=0)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(raw_fake.calls("chat.postMessage")) == 2
    assert len(raw_fake.messages("C1")) == 1


def test_users_info_and_not_in_channel(raw_fake: FakeSlack, client: WebClient) -> None:
    raw_fake.add_user("U1", "ana", tz="America/New_York", tz_offset=-18000)
    assert client.users_info(user="U1")["user"]["tz"] == "America/New_York"
    with pytest.raises(SlackApiError) as caught:
        client.users_info(user="U404")
    assert caught.value.response["error"] == "user_not_found"
    raw_fake.add_channel("C9", is_member=False, private=True)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C9", text="x")
    assert caught.value.response["error"] == "channel_not_found"


def _error(call: Callable[[], object]) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


def test_a_public_channel_the_bot_is_not_in(raw_fake: FakeSlack, client: WebClient) -> None:
    raw_fake.add_user("U1")
    raw_fake.add_channel("CPUB", "general", is_member=False)
    assert client.chat_postMessage(channel="CPUB", text="x")["ok"]  # chat:write.public, which the manifest grants
    assert _error(lambda: client.chat_postEphemeral(channel="CPUB", user="U1", text="x")) == "not_in_channel"
    assert _error(lambda: client.conversations_history(channel="CPUB")) == "not_in_channel"
    assert client.chat_getPermalink(channel="CPUB", message_ts="1.2")["ok"]
    assert client.conversations_info(channel="CPUB")["channel"]["is_member"] is False
    assert client.conversations_join(channel="CPUB")["channel"]["is_member"] is True
    assert client.conversations_info(channel="CPUB")["channel"]["is_member"] is True
    assert client.chat_postEphemeral(channel="CPUB", user="U1", text="x")["ok"]


def test_without_chat_write_public_a_public_channel_needs_membership() -> None:
    fake = FakeSlack(scopes=manifest_scopes() - {"chat:write.public"}).start()
    try:
        fake.add_channel("CPUB", is_member=False)
        client = WebClient(token="xoxb-1", base_url=fake.api_url)
        assert _error(lambda: client.chat_postMessage(channel="CPUB", text="x")) == "not_in_channel"
    finally:
        fake.stop()


@pytest.mark.parametrize("kind", ["private", "im", "mpim"])
def test_private_conversations_the_bot_is_not_in_do_not_exist_for_it(raw_fake: FakeSlack, client: WebClient,
                                                                     kind: str) -> None:
    raw_fake.add_user("U1")
    raw_fake.add_channel("GX", kind=kind, is_member=False)
    for call in (lambda: client.chat_postMessage(channel="GX", text="x"),
                 lambda: client.chat_postEphemeral(channel="GX", user="U1", text="x"),
                 lambda: client.chat_getPermalink(channel="GX", message_ts="1.2"),
                 lambda: client.conversations_info(channel="GX"),
                 lambda: client.conversations_join(channel="GX")):
        assert _error(call) == "channel_not_found"
    assert _error(lambda: client.files_upload_v2(channel="GX", content=b"x", filename="x.md")) == "channel_not_found"


def test_only_public_channels_can_be_joined(raw_fake: FakeSlack, client: WebClient) -> None:
    raw_fake.add_channel("GP", private=True)
    assert _error(lambda: client.conversations_join(channel="GP")) == "method_not_supported_for_channel_type"
    assert _error(lambda: client.chat_postMessage(channel="CNEVER", text="x")) == "channel_not_found"


def test_a_trigger_works_once_and_for_three_seconds(raw_fake: FakeSlack, client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": [section("a")]}
    trigger = raw_fake.trigger_id()
    assert client.views_open(trigger_id=trigger, view=view)["ok"]
    assert _error(lambda: client.views_open(trigger_id=trigger, view=view)) == "exchanged_trigger_id"
    assert _error(lambda: client.views_open(trigger_id="1.2.made-up", view=view)) == "invalid_trigger_id"
    late = raw_fake.trigger_id()
    minted, _ = raw_fake._triggers[late]
    raw_fake._triggers[late] = (minted - 3.5, False)  # as if 3.5 s had passed since the click
    assert _error(lambda: client.views_open(trigger_id=late, view=view)) == "expired_trigger_id"


def test_a_response_url_works_five_times_within_30_minutes(raw_fake: FakeSlack) -> None:
    now = [1_000_000.0]
    raw_fake.clock = lambda: now[0]
    url = raw_fake.response_url()
    sent = [WebhookClient(url).send(text=f"{n}").status_code for n in range(6)]
    assert sent == [200] * 5 + [404]
    late = raw_fake.response_url()
    now[0] += 30 * 60 + 1
    assert WebhookClient(late).send(text="x").body == "expired_url"


def test_calls_need_the_scopes_the_manifest_grants(raw_fake: FakeSlack, client: WebClient) -> None:
    assert "channels:join" in raw_fake.scopes
    raw_fake.add_channel("GP", "secret", private=True)
    raw_fake.add_user("U1")
    # groups:history is left out on purpose (manifest.yml): the bot does not read private channels.
    with pytest.raises(SlackApiError) as caught:
        client.conversations_history(channel="GP")
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "groups:history"
    narrow = FakeSlack(scopes=frozenset({"chat:write"})).start()
    try:
        answer = WebClient(token="xoxb-1", base_url=narrow.api_url).api_call("users.info", params={"user": "U1"})
    except SlackApiError as error:
        answer = error.response
    finally:
        narrow.stop()
    assert answer["error"] == "missing_scope"
    assert answer["needed"] == "users:read"
