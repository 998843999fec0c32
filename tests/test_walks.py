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
from tests.stack import prepared_database, running_cluster

pytestmark = pytest.mark.rasa

DOMAIN = walks.load_domain()
QUESTIONS = walks.questions(DOMAIN)
OPENERS = walks.openers()
FAILED_TEXT = DOMAIN["responses"]["utter_action_failed"][0]["text"][:12]
# Only conversations whose sender starts with "fault-" see the injected faults.
FAULTS = "validate_wage_claim_form@fault-wage,action_legal_aid_answer@fault-aid"
WALK_SEEDS = range(int(os.environ.get("HOTLINE_WALKS", "24")))
WALK_TURNS = 12


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[walks.Bot]:
    tmp: Path = tmp_path_factory.mktemp("walks")
    url = f"sqlite:///{tmp / 'walks.db'}"
    prepared_database(url, HOTLINE_VAR_DIR=str(tmp / "var"))
    with running_cluster(tmp, url, rasa_processes=1, extra_env={"HOTLINE_FAULT_ACTIONS": FAULTS,
                                                                "HOTLINE_VAR_DIR": str(tmp / "var")}) as cluster:
        yield walks.Bot(cluster.stack.rasa_url, token=cluster.stack.rasa_token)


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
def test_random_walks(bot: walks.Bot, seed: int) -> None:
    rng = random.Random(seed)
    sender = f"walk-{seed}"
    turns = walks.random_walk(bot, sender, rng, WALK_TURNS, [*OPENERS.values(), "你好", "老板欠我三个月工资"])
    failures = [p for t in turns for p in walks.problems(t, FAILED_TEXT)]
    if turns[-1].said not in walks.HANDOFF:  # a handed-off chat is the operator's (the bot is paused by design)
        failures += walks.problems(bot.say(sender, "你好"), FAILED_TEXT)
    assert not failures, f"seed {seed}: " + "\n".join(failures) + "\n" + "\n".join(
        f"> {t.said}\n< {' | '.join(t.texts)}" for t in turns)


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
