"""One way out to Slack: no Web API call, and no Web API client, anywhere in bot/ but the gateway."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bot/slack/ is the gateway; bot/devtools/ holds the fake Slack and the tools that drive it as Slack would.
EXEMPT = ("bot/slack/", "bot/devtools/")
WEB_API_METHOD = re.compile(
    r"^(admin|api|apps|auth|bookmarks|bots|calls|chat|conversations|dialog|dnd|emoji|files|pins|reactions|"
    r"reminders|search|stars|team|usergroups|users|views|workflows)_[A-Za-z_]+$|^api_call$"
)


def offences(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and WEB_API_METHOD.match(node.func.attr):
            found.append(f"{path.relative_to(root)}:{node.lineno} calls .{node.func.attr}()")
        if isinstance(node, ast.ImportFrom) and node.module in ("slack_sdk", "slack_sdk.web", "slack_sdk.web.client") \
                and any(alias.name == "WebClient" for alias in node.names):
            found.append(f"{path.relative_to(root)}:{node.lineno} imports WebClient")
    return found


def test_no_web_api_call_outside_the_gateway() -> None:
    found = [
        offence
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if not str(path.relative_to(ROOT)).startswith(EXEMPT)
        for offence in offences(path)
    ]
    assert found == [], "Web API calls must go through bot.slack.gateway:\n" + "\n".join(found)


def test_the_check_catches_a_direct_call(tmp_path: Path) -> None:
    module = tmp_path / "listener.py"
    module.write_text("from slack_sdk import WebClient\n\ndef f(client):\n    client.chat_postMessage(channel='C1')\n")
    assert sorted(line.split(" ", 1)[1] for line in offences(module, tmp_path)) == [
        "calls .chat_postMessage()", "imports WebClient"]
