"""`cadence demo`: a two-week sprint of a six-person team in two timezones, played through the real app.

Everything goes the way it would in Slack: signed HTTP requests into the real listeners (slash commands, clicks on
the buttons the app posted, submissions of the modals it opened), the built-in fake Slack answering the Web API, a
throw-away SQLite database, and the scheduler ticking on a frozen clock moved through the two weeks. At the end the
sprint report is printed (the Markdown of `cadence report`) and the burn-up chart written as a PNG.
"""

from __future__ import annotations

import json
import logging
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.devtools.fakejira import FakeJira
from bot.devtools.fakeslack import FakeSlack, Message
from bot.devtools.harness import Cadence, FrozenClock, start_cadence
from bot.devtools.signed import form
from bot.slack.crypto import generate_key
from bot.views import blockers as blocker_views
from bot.views import charts, reports
from bot.views import healthcheck as health_views
from bot.views import poker as poker_views
from bot.views import retro as retro_views
from bot.views import review as review_views
from bot.views import standup as standup_views
from bot.views import trackers as tracker_views
from storage import migrate, sprint_figures
from storage import sprint as sprints
from storage import standup as standup_store

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CHANNEL = "C0CHECKOUT"
SPRINT = "Sprint 14"
FIRST_DAY = date(2026, 11, 30)  # a Monday
LAST_DAY = date(2026, 12, 11)  # the Friday of the week after
PLANNING_AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # the Friday before: 15:00 in Berlin, 09:00 in New York
CHART_NAME = "burn-up.png"
REPORT_NAME = "report.md"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    zone: ZoneInfo

    @property
    def mention(self) -> str:
        return f"<@{self.user_id}>"


LENA, JONAS, MIA = Person("U0LENA", "lena", BERLIN), Person("U0JONAS", "jonas", BERLIN), Person("U0MIA", "mia", BERLIN)
AVA, MARCUS, PRIYA = (Person("U0AVA", "ava", NEW_YORK), Person("U0MARCUS", "marcus", NEW_YORK),
                      Person("U0PRIYA", "priya", NEW_YORK))
TEAM = (LENA, JONAS, MIA, AVA, MARCUS, PRIYA)
PRODUCT_OWNER = Person("U0NORA", "nora", BERLIN)  # a stakeholder at the sprint review, not in the stand-up
STAKEHOLDERS = "C0STAKEHOLDERS"
FACILITATOR = LENA

# (key, title, the size the team has in mind): estimated in planning poker, they become the committed stories.
BACKLOG = (
    ("PAY-101", "Checkout page skeleton", 3),
    ("PAY-102", "Card payments through the payment provider's sandbox", 8),
    ("PAY-103", "Saved delivery addresses", 5),
    ("PAY-104", "Order confirmation e-mail", 2),
    ("PAY-105", "Error states and retries", 5),
    ("PAY-106", "Refund flow", 8),
)
REVOTED = "PAY-102"  # the story the team disagrees on at first
DONE_PLAN = {  # working day (0 = the first Monday) -> (story, who marks it done)
    1: ("PAY-101", JONAS), 3: ("PAY-104", AVA), 6: ("PAY-103", MIA), 7: ("PAY-102", JONAS), 8: ("PAY-110", MARCUS),
    9: ("PAY-105", PRIYA),
}
ADDED = ("PAY-110", 2, "Rounding of totals in the basket")  # a scope change on day 5

WORK = ("the checkout form", "the payment sandbox client", "address validation", "the e-mail template",
        "retry logic for declined cards", "review of the refund design", "tests for the basket totals",
        "the order summary", "pairing on the card form", "the API contract with the shop team")

RETRO_CARDS = {
    0: ("Pairing on the payment client worked well", "Demos every Friday kept us honest", "Quick reviews",
        "The shared test data set"),
    1: ("Too many meetings on Tuesdays", "Waiting for the sandbox API key for two days",
        "Stand-up answers from New York arrive after Berlin logs off", "Flaky end-to-end tests"),
    2: ("Ask the provider for keys at planning", "A shared hour across both timezones", "Record the demo"),
}
# Per squad-health-check dimension, the odds of green and of amber (red is the rest): a sprint that delivered but
# had a broken staging database and a long wait for the sandbox key.
HEALTH_ODDS = ((0.6, 0.3), (0.1, 0.4), (0.6, 0.3), (0.4, 0.4), (0.5, 0.4), (0.7, 0.2), (0.3, 0.5), (0.4, 0.4),
               (0.2, 0.5), (0.8, 0.2))
HEALTH_COMMENTS = ("Releases still need a person babysitting them", "Pairing across timezones is great",
                   "Waiting two days for the sandbox key hurt")
RETRO_ACTIONS = (
    ("Request sandbox credentials the week before the sprint", MARCUS),
    ("Move the Tuesday sync into the shared hour (15:00 Berlin / 09:00 New York)", LENA),
    ("Quarantine the flaky end-to-end tests and fix one a day", PRIYA),
)


