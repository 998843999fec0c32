"""The whole conversation space on one real Rasa + action server (started once for this module).

Generated from the domain and the rules (tests/walks.py): every button and a typed answer of each kind at every
question of every form must get an answer (not the apology of actions/safety.py, no unfilled template) and leave
the chat usable (the next message answers). Seeded random walks over buttons and typed answers. An action made to
raise on purpose (HOTLINE_FAULT_ACTIONS) must not wedge the conversation.
"""
from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import walks
from tests.door import Door, door, hours_file, wire
from tests.stack import Stack, prepared_database, running_cluster

pytestmark = pytest.mark.rasa

DOMAIN = walks.load_domain()
QUESTIONS = walks.questions(DOMAIN)
OPENERS = walks.openers()
FAILED_TEXT = DOMAIN["responses"]["utter_action_failed"][0]["text"][:12]
# Only conversations whose sender starts with "fault-" see the injected faults.
FAULTS = "validate_wage_claim_form@fault-wage,action_legal_aid_answer@fault-aid"
WALK_SEEDS = range(int(os.environ.get("HOTLINE_WALKS", "24")))
WALK_TURNS = 12
CROSSED: dict[int, int] = {}  # seed → handoffs its random walk crossed


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    """The stack, and the office-hours file both the action server and the web app read (rewritten to switch)."""
    tmp: Path = tmp_path_factory.mktemp("walks")
    url = f"sqlite:///{tmp / 'walks.db'}"
    hours = hours_file(tmp, "open")
    prepared_database(url, HOTLINE_VAR_DIR=str(tmp / "var"))
    with running_cluster(tmp, url, rasa_processes=1, extra_env={"HOTLINE_FAULT_ACTIONS": FAULTS,
                                                                "HOTLINE_VAR_DIR": str(tmp / "var"),
                                                                "HOTLINE_OFFICE_HOURS_FILE": str(hours)}) as c:
        yield c.stack, hours


@pytest.fixture(scope="module")
def bot(cluster: tuple[Stack, Path]) -> walks.Bot:
    return walks.Bot(cluster[0].rasa_url, token=cluster[0].rasa_token)


@pytest.fixture(scope="module")
def web_door(cluster: tuple[Stack, Path]) -> Iterator[Door]:
    """The web app, started once for the module, with one operator."""
    with pytest.MonkeyPatch.context() as mp, door(mp, *cluster) as d:
        yield d


@pytest.fixture
def walker(web_door: Door, bot: walks.Bot, cluster: tuple[Stack, Path],
           monkeypatch: pytest.MonkeyPatch) -> walks.DoorWalker:
    """A citizen at the door; the web app pointed at the stack again (each test gets its own settings)."""
    wire(monkeypatch, *cluster)
    return walks.DoorWalker(web_door, bot)


def set_hours(hours: Path, mode: str) -> None:
    """Office hours open or closed from now on, for the action server and the web app alike (read on change)."""
    hours_file(hours.parent, mode).replace(hours)


def test_the_space_is_generated_from_the_domain() -> None:
    forms = {q.form for q in QUESTIONS}
    assert {"wage_claim_form", "legal_aid_form", "advisor_form"} <= forms
    assert set(OPENERS) >= forms, "every form has a rule that starts it"
    assert sum(len(q.buttons) for q in QUESTIONS) >= 20
    assert walks.Button("都不是", "/deny") in next(q for q in QUESTIONS if q.slot == "groups").buttons


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q.form}.{q.slot}")
def test_every_answer_to_every_question(bot: walks.Bot, question: walks.Question) -> None:
    """Walk to the question once, then branch (a clone of the conversation) for each answer."""
    base = walks.walk_to(bot, f"q-{question.form}-{question.slot}", OPENERS[question.form], question.form,
                         question.slot)
    if base is None:
        pytest.skip(f"no answering policy makes {question.form} ask {question.slot}")
    failures: list[str] = []
    for n, answer in enumerate(walks.answers_for(question)):
        sender = bot.clone(base)
        turn = bot.say(sender, answer)
        failures += walks.problems(turn, FAILED_TEXT)
        probe = bot.say(sender, walks.PROBES[n % len(walks.PROBES)])
        failures += [f"after {answer!r}: {p}" for p in walks.problems(probe, FAILED_TEXT)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("seed", WALK_SEEDS)
def test_random_walks(walker: walks.DoorWalker, cluster: tuple[Stack, Path], seed: int) -> None:
    """Through the door, so a request for a person (typed now and then, or a tapped 转人工) crosses a handoff: in
    office hours or not, with the operator on shift or not (by the seed), ended a random way, then the plain
    question must get its own answer. 0 stuck."""
    rng = random.Random(seed)
    set_hours(cluster[1], "open" if seed % 2 else "closed")
    walker.door.on_shift() if seed // 2 % 2 else walker.door.off_shift()
    sender = f"walk-{seed}"
    try:
        said = [o for o in OPENERS.values() if not o.startswith(walks.AFTER)]
        turns = walks.random_walk(walker, sender, rng, WALK_TURNS, [*said, "你好", "老板欠我三个月工资"])
    finally:
        walker.door.on_shift()  # the operator's API calls of the next walk need a live token
    failures = [p for t in turns for p in walks.problems(t, FAILED_TEXT) if "NO HANDOFF" not in p]
    failures += walks.crossing_problems(turns, walker.expected)
    CROSSED[seed] = sum(t.said.startswith(walks.PLAIN_QUESTION + " (after") for t in turns)
    failures += walks.problems(walker.say(sender, "你好"), FAILED_TEXT)
    assert not failures, f"seed {seed}: " + "\n".join(failures) + "\n" + "\n".join(
        f"> {t.said}\n< {' | '.join(t.texts)}" for t in turns)


def test_the_random_walks_crossed_handoffs() -> None:
    """The seeded walks above asked for a person now and then: most seeds' walks crossed at least one handoff."""
    if len(CROSSED) < len(WALK_SEEDS):
        pytest.skip("the random walks did not all run in this session")
    print(f"handoffs crossed by seed: {CROSSED}")
    assert sum(1 for n in CROSSED.values() if n) >= len(WALK_SEEDS) // 3, CROSSED


@pytest.mark.parametrize("ending", walks.ENDINGS)
@pytest.mark.parametrize("hours", ["open", "closed"])
def test_a_handoff_after_an_answer_ends_every_way(walker: walks.DoorWalker, cluster: tuple[Stack, Path],
                                                   ending: str, hours: str) -> None:
    set_hours(cluster[1], hours)
    sender = f"after-answer-{ending}-{hours}"
    first = walker.say(sender, "没签劳动合同，老板不给加班费")
    assert not walks.problems(first, FAILED_TEXT)
    turns = walker.cross(sender, ending)
    assert not walks.crossing_problems(turns, walker.expected), [(t.said, t.texts) for t in turns]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q.form}.{q.slot}")
