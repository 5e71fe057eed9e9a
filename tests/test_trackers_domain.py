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


PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1c2\nAbCd+/==\n-----END RSA PRIVATE KEY-----")


def github_form(**fields: str) -> tuple[domain.ConnectForm | None, dict[str, str]]:
    given = {"token": "", "app_id": "", "installation_id": "", "private_key": "", **fields}
    return domain.check_connect_form(domain.Kind.GITHUB, site_url="", email="", project="acme/shop", **given)


def test_github_takes_a_token_or_an_app_installation_not_both_nor_neither() -> None:
    form, problems = github_form(app_id=" 123456 ", installation_id="7890", private_key=f"\n{PEM}\n")
    assert problems == {}
    assert form is not None
    assert form.credentials == domain.Credentials("", app_id=123456, installation_id=7890, private_key=PEM + "\n")
    form, problems = github_form(token="github_pat_1")
    assert form is not None
    assert form.credentials == domain.Credentials("github_pat_1")  # the token way is as it was

    assert github_form()[1] == {"token": "Paste a fine-grained token, or fill in the GitHub App's three fields."}
    assert github_form(token="github_pat_1", app_id="123456")[1] == {
        "token": "Either a token or a GitHub App, not both: empty the token or the App's fields."}


def test_a_github_app_needs_its_two_ids_and_a_whole_private_key() -> None:
    _form, problems = github_form(app_id="12a", installation_id="", private_key="-----BEGIN RSA PRIVATE KEY-----")
    assert set(problems) == {"app_id", "installation_id", "private_key"}
    assert problems["app_id"].startswith("The App ID is a number")
    assert problems["private_key"].startswith("Paste the App's private key: the whole .pem file")
    assert set(github_form(app_id="0", installation_id="²", private_key=PEM)[1]) == {"app_id", "installation_id"}
    too_long = PEM.replace("AbCd+/==", "A" * 3000)
    assert set(github_form(app_id="1", installation_id="2", private_key=too_long)[1]) == {"private_key"}
    pkcs8 = PEM.replace("RSA PRIVATE KEY", "PRIVATE KEY")
    assert github_form(app_id="1", installation_id="2", private_key=pkcs8)[1] == {}


def test_the_app_fields_are_not_jiras() -> None:
    form, problems = domain.check_connect_form(domain.Kind.JIRA, site_url="https://t.atlassian.net", email="",
                                               token="pat", project="", app_id="1", installation_id="2",
                                               private_key=PEM)
    assert problems == {}
    assert form is not None
    assert form.credentials == domain.Credentials("pat")


def test_every_line_of_a_private_key_is_kept_out_of_sight() -> None:
    parts = domain.private_key_parts(PEM)
    assert parts[0] == PEM
    assert "MIIEowIBAAKCAQEAx1c2AbCd+/==" in parts
    assert "AbCd+/==" in parts
    assert not any(part.startswith("-----") for part in parts[1:])
    assert domain.private_key_parts("") == []