@dataclass
class DemoResult:
    """What a demo run produced."""

    report: str
    report_path: Path
    chart_path: Path
    violations: list[str]
    seconds: float
    events: list[str] = field(default_factory=list)


def run_demo(out_dir: Path, *, seed: int | None = None, say: Callable[[str], None] = print,
             verbose: bool = False) -> DemoResult:
    """Play the sprint, write the report and the chart into `out_dir`, and return what came out."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    with _quiet_logs(verbose), tempfile.TemporaryDirectory(prefix="cadence-demo-") as scratch:
        database_url = f"sqlite:///{Path(scratch) / 'cadence.sqlite3'}"
        migrate.upgrade(database_url)
        fake = FakeSlack(team_id="T0DEMO", team_name="Demo Co").start()
        jira = _demo_jira()  # the backlog lives in (a fake) Jira: the stories come from it, the estimates go back
        try:
            cadence = start_cadence(fake, database_url, FrozenClock(PLANNING_AT - timedelta(hours=1)),
                                    **{**_isolated_settings(), "cadence_encryption_key": generate_key()})
            try:
                sprint = _Sprint(cadence, random.Random(seed), say)
                sprint.jira = jira
                sprint.play()
                report, chart = sprint.report()
            finally:
                cadence.stop()
        finally:
            fake.stop()
            jira.stop()
        violations = fake.violations
    report_path, chart_path = out_dir / REPORT_NAME, out_dir / CHART_NAME
    report_path.write_text(report, encoding="utf-8")
    chart_path.write_bytes(chart)
    return DemoResult(report, report_path, chart_path, violations, time.perf_counter() - started, sprint.events)


JIRA_ACCOUNT = ("lena@demo.example", "demo-jira-api-token")


def _demo_jira() -> FakeJira:
    jira = FakeJira().start()
    jira.add_account(*JIRA_ACCOUNT, display_name="Lena")
    for key, title, _size in BACKLOG:
        jira.add_issue(key, title)
    return jira


def _isolated_settings() -> dict[str, Any]:
    """Settings the environment must not change: one workspace with a fake token, no Socket Mode, no metrics dir.

    Two weeks pass in seconds, so Slack's pace (a message a second per channel) is lifted: the fake Slack enforces
    no limit, and the demo would otherwise wait in real time for a clock that is not real.
    """
    return {"slack_app_token": None, "slack_client_id": None, "slack_client_secret": None,
            "cadence_encryption_key": None, "prometheus_multiproc_dir": None, "default_timezone": "UTC",
            "slack_fanout_per_second": 100.0, "slack_channel_interval_seconds": 0.0}


@contextmanager
def _quiet_logs(verbose: bool) -> Iterator[None]:
    # The app logs every request and scheduled job; in a demo only real errors are worth a line.
    if verbose:
        yield
        return
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


class _Sprint:
    """The script of the two weeks: who does what, when, through the app."""

    def __init__(self, cadence: Cadence, rng: random.Random, say: Callable[[str], None]) -> None:
        self.cadence = cadence
        self.fake = cadence.fake
        self.rng = rng
        self.say = say
        self.events: list[str] = []
        self.blockers: dict[str, int] = {}  # a name in the script -> the blocker's number
        self.jira: FakeJira | None = None

    # -- plumbing -------------------------------------------------------------------------------------------------
    def tell(self, text: str) -> None:
        line = f"{self.cadence.clock():%a %d %b %H:%M} UTC  {text}"
        self.events.append(line)
        self.say(line)

    def at(self, when: datetime) -> None:
        """Move the clock to `when` and let the scheduler do whatever has fallen due."""
        if when > self.cadence.clock():
            self.cadence.tick(when)

    def command(self, person: Person, command: str, text: str = "") -> None:
        before = len(self.fake.responses())
        reply = self.cadence.command(command, text, user=person.user_id, channel=CHANNEL)
        if reply.status != 200:
            raise RuntimeError(f"{command} {text} answered HTTP {reply.status}: {reply.text}")
        answers = [reply.text] + [r.get("text", "") for r in self.fake.responses()[before:]]
        if refused := [a for a in answers if ":warning:" in a]:
            raise RuntimeError(f"{command} {text} was refused: {refused[0]}")

    def click(self, message: Message, action_id: str, person: Person) -> None:
        reply = self.cadence.slack.click(message, action_id, user=person.user_id)
        if reply.status != 200:
            raise RuntimeError(f"a click on {action_id} answered HTTP {reply.status}")
        self.cadence.settle()

    def submit(self, person: Person, callback_id: str, **changes: dict[str, Any]) -> None:
        """Submit the modal the app just opened for `person`."""
        view = self.fake.last_view()
        if view.get("callback_id") != callback_id:
            raise RuntimeError(f"expected the {callback_id} modal, the app opened {view.get('callback_id')}")
        reply = self.cadence.slack.view_submission(view, form(view, **changes), user=person.user_id)
        if reply.status != 200 or (reply.body and reply.json.get("response_action") == "errors"):
            raise RuntimeError(f"the {callback_id} modal was refused: {reply.text}")
        self.cadence.settle()

    # -- the whole sprint -----------------------------------------------------------------------------------------
    def play(self) -> None:
        self.arrange()
        self.plan()
        self.at(local(FIRST_DAY, 9, 0, BERLIN))
        self.command(FACILITATOR, "/sprint", f'start "{SPRINT}" --until {LAST_DAY.isoformat()} '
                                             '--goal "Customers can pay by card and get a confirmation"')
        self.tell(f"{FACILITATOR.name} starts {SPRINT} (until Fri {LAST_DAY:%d %b})")
        day, index = FIRST_DAY, 0
        while day <= LAST_DAY:
            if day.weekday() < 5:
                self.work_day(day, index)
                index += 1
            else:
                self.at(local(day, 12, 0, BERLIN))
            day += timedelta(days=1)
        self.at(local(LAST_DAY + timedelta(days=1), 0, 0, BERLIN))  # midnight in Berlin: the sprint ends by itself
        ended = [m for m in self.fake.messages(CHANNEL, top_level=True) if f"{SPRINT} · summary" in m.all_text]
        if not ended:
            raise RuntimeError("the sprint did not end at midnight after its last day")
        self.tell(f"{SPRINT} ends; the summary and the chart are posted in the channel")

    def arrange(self) -> None:
        """The workspace: six people in Berlin and New York, the team channel, a stand-up and the blocker tracker."""
        for person in TEAM:
            offset = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=person.zone).utcoffset() or timedelta(0)
            self.fake.add_user(person.user_id, person.name, tz=str(person.zone), tz_offset=int(offset.total_seconds()))
        self.fake.add_channel(CHANNEL, "checkout-team")
        self.command(FACILITATOR, "/standup", "setup")
        self.submit(FACILITATOR, standup_views.SETUP_VIEW,
                    **{standup_views.B_PARTICIPANTS: {"selected_users": [p.user_id for p in TEAM]}})
        self.command(FACILITATOR, "/blocker", "settings")
        self.submit(FACILITATOR, blocker_views.SETTINGS_MODAL,
                    **{blocker_views.THRESHOLD_BLOCK: {"value": "1"},
                       blocker_views.CONTACT_BLOCK: {"selected_user": LENA.user_id},
                       blocker_views.DIGEST_TIME_BLOCK: {"selected_time": "09:45"},
                       blocker_views.TIMEZONE_BLOCK: {"value": "Europe/Berlin"}})
        self.tell("lena sets up the daily stand-up (09:30 local time, Mon–Fri) and the blocker tracker "
                  "(escalate to lena after 1 working day)")
        self.health_check_setup()

    # -- planning poker -------------------------------------------------------------------------------------------
    def plan(self) -> None:
        self.at(PLANNING_AT)
        self.connect_jira()
        self.command(FACILITATOR, "/poker", "jira project = PAY ORDER BY key")
        parent = next(m for m in reversed(self.fake.messages(CHANNEL, top_level=True))
                      if "Planning poker" in m.all_text)
        self.tell(f"planning poker on {len(BACKLOG)} stories in a thread")
        deck = ("1", "2", "3", "5", "8", "13", "21")
        for key, _title, size in BACKLOG:
            self.cadence.clock.advance(timedelta(minutes=self.rng.randint(4, 9)))
            story = self._story_message(parent, key)
            if key == REVOTED:
                # Round 1: half the team sees the sandbox work, half does not.
                self._votes(story, {p: ("3" if i % 2 else "13") for i, p in enumerate(TEAM)})
                self.click(self._fresh(story), poker_views.REVEAL, FACILITATOR)
                self.click(self._fresh(story), poker_views.REVOTE, FACILITATOR)
                self.tell(f"{key}: votes from 3 to 13, no consensus; they talk it through and vote again")
            position = deck.index(str(size))
            # Most agree; some lean one card up or down, which still counts as consensus (neighbouring cards).
            lean = deck[position + self.rng.choice((-1, 1))]
            votes = {p: lean if self.rng.random() < 0.3 else str(size) for p in TEAM}
            self._votes(self._fresh(story), votes)
            self.click(self._fresh(story), poker_views.REVEAL, FACILITATOR)
            self.click(self._fresh(story), poker_views.ACCEPT, FACILITATOR)
            suggested = next(b for b in self.fake.last_view()["blocks"]
                             if b.get("block_id") == poker_views.ESTIMATE_BLOCK)["element"]["initial_option"]
            self.submit(FACILITATOR, poker_views.ACCEPT_MODAL)
            self.tell(f"{key} estimated at {suggested['value']} point{'' if suggested['value'] == '1' else 's'}")
        self.at(self.cadence.clock() + timedelta(minutes=1))  # the tracker job writes the estimates back
        assert self.jira is not None
        written = {key: self.jira.issue(key).points for key, _title, _size in BACKLOG}
        if None in written.values():
            raise RuntimeError(f"estimates not written back to Jira: {written}")
        self.tell("the estimates are written back to Jira's story points: "
                  + ", ".join(f"{key} {points:g}" for key, points in written.items() if points is not None))

    def connect_jira(self) -> None:
        """lena, who facilitates the team, connects the team's Jira site."""
        assert self.jira is not None
        self.command(FACILITATOR, "/cadence", "connect jira")
        values = {tracker_views.SITE_BLOCK: self.jira.url, tracker_views.EMAIL_BLOCK: JIRA_ACCOUNT[0],
                  tracker_views.TOKEN_BLOCK: JIRA_ACCOUNT[1], tracker_views.PROJECT_BLOCK: "PAY"}
        self.submit(FACILITATOR, tracker_views.CONNECT,
                    **{block: {"type": "plain_text_input", "value": value} for block, value in values.items()})
        self.tell(f"lena connects Jira; planning poker takes the {len(BACKLOG)} backlog issues of project PAY")

    def _story_message(self, parent: Message, key: str) -> Message:
        for message in reversed(self.fake.messages(CHANNEL, thread_ts=parent.ts)):
            if key in message.all_text and any(b["type"] == "actions" for b in message.blocks):
                return message
        raise RuntimeError(f"the app did not post {key} for estimation")

    def _fresh(self, message: Message) -> Message:
        return self.fake.message(message.channel, message.ts)

    def _votes(self, story: Message, votes: dict[Person, str]) -> None:
        for person, card in votes.items():
            element, block_id = next(
                (e, b.get("block_id", "b")) for b in story.blocks for e in b.get("elements", [])
                if e.get("action_id", "").startswith(poker_views.VOTE + ".") and e["text"]["text"] == card)
            self.cadence.slack.block_action(element["action_id"], element["value"], user=person.user_id,
                                            channel=story.channel, message_ts=story.ts, block_id=block_id)
        self.cadence.settle()

    # -- a working day --------------------------------------------------------------------------------------------
    def work_day(self, day: date, index: int) -> None:
        plans: list[tuple[datetime, int, Callable[[], None]]] = []

        def plan(when: datetime, action: Callable[[], None]) -> None:
            plans.append((when, len(plans), action))

        for zone in (BERLIN, NEW_YORK):
            for hour, minute in ((9, 30), (11, 30), (17, 0)):  # prompts, reminders, the window's close
                plan(local(day, hour, minute, zone), lambda: None)
        for person in TEAM:
            self._person_day(day, index, person, plan)
        self._scripted(day, index, plan)
        escalated = self._escalations()
        for when, _order, action in sorted(plans, key=lambda p: (p[0], p[1])):
            self.at(when)
            action()
        if (more := self._escalations() - escalated) > 0:
            self.tell(f"{more} blocker escalation{'s' if more > 1 else ''}: lena gets a DM "
                      "(open longer than 1 working day)")
        with self.cadence.db.transaction() as session:
            figures = standup_store.participation(session, team_id=self.fake.team_id, channel_id=CHANNEL,
                                                  start=day, end=day)
        if figures.days:
            d = figures.days[0]
            self.tell(f"stand-up {day:%a %d %b}: {d.answered}/{d.prompted} answered ({d.late} late, "
                      f"{d.skipped} skipped, {d.away} away)")

    def _person_day(self, day: date, index: int, person: Person,
                    plan: Callable[[datetime, Callable[[], None]], None]) -> None:
        """How `person` meets today's stand-up: on time, late, skipped, forgotten; scripted days come first."""
        if (person, index) in ((MARCUS, 3), (MARCUS, 4)):
            return  # away, told the app on Wednesday
        if (person, index) == (MIA, 5):
            plan(local(day, 9, 40, BERLIN), lambda: self._away_from_prompt(person, day))
            return
        blocker = SCRIPTED_BLOCKERS.get((person, index))
        roll = 1.0 if (person, index) in ALWAYS_ANSWERS else self.rng.random()
        if blocker is None and roll < 0.04:
            plan(local(day, 9, 35, person.zone), lambda: self._skip(person))
            return
        if blocker is None and roll < 0.09:  # forgets: gets the reminder, never answers
            plan(local(day, 11, 31, person.zone), lambda: self._reminded(person))
            return
        answer_at = (local(day, 17, self.rng.randint(15, 50), person.zone) if blocker is None and roll < 0.19
                     else local(day, 9, 30, person.zone) + timedelta(minutes=self.rng.randint(3, 100)))
        plan(answer_at, lambda: self._answer(person, day, index, blocker))

    def _prompt(self, person: Person) -> Message:
        prompts = [m for m in self.fake.dms(person.user_id) if "Time for the" in m.text]
        if not prompts:
            raise RuntimeError(f"{person.name} got no stand-up prompt")
        return prompts[-1]

    def _answer(self, person: Person, day: date, index: int, blocker: str | None) -> None:
        prompt = self._prompt(person)
        self._answer_open_blocker_questions(person, prompt, index)
        self.click(prompt, standup_views.WRITE, person)
        yesterday, today = self.rng.sample(WORK, 2)
        self.submit(person, standup_views.ANSWER_VIEW, **{
            standup_views.answer_block(0): {"value": f"Worked on {yesterday}"},
            standup_views.answer_block(1): {"value": f"Today: {today}"},
            standup_views.answer_block(2): {"value": blocker or "None"},
        })
        if blocker is not None:
            number = self._blocker_number(blocker)
            self.blockers[blocker] = number
            self.tell(f"{person.name}'s stand-up answer opens blocker #{number}: {blocker}")

    def _answer_open_blocker_questions(self, person: Person, prompt: Message, index: int) -> None:
        """The prompt asks about each open blocker of the person's: still blocked, or resolved."""
        for block in prompt.blocks:
            if not block.get("block_id", "").startswith("blocker.prompt:"):
                continue
            number = int(block["block_id"].split(":")[1])
            resolved = number == self.blockers.get(SANDBOX) and index >= 2  # the key arrives on the third day
            action = blocker_views.PROMPT_RESOLVED if resolved else blocker_views.PROMPT_STILL_BLOCKED
            element = next(e for e in block["elements"] if e["action_id"] == action)
            self.cadence.slack.block_action(action, element["value"], user=person.user_id, channel=prompt.channel,
                                            message_ts=prompt.ts, block_id=block["block_id"])
            self.cadence.settle()
            self.tell(f"{person.name} answers the prompt's question about blocker #{number}: "
                      + ("resolved" if resolved else "still blocked"))

    def _reminded(self, person: Person) -> None:
        if any("A reminder" in m.text for m in self.fake.dms(person.user_id)[-1:]):
            self.tell(f"{person.name} has not answered: the app sends a reminder (no answer today)")

    def _skip(self, person: Person) -> None:
        self.click(self._prompt(person), standup_views.SKIP, person)
        self.tell(f"{person.name} skips today's stand-up")

    def _away_from_prompt(self, person: Person, day: date) -> None:
        self.click(self._prompt(person), standup_views.AWAY, person)
        self.submit(person, standup_views.AWAY_VIEW, **{standup_views.B_AWAY_TO: {"selected_date": day.isoformat()}})
        self.tell(f"{person.name} is off sick today (\"I'm away…\" on the prompt)")

    def _blocker_number(self, text: str) -> int:
        for message in reversed(self.fake.messages(CHANNEL)):
            if text in message.all_text and (found := re.search(r"Blocker #(\d+)", message.all_text)):
                return int(found.group(1))
        raise RuntimeError(f"no blocker card for {text!r}")

    def _card(self, number: int) -> Message:
        return next(m for m in reversed(self.fake.messages(CHANNEL)) if f"Blocker #{number}" in m.all_text
                    and any(e.get("action_id") == blocker_views.RESOLVE for b in m.blocks for e in b.get("elements", [])))

    # -- what happens on given days -------------------------------------------------------------------------------
    def _scripted(self, day: date, index: int, plan: Callable[[datetime, Callable[[], None]], None]) -> None:
        if index == 2:
            plan(local(day, 15, 0, NEW_YORK), lambda: self._resolve_from_card(STAGING, MARCUS,
                                                                            "restored the write role on staging"))
            plan(local(day, 16, 0, NEW_YORK), lambda: self.command(MARCUS, "/standup", "away 2026-12-03 2026-12-04"))
            plan(local(day, 16, 1, NEW_YORK), lambda: self.tell("marcus tells the app he is away Thu–Fri"))
        if index == 6:
            plan(local(day, 14, 0, NEW_YORK), lambda: self._resolve_by_command(DESIGN, MIA,
                                                                             "final designs are in Figma"))
        if index == 4:
            key, points, title = ADDED
            plan(local(day, 11, 0, NEW_YORK), lambda: self._scope_change(key, points, title))
        if index in DONE_PLAN:
            key, person = DONE_PLAN[index]
            plan(local(day, 15, self.rng.randint(0, 59), person.zone), lambda: self._done(key, person))
        if day == LAST_DAY:
            self.health_check(day, plan)
            plan(local(day, 14, 0, BERLIN), self.review)
            plan(local(day, 16, 0, BERLIN), self.retro)
        self._risk_register(index, day, plan)

    def _escalations(self) -> int:
        return len([m for m in self.fake.dms(LENA.user_id) if "has been open for" in m.all_text])

    def _resolve_from_card(self, text: str, person: Person, note: str) -> None:
        number = self.blockers[text]
        self.click(self._card(number), blocker_views.RESOLVE, person)
        self.submit(person, blocker_views.RESOLVE_MODAL, **{blocker_views.NOTE_BLOCK: {"value": note}})
        self.tell(f"{person.name} resolves blocker #{number} from its card: {note}")

    def _resolve_by_command(self, text: str, person: Person, note: str) -> None:
        number = self.blockers[text]
        self.command(person, "/blocker", f"resolve #{number} {note}")
        self.tell(f"{person.name} resolves blocker #{number} with /blocker resolve")

    def _scope_change(self, key: str, points: int, title: str) -> None:
        self.command(MARCUS, "/sprint", f"add {key} {points} {title}")
        self.tell(f"marcus adds {key} ({points} points) to the sprint: a scope change")

    def _done(self, key: str, person: Person) -> None:
        self.command(person, "/sprint", f"done {key}")
        self.tell(f"{person.name}: /sprint done {key}")

    # -- the team health check -----------------------------------------------------------------------------------
    def health_check_setup(self) -> None:
        self.command(FACILITATOR, "/healthcheck", "setup")
        self.submit(FACILITATOR, health_views.SETUP_VIEW, **{health_views.B_WINDOW: {"value": "5"},
                                                              health_views.B_TIMEZONE: {"value": "Europe/Berlin"}})
        self.tell("lena sets up the team health check: the ten squad-health-check dimensions, the stand-up's six "
                  "people, answers open 5 hours, results from 3 answers")

    def health_check(self, day: date, plan: Callable[[datetime, Callable[[], None]], None]) -> None:
        """The morning of the retro: a round for everyone; five answer, marcus is reminded and does not."""
        # Its own generator: the rest of the sprint plays the same whatever the health check draws.
        rng = random.Random(hash(self.rng.getstate()))
        plan(local(day, 10, 0, BERLIN), self._health_check_opens)
        for number, person in enumerate(p for p in TEAM if p is not MARCUS):
            # New York answers over breakfast (07:30 there is 13:30 in Berlin), before the 14:00 sprint review.
            when = local(day, 10, rng.randint(5, 50), BERLIN) if person.zone is BERLIN else local(
                day, 7, rng.randint(30, 55), person.zone)
            comment = HEALTH_COMMENTS[number] if number < len(HEALTH_COMMENTS) else ""
            draws = random.Random(rng.random())
            plan(when, lambda person=person, comment=comment, draws=draws: self._health_answer(person, draws, comment))
        plan(local(day, 12, 31, BERLIN), lambda: self.tell(
            f"health check: half time, {sum(1 for m in self.fake.dms(MARCUS.user_id) if m.text.startswith('Reminder'))}"
            " reminder (marcus has not answered)"))
        plan(local(day, 15, 1, BERLIN), self._health_check_closed)

    def _health_check_opens(self) -> None:
        self.command(FACILITATOR, "/healthcheck", "now")
        self.tell("lena opens a health check round: each of the six gets a DM with an Answer button")

    def _health_answer(self, person: Person, rng: random.Random, comment: str) -> None:
        invitation = next(m for m in reversed(self.fake.dms(person.user_id)) if health_views.ANSWER in json.dumps(
            m.blocks))
        self.click(invitation, health_views.ANSWER, person)
        changes: dict[str, dict[str, Any]] = {health_views.B_COMMENT: {"value": comment}}
        for index, (green, amber) in enumerate(HEALTH_ODDS):
            roll = rng.random()
            rating = "green" if roll < green else "amber" if roll < green + amber else "red"
            changes[health_views.rating_block(index)] = {"selected_option": {"value": rating}}
            trend = rng.choice(("better", "same", "same", "worse"))
            changes[health_views.trend_block(index)] = {"selected_option": {"value": trend}}
        self.submit(person, health_views.ANSWER_VIEW, **changes)
        self.tell(f"{person.name} answers the health check (anonymous)")

    def _health_check_closed(self) -> None:
        posted = [m for m in self.fake.messages(CHANNEL, top_level=True) if "Team health check ·" in m.all_text]
        if not posted:
            raise RuntimeError("the health check round did not post its results")
        answered = re.search(r"\d+ of \d+ answered", posted[-1].all_text)
        self.tell(f"health check closes: {answered.group(0) if answered else 'results'}; the distribution per "
                  "dimension, the trend and the chart go to the channel, and open the retro's thread")
    # -- the risk register ----------------------------------------------------------------------------------------
    def _risk_register(self, index: int, day: date, plan: Callable[[datetime, Callable[[], None]], None]) -> None:
        """A risk raised on the first day, rescored when the sandbox key arrives, closed once card payments work;
        another stays open into the report."""
        if index == 0:
            plan(local(day, 14, 0, BERLIN), lambda: self._raise_risk(
                LENA, "The payment provider's sandbox may not be ready in time", "4", "4", MARCUS, day + timedelta(7)))
            plan(local(day, 14, 5, BERLIN), lambda: self._raise_risk(
                LENA, "Refunds need the finance team's sign-off", "3", "3", PRIYA, day + timedelta(14)))
        if index == 3:
            plan(local(day, 10, 0, NEW_YORK), lambda: self._rescore_risk(1, MARCUS, likelihood="2"))
        if index == 7:
            plan(local(day, 16, 0, BERLIN), lambda: self._close_risk(1, LENA))

    def _raise_risk(self, person: Person, title: str, likelihood: str, impact: str, owner: Person,
                    review_on: date) -> None:
        self.command(person, "/risk", "add")
        self.submit(person, "risk.add_modal", **{
            "risk.title": {"value": title}, "risk.likelihood": {"value": likelihood},
            "risk.impact": {"value": impact}, "risk.owner": {"selected_user": owner.user_id},
            "risk.review": {"selected_date": review_on.isoformat()}})
        self.tell(f"{person.name} raises a risk (likelihood {likelihood} × impact {impact}, owner {owner.name}): "
                  f"{title}")

    def _risk_action(self, number: int, action_id: str, person: Person) -> None:
        """Post the register (its heat map in the thread) and click a button of risk `number` on it."""
        self.command(person, "/risk")
        register = [m for m in self.fake.messages(CHANNEL, top_level=True) if "Risk register" in m.all_text][-1]
        reply = self.cadence.slack.block_action(action_id, str(number), user=person.user_id, channel=CHANNEL,
                                                message_ts=register.ts, block_id=f"risk.register:{number}")
        if reply.status != 200:
            raise RuntimeError(f"a click on {action_id} answered HTTP {reply.status}")
        self.cadence.settle()

    def _rescore_risk(self, number: int, person: Person, *, likelihood: str) -> None:
        self._risk_action(number, "risk.rescore", person)
        self.submit(person, "risk.rescore_modal", **{"risk.likelihood": {"value": likelihood},
                                                     "risk.note": {"value": "the sandbox key arrived"}})
        self.tell(f"{person.name} rescores risk #{number} from the register: likelihood now {likelihood}")

    def _close_risk(self, number: int, person: Person) -> None:
        self._risk_action(number, "risk.close", person)
        self.tell(f"{person.name} closes risk #{number}: card payments work against the sandbox")

    # -- the retro ------------------------------------------------------------------------------------------------
    def retro(self) -> None:
        self.command(FACILITATOR, "/retro")
        self.submit(FACILITATOR, retro_views.START, **{
            retro_views.TITLE_BLOCK: {"value": f"{SPRINT} retro"},
            retro_views.TEMPLATE_BLOCK: {"selected_option": {"value": "well_improve_ideas"}},
            retro_views.VOTES_BLOCK: {"value": "3"},
            retro_views.OPTIONS_BLOCK: {"selected_options": [{"value": retro_views.ANONYMOUS_OPTION}]},
        })
        cards = [(column, text) for column, texts in RETRO_CARDS.items() for text in texts]
        for number, (column, text) in enumerate(cards):
            person = TEAM[number % len(TEAM)]
            self.cadence.clock.advance(timedelta(minutes=1))
            self.click(self._board(), retro_views.ADD_CARD, person)
            self.submit(person, retro_views.CARD_VIEW, **{
                retro_views.CARD_COLUMN_BLOCK: {"selected_option": {"value": str(column)}},
                retro_views.CARD_TEXT_BLOCK: {"value": text}})
        self.tell(f"retro: {len(cards)} anonymous cards from the team")
        self._advance()  # reveal
        self._advance()  # group
        self.cadence.clock.advance(timedelta(minutes=15))  # the cards are read and talked about
        self._advance()  # vote
        votes = 0
        for person in TEAM:
            buttons = self._vote_buttons()
            for message, value in self.rng.sample(buttons, 3):
                self.cadence.slack.block_action(retro_views.VOTE, value, user=person.user_id,
                                                channel=message.channel, message_ts=message.ts)
                votes += 1
            self.cadence.settle()
        self.tell(f"retro: {votes} votes")
        self.cadence.clock.advance(timedelta(minutes=5))
        self._advance()  # discuss
        discussion = [m for m in self.fake.messages(CHANNEL, thread_ts=self._board().ts)
                      if m.text.startswith("To discuss")]
        due = (LAST_DAY + timedelta(days=7)).isoformat()
        for message, (text, owner) in zip(discussion, RETRO_ACTIONS, strict=False):
            self.cadence.clock.advance(timedelta(minutes=10))
            self.click(message, retro_views.ADD_ACTION, FACILITATOR)
            self.submit(FACILITATOR, retro_views.ACTION_VIEW, **{
                retro_views.ACTION_TEXT_BLOCK: {"value": text},
                retro_views.ACTION_OWNER_BLOCK: {"selected_user": owner.user_id},
                retro_views.ACTION_DUE_BLOCK: {"selected_date": due}})
            self.tell(f"retro action item for {owner.name}: {text}")
        for _ in range(4):
            if "Closed" in self._board().all_text:
                break
            self._advance()
        self.tell("retro closed")

    def _board(self) -> Message:
        return [m for m in self.fake.messages(CHANNEL, top_level=True) if m.text.startswith("Retro “")][-1]

    def _advance(self) -> None:
        self.click(self._board(), retro_views.ADVANCE, FACILITATOR)

    def _vote_buttons(self) -> list[tuple[Message, str]]:
        return [(m, (b.get("accessory") or {})["value"]) for m in self.fake.messages(CHANNEL, thread_ts=self._board().ts)
                for b in m.blocks if (b.get("accessory") or {}).get("action_id") == retro_views.VOTE]

    # -- the sprint review -----------------------------------------------------------------------------------------
    def review(self) -> None:
        """On the last day: the product owner reviews what was finished with the team, then lena closes it."""
        self.fake.add_user(PRODUCT_OWNER.user_id, PRODUCT_OWNER.name, tz=str(BERLIN), tz_offset=3600)
        self.fake.add_channel(STAKEHOLDERS, "checkout-stakeholders")
        self.command(FACILITATOR, "/review")
        self.submit(FACILITATOR, review_views.START_MODAL, **{
            review_views.STAKEHOLDERS_BLOCK: {"selected_users": [PRODUCT_OWNER.user_id]},
            review_views.CHANNEL_BLOCK: {"selected_conversation": STAKEHOLDERS},
            review_views.NOTE_BLOCK: {"value": "Demo on the staging shop, 14:00 Berlin / 08:00 New York"}})
        stories = [m for m in self.fake.messages(CHANNEL, top_level=True) if "Presented by" in m.all_text]
        self.tell(f"lena opens the sprint review: {len(stories)} stories, nora (product owner) is invited by DM")
        for key in ("PAY-101", "PAY-103", "PAY-104", "PAY-110"):
            self.cadence.clock.advance(timedelta(minutes=4))
            self.click(self._review_story(key), review_views.ACCEPT, PRODUCT_OWNER)
        self.click(self._review_story("PAY-101"), review_views.ACCEPT, AVA)
        self.click(self._review_story("PAY-102"), review_views.NEEDS_CHANGES, PRODUCT_OWNER)
        self.submit(PRODUCT_OWNER, review_views.NOTE_MODAL,
                    **{review_views.TEXT_BLOCK: {"value": "Show which card was charged on the confirmation page"}})
        self.tell("nora accepts four stories and asks for changes to PAY-102")
        self.click(self._review_story("PAY-103"), review_views.ASK, PRODUCT_OWNER)
        self.submit(PRODUCT_OWNER, review_views.QUESTION_MODAL,
                    **{review_views.TEXT_BLOCK: {"value": "Can customers keep more than one delivery address?"}})
        [question] = self.fake.messages(CHANNEL, thread_ts=self._review_story("PAY-103").ts)
        self.cadence.clock.advance(timedelta(minutes=10))
        self.click(question, review_views.ANSWERED, MIA)
        self.tell("nora asks mia a question on PAY-103 in its thread; mia answers it")
        self.click(self._review_story("PAY-102"), review_views.FOLLOW_UP, FACILITATOR)
        self.tell("lena turns nora's note into a follow-up story for the next sprint")
        self.at(local(LAST_DAY, 15, 30, BERLIN))
        self.command(FACILITATOR, "/review", "close")
        self.tell("lena closes the review: the closing message lists the undecided stories (not finished)")

    def _review_story(self, key: str) -> Message:
        return next(m for m in self.fake.messages(CHANNEL, top_level=True)
                    if f"*{key} " in m.all_text and "Presented by" in m.all_text)

    # -- the report -----------------------------------------------------------------------------------------------
    def report(self) -> tuple[str, bytes]:
        """The sprint report as `cadence report` writes it: Markdown, and the burn-up chart."""
        with self.cadence.db.transaction() as session:
            sprint = sprints.sprint_named(session, team_id=self.fake.team_id, channel_id=CHANNEL, name=SPRINT)
            summary = sprint_figures.summary(session, sprint=sprint, now=self.cadence.clock())
        return reports.to_markdown(summary), charts.burn_up_png(summary)


STAGING = "the staging database is read-only since last night's migration"
SANDBOX = f"waiting for the payment sandbox API key from {AVA.mention}"
DESIGN = "the designs for the error states are not final"
SCRIPTED_BLOCKERS = {(JONAS, 0): SANDBOX, (AVA, 2): STAGING, (PRIYA, 5): DESIGN}
ALWAYS_ANSWERS = {(JONAS, 1), (JONAS, 2)}  # the days jonas tells the app about the sandbox key
