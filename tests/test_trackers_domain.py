"""The trackers' rules as plain functions: searches, sprint links, fields found by name, estimate labels."""

from __future__ import annotations

import pytest

from ceremonies import trackers as domain
from ceremonies.errors import InvalidInput


def test_searches_are_read_from_the_poker_command() -> None:
    jira = domain.parse_search(domain.Kind.JIRA, "  project = PAY   AND sprint in futureSprints() ")
    assert jira.jql == "project = PAY AND sprint in futureSprints()"
    github = domain.parse_search(domain.Kind.GITHUB, "acme/shop card checkout")
    assert (github.repo, github.terms) == ("acme/shop", "card checkout")
    assert github.github_query() == "repo:acme/shop is:issue is:open card checkout"
    with pytest.raises(InvalidInput, match="write the JQL"):
        domain.parse_search(domain.Kind.JIRA, "")
    with pytest.raises(InvalidInput, match="write the repository"):
        domain.parse_search(domain.Kind.GITHUB, "not a repo")
    with pytest.raises(InvalidInput, match="no qualifiers"):
        domain.parse_search(domain.Kind.GITHUB, "acme/shop repo:other/secret")


def test_a_sprint_link_is_taken_out_of_the_start_text() -> None:
    link, rest = domain.split_link_option('"Sprint 14" --until 2026-12-11 --jira 12:345 --goal "Pay"')
    assert link == domain.SprintLink(domain.Kind.JIRA, board_id=12, sprint_id=345)
    assert rest == "'Sprint 14' --until 2026-12-11 --goal Pay"
    link, _rest = domain.split_link_option("S --until 2026-12-11 --github acme/shop#3")
    assert link == domain.SprintLink(domain.Kind.GITHUB, repo="acme/shop", milestone=3)
    assert domain.split_link_option("S --until 2026-12-11") == (None, "S --until 2026-12-11")
    with pytest.raises(InvalidInput, match="BOARD:SPRINT"):
        domain.split_link_option("S --jira 12")
    with pytest.raises(InvalidInput, match="owner/repo#MILESTONE"):
        domain.split_link_option("S --github acme/shop")


def test_fields_are_found_by_their_names() -> None:
    assert domain.points_field([("summary", "Summary"), ("customfield_10016", "Story point estimate")]) \
        == "customfield_10016"
    assert domain.points_field([("customfield_10002", "Story Points")]) == "customfield_10002"
    assert domain.points_field([("customfield_1", "Effort")]) is None
    assert domain.project_field([("F1", "Title"), ("F2", "Estimate")]) == "F2"


def test_estimate_labels_replace_each_other() -> None:
    assert domain.estimate_label("5") == "estimate: 5"
    assert domain.stale_estimate_labels(["bug", "estimate: 3", "estimate: 5"], "5") == ["estimate: 3"]
    assert domain.points_from_labels(["bug", "estimate: ½"]) == 0.5
    assert domain.points_from_labels(["estimate: XL"]) is None


def test_at_most_fifty_issues_are_imported_and_the_rest_counted() -> None:
    issues = [domain.TrackerIssue(f"P-{n}", f"Story {n}", f"https://x/browse/P-{n}", False) for n in range(60)]
    imported = domain.imported(issues[:50], total=60)
    assert len(imported.stories) == 50
    assert imported.more == 10
    assert imported.stories[0].title == "Story 0 https://x/browse/P-0"
    with pytest.raises(InvalidInput, match="no issue matches"):
        domain.imported([], total=0)


def test_the_connect_form_is_checked_before_any_call() -> None:
    form, problems = domain.check_connect_form(domain.Kind.JIRA, site_url="your-team.atlassian.net", email="x",
                                               token="a token", project="pay")
    assert form is None
    assert set(problems) == {"site_url", "email", "token"}
    form, problems = domain.check_connect_form(domain.Kind.JIRA, site_url="https://t.atlassian.net/", email="",
                                               token="pat", project="pay")
    assert problems == {}
    assert form is not None
    assert (form.site_url, form.project, form.credentials.email) == ("https://t.atlassian.net", "PAY", "")
    _form, problems = domain.check_connect_form(domain.Kind.GITHUB, site_url="", email="", token="t", project="x")
    assert problems == {"project": "Write the repository as owner/name, e.g. acme/shop."}


def test_what_a_story_says_about_its_estimate() -> None:
    assert domain.EstimateWrite("PAY-1", "written", None).line() == ":outbox_tray: Estimate written to PAY-1."
    assert domain.EstimateWrite("PAY-1", "pending", "Jira: busy").line() == \
        ":hourglass: Not written to PAY-1 yet: Jira: busy (trying again)."