def test_a_handoff_at_every_question(walker: walks.DoorWalker, cluster: tuple[Stack, Path],
                                     question: walks.Question) -> None:
    """转人工 while the form asks this question, two endings each (rotating over the questions), then the plain
    question; the facts given before the handoff stay."""
    n = QUESTIONS.index(question)
    if question.form not in OPENERS:
        pytest.skip(f"no rule starts {question.form}")
    set_hours(cluster[1], "open" if n % 2 else "closed")
    base = walks.walk_to(walker, f"h-{question.form}-{question.slot}", OPENERS[question.form], question.form,
                         question.slot)
    if base is None:
        pytest.skip(f"no answering policy makes {question.form} ask {question.slot}")
    asked = {q.slot for q in QUESTIONS}
    kept = {k: v for k, v in walker.tracker(base)["slots"].items() if k in asked and v is not None}
    failures: list[str] = []
    for ending in (walks.ENDINGS[n % len(walks.ENDINGS)], walks.ENDINGS[(n + 2) % len(walks.ENDINGS)]):
        sender = walker.clone(base)
        turns = walker.cross(sender, ending)
        failures += walks.crossing_problems(turns, walker.expected)
        slots = walker.tracker(sender)["slots"]
        failures += [f"after {ending}: {k} lost" for k, v in kept.items() if slots.get(k) != v]
    assert not failures, "\n".join(failures)


def test_the_blocker_path_ends_in_a_verdict(bot: walks.Bot) -> None:
    """我想申请法律援助 → 讨薪 → 不是 → 都不是 (typed, then tapped): a legal-aid verdict, then a working chat."""
    typed = ("我想申请法律援助", "讨薪", "不是", "都不是")
    tapped = ("/legal_aid", '/inform{"matter": "wage_arrears"}', "/deny", "/deny")
    for sender, path in (("blocker-typed", typed), ("blocker-tapped", tapped)):
        turns = [bot.say(sender, t) for t in path]
        # The means test may still ask its questions: answer them until the verdict.
        for answer in ("两千", "4口人", "没有", "沿江街道", "两千", "4口人"):
            if any(t.startswith("结论") for t in turns[-1].texts):
                break
            turns.append(bot.say(sender, answer))
        texts = [x for t in turns for x in t.texts]
        assert any(x.startswith("结论") for x in texts), texts
        assert not [p for t in turns for p in walks.problems(t, FAILED_TEXT)]
        assert walks.problems(bot.say(sender, "你好"), FAILED_TEXT) == []


def test_an_action_that_raises_does_not_wedge_the_chat(bot: walks.Bot) -> None:
    sender = "fault-wage-1"
    turn = bot.say(sender, "/wage_arrears")  # payloads: this is about the guard, not the NLU
    assert any(FAILED_TEXT in t for t in turn.texts), turn.texts
    assert {b.title for b in turn.buttons} >= {"重新开始", "转人工"}
    loop, asked = bot.requested_slot(sender)
    assert (loop, asked) == (None, None)  # the failing form is deactivated
    for text in ("/greet", "/restart", "/request_human"):  # the handoff last: it pauses the bot by design
        follow = bot.say(sender, text)
        assert any(t.strip() for t in follow.texts), f"nothing after {text!r}"
    # The final answer raising: the apology, then a working chat.
    sender = "fault-aid-1"
    bot.say(sender, "/legal_aid")
    texts: list[str] = []
    for answer in ('/inform{"matter": "wage_arrears"}', "/affirm", '/inform{"street": "沿江街道"}'):
        texts += bot.say(sender, answer).texts
    assert any(FAILED_TEXT in t for t in texts), texts
    assert walks.problems(bot.say(sender, "/greet"), FAILED_TEXT) == []
