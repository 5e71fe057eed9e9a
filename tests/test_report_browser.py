"""The report pages in a real headless browser (Debian's chromium driven by playwright): the digest's teams, risks and
chart render with no console error, a sprint's page too, and expired, revoked and forged links show a clear page.

Skipped only where chromium (or playwright) is missing and this is not CI; in CI (CADENCE_REQUIRE_POSTGRES set) a
missing browser fails the test instead of hiding it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.devtools.harness import Cadence
from storage import digest as store
from tests.test_digest import MONDAY, arrange, digests, page_token, seed_sprint, set_up_digest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _browser_missing() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CADENCE_REQUIRE_POSTGRES") or os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def visit(browser: Any, url: str) -> tuple[int, Any, list[str]]:
    """Open `url` in a fresh page; its status, the page and every console error or page error."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(url, wait_until="load")
    return (response.status if response is not None else 0), page, errors


def images_loaded(page: Any) -> list[int]:
    return page.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")


def test_the_digest_and_a_sprint_page_render_in_a_browser(cadence: Cadence, browser: Any) -> None:
    arrange(cadence)
    set_up_digest(cadence)
    cadence.tick(MONDAY)
    status, page, errors = visit(browser, f"{cadence.url}/reports/{page_token(digests(cadence)[0])}")
    assert status == 200
    text = page.inner_text("body")
    for team in ("#checkout", "#search", "#mobile"):
        assert team in text
    assert "Mobile <b>2</b>" in text  # shown as typed, never as markup
    assert page.query_selector("section.team b") is None
    assert "Payment SDK <deprecated> in Q1" in text
    assert "tess" in text
    assert [w for w in images_loaded(page)] == [1000]
    assert page.get_attribute("img", "alt").startswith("Velocity trend across teams")
    assert errors == []
    page.close()

    cadence.command("/sprint", "summary", user="U1", channel="C3")
    [summary] = [m for m in cadence.fake.messages("C3") if "· so far" in m.all_text]
    status, page, errors = visit(browser, f"{cadence.url}/reports/{page_token(summary)}")
    assert status == 200
    assert "Risks" in page.inner_text("body")
    assert "Payment SDK <deprecated> in Q1" in page.inner_text("body")
    widths = images_loaded(page)
    assert len(widths) == 3  # the burn-up, the risk heat map, the velocity (no forecast: no earlier sprints)
    assert all(alt for alt in page.eval_on_selector_all("img", "images => images.map(i => i.alt)"))
    assert all(w == 1000 for w in widths)
    assert errors == []
    page.close()


def test_expired_revoked_and_forged_links_show_a_clear_page_in_a_browser(cadence: Cadence, browser: Any) -> None:
    arrange(cadence)
    set_up_digest(cadence)
    cadence.tick(MONDAY)
    token = page_token(digests(cadence)[0])
    seed_sprint(cadence, "C9", "Secret roadmap", [("SEC-1", 3, False)], team="T2")
    with cadence.db.transaction() as session:
        theirs = store.create_link(session, team_id="T2", kind=store.DIGEST, sprint_id=None, by="U9",
                                   now=cadence.clock(), days=30)
        their_public_id = theirs.public_id
    status, page, _errors = visit(browser, f"{cadence.url}/reports/{their_public_id}.{token.split('.')[1]}")
    assert status == 404
    assert "This link does not work" in page.inner_text("h1")
    assert "Secret roadmap" not in page.content()
    page.close()
    cadence.command("/cadence", "digest revoke", user="UADMIN", channel="C1")
    status, page, _errors = visit(browser, f"{cadence.url}/reports/{token}")
    assert (status, page.inner_text("h1")) == (403, "This link was revoked")
    page.close()
    with cadence.db.transaction() as session:
        fresh = store.create_link(session, team_id="T1", kind=store.DIGEST, sprint_id=None, by="UADMIN",
                                  now=cadence.clock(), days=30)
        fresh_token = store.token_of(cadence.runtime.settings.report_key, fresh)
    cadence.clock.set(cadence.clock() + timedelta(days=30, seconds=1))
    status, page, _errors = visit(browser, f"{cadence.url}/reports/{fresh_token}")
    assert (status, page.inner_text("h1")) == (410, "This link has expired")
    page.close()
