"""The fake Slack itself: it must refuse what Slack refuses, or the other tests prove nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.devtools.fakeslack import FakeSlack


@pytest.fixture
def raw_fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
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
        client.views_open(trigger_id="t", view=view)
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
    raw_fake.add_channel("C9", is_member=False)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C9", text="x")
    assert caught.value.response["error"] == "not_in_channel"
