"""The register's Block Kit on plain values: cut by count with "+N more", within Slack's limits, user text escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.devtools.blockkit import message_problems
from bot.devtools.fakeslack import text_of
from bot.views import risks as views
from ceremonies.risks import OpenRisk

RAISED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def risk(number: int, likelihood: int, impact: int, title: str = "") -> OpenRisk:
    return OpenRisk(number, "C1", title or f"risk {number}", likelihood, impact, "U2", "", date(2026, 12, 15),
                    RAISED + timedelta(minutes=number), False)


def test_a_long_register_is_cut_by_count_with_the_rest_counted() -> None:
    many = [risk(n, 1 + n % 5, 1 + (n // 5) % 5) for n in range(1, 31)]
    blocks = views.register_blocks(many, channel_id="C1")
    assert len(blocks) <= 50
    assert message_problems(views.register_text(many), blocks) == []
    text = text_of(blocks)
    assert "Risk register · 30 open" in text
    assert f"+{30 - views.REGISTER_SHOWN} more with lower scores." in text
    shown = [b["block_id"] for b in blocks if b.get("block_id", "").startswith("risk.register:")]
    assert len(shown) == views.REGISTER_SHOWN
    assert shown[0] == "risk.register:24"  # 5 × 5, the highest score (the oldest such first)


def test_user_text_is_escaped_and_mentions_kept() -> None:
    blocks = views.register_blocks([risk(1, 2, 2, "ping <!here> and <https://evil|click> for <@U9|ana>")],
                                   channel_id="C1")
    text = text_of(blocks)
    assert "<!here>" not in text
    assert "&lt;https://evil|click&gt;" in text
    assert "<@U9>" in text
