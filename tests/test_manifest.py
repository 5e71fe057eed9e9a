"""The manifest and the code agree: every command registered is in the manifest, and nothing else is."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.listeners import all_commands

ROOT = Path(__file__).resolve().parent.parent


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_every_registered_command_is_in_the_manifest_and_back() -> None:
    in_manifest = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert in_manifest == {c.name for c in all_commands()}


def test_every_request_url_points_at_the_one_endpoint() -> None:
    data = manifest()
    urls = [c["url"] for c in data["features"]["slash_commands"]]
    urls.append(data["settings"]["event_subscriptions"]["request_url"])
    urls.append(data["settings"]["interactivity"]["request_url"])
    assert {u.rsplit("/", 2)[-2] + "/" + u.rsplit("/", 1)[-1] for u in urls} == {"slack/events"}


def test_command_descriptions_fit_slack() -> None:
    for command in manifest()["features"]["slash_commands"]:
        assert len(command["description"]) <= 100
        assert len(command.get("usage_hint", "")) <= 100


def test_oauth_installs_ask_for_the_manifest_scopes_and_come_back_to_our_redirect() -> None:
    from bot.slack.oauth import BOT_SCOPES, REDIRECT_PATH

    data = manifest()["oauth_config"]
    assert list(BOT_SCOPES) == data["scopes"]["bot"]
    assert [u.split("/", 3)[-1] for u in data["redirect_urls"]] == [REDIRECT_PATH.lstrip("/")]


def test_uninstall_events_are_subscribed() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
