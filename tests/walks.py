"""The conversation space, generated from the domain and the rules, and a client that walks it on a real Rasa.

What is walked comes from the files, so a new form, slot or button is covered without anyone writing a test:
- forms and their questions: the flow spec's slots (hotline/flows) and `forms.*.required_slots` of the merged
  `domain/*.yml`; each question is the response `utter_ask_<slot>` with its buttons;
- how a form starts: the rules whose first step is an intent followed by `action: <form>` (sent as `/intent`);
- typed answers of each kind a citizen gives (yes, no, 不知道, 跳过, a number, a place, gibberish) to every question.
The flow spec (`hotline/flows/`) gives the forms' slots in order; the domain adds what the spec lacks.
"""
from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent

# One typed answer of each kind, as citizens write them.
TYPED: dict[str, str] = {
    "yes": "是的",
    "no": "不是",
    "dont_know": "不知道",
    "skip": "跳过",
    "number": "3",
    "place": "沿江街道",
    "gibberish": "asdf ?? 哈哈",
}
# A valid typed answer for questions without buttons (the walk needs one to reach the next question). A slot not
# listed gets 跳过 (every form honours it) and, failing that, its first button.
GOOD: dict[str, str] = {
    "employer": "恒通建筑公司",
    "amount": "两万三",
    "people_count": "5个人",
    "months_owed": "3个月",
    "phone": "13977212345",
    "monthly_income": "两千",
    "household_size": "4口人",
    "community": "不知道",
    "street": "沿江街道",
    # issue 23's questions asked only where they change the advice
    "end_date": "11个月前",  # a deadline a month away: the last demand is asked too
    "last_demand_date": "没要过",
    "months_worked": "8个月",
    "own_monthly_income": "八百",
}
# Follow-up after an answer: the chat must still answer (it is never wedged).
PROBES = ("你好", "转人工", "我想申请法律援助")
# After these the bot is paused on purpose (action_handoff: an operator answers), so a walk ends there.
HANDOFF = ("/request_human", "转人工")
# Text that means an action raised (actions/safety.py), and the marks of an unfilled template.
_UNFILLED = re.compile(r"\{[a-z_]+\}")


def load_domain() -> dict[str, Any]:
    merged: dict[str, Any] = {"responses": {}, "forms": {}, "slots": {}}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in merged:
            merged[key].update(data.get(key) or {})
    return merged


def load_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        rules.extend((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or [])
    return rules


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Question:
    form: str
    slot: str
    buttons: tuple[Button, ...]


def buttons_of(response: list[dict[str, Any]]) -> tuple[Button, ...]:
    out: list[Button] = []
    for variant in response:
        for b in variant.get("buttons") or []:
            button = Button(str(b["title"]), str(b["payload"]))
            if button not in out:
                out.append(button)
    return tuple(out)


def sendable(button: Button) -> bool:
    """Links (tel:, http) are opened by the channel, not sent to the bot."""
    return not re.match(r"^(tel|https?):", button.payload)


def questions(domain: dict[str, Any] | None = None) -> list[Question]:
    """Every question of every form: the flow spec's slots in order (hotline/flows), then any slot a domain form
    lists that the spec does not; the question and its buttons from the domain's utter_ask_<slot>."""
    domain = domain or load_domain()
    slots: dict[str, list[str]] = {}
    try:
        from hotline import flows

        for f in flows.flows():
            slots.setdefault(f.form, []).extend(s.name for s in f.slots)
    except ImportError:  # no flow spec: the domain's forms alone
        pass
    for form, spec in domain["forms"].items():
        known = slots.setdefault(form, [])
        known.extend(s for s in spec.get("required_slots") or [] if s not in known)
    return [Question(form, slot, buttons_of(domain["responses"].get(f"utter_ask_{slot}") or []))
            for form, names in slots.items() for slot in names]


AFTER = "after:"


def openers(rules: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """form → the message that starts it: the intent of an unconditional rule that runs the form; for a form offered
    when another one ends (the draft papers after the wage answer: `action: X`, `intent: I`, …, the form), the
    opener 「after:<that form>:/I」 — walk_to finishes that form first, then says /I."""
    rules = rules or load_rules()
    out: dict[str, str] = {}
    for rule in rules:
        steps = rule.get("steps") or []
        if rule.get("condition") or not steps or "intent" not in steps[0]:
            continue
        for step in steps[1:]:
            action = step.get("action", "")
            if action.endswith("_form") and action not in out:
                out[action] = "/" + steps[0]["intent"]
    for rule in rules:
        steps = rule.get("steps") or []
        if rule.get("condition") or len(steps) < 3 or "action" not in steps[0] or "intent" not in steps[1]:
            continue
        ender = steps[0]["action"]
        # The form whose "done" rule runs the action this rule follows (its condition names the form).
        before = next((c["active_loop"] for r in rules for c in r.get("condition") or []
                       if c.get("active_loop") and ender in [x.get("action") for x in r.get("steps") or []]), None)
        for step in steps[2:]:
            action = step.get("action", "")
            if action.endswith("_form") and action not in out and before in out:
                out[action] = f"{AFTER}{before}:/{steps[1]['intent']}"
    return out


def open_form(bot: Bot, conversation: str, opener: str, policy: str, limit: int = 25) -> None:
    """Say the opener; for an `after:` opener, first walk the form it follows to its end."""
    if not opener.startswith(AFTER):
        bot.say(conversation, opener)
        return
    before, intent = opener.removeprefix(AFTER).split(":", 1)
    bot.say(conversation, openers()[before])
    known = {q.slot: q for q in questions() if q.form == before}
    for _ in range(limit):
        loop, asked = bot.requested_slot(conversation)
        if loop != before or asked is None:
            break
        bot.say(conversation, good_answer(known.get(asked, Question(before, asked, ())), policy))
    bot.say(conversation, intent)


# How the walker answers the questions on its way to a target question: each policy opens other branches
# (「是农民工」 skips the means test, 「不是」 asks it; 「留」 asks the phone, 「不留」 does not).
POLICIES = ("first", "last", "typed")


def good_answer(question: Question, policy: str = "first") -> str:
    buttons = [b for b in question.buttons if sendable(b)]
    if policy == "last" and buttons:
        return buttons[-1].payload
    if question.slot in GOOD:
        return GOOD[question.slot]
    if policy == "typed" or not buttons:
        return TYPED["skip"]
    return buttons[0].payload


@dataclass
class Turn:
    said: str
    messages: list[dict[str, Any]]

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.messages]

    @property
    def buttons(self) -> list[Button]:
        return [Button(str(b.get("title")), str(b.get("payload"))) for m in self.messages
                for b in m.get("buttons") or []]


@dataclass
class Bot:
    """The REST channel and the tracker API of one Rasa server."""
    rasa_url: str
    token: str | None = None
    failed_text: str = ""
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    def say(self, sender: str, text: str) -> Turn:
        r = self.client.post(f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        r.raise_for_status()
        return Turn(text, r.json())

    def tracker(self, sender: str) -> dict[str, Any]:
        r = self.client.get(f"{self.rasa_url}/conversations/{sender}/tracker", params=self._params())
        r.raise_for_status()
        return r.json()

    def requested_slot(self, sender: str) -> tuple[str | None, str | None]:
        t = self.tracker(sender)
        return (t.get("active_loop") or {}).get("name"), t["slots"].get("requested_slot")

    def clone(self, source: str, target: str | None = None) -> str:
        """A new conversation in exactly the state of `source` (its events replayed): branches without re-walking."""
        events = [_replayable(e) for e in self.tracker(source)["events"]]
        target = target or f"{source}-{uuid.uuid4().hex[:8]}"
        r = self.client.put(f"{self.rasa_url}/conversations/{target}/tracker/events", params=self._params(),
                            content=json.dumps(events), headers={"Content-Type": "application/json"})
        r.raise_for_status()
        return target


def _replayable(event: dict[str, Any]) -> dict[str, Any]:
    """An event as Rasa's PUT /tracker/events schema accepts it: a message no intent was found for has its empty
    intent left out (GET gives `{"name": null}`, PUT wants a string)."""
    parse = event.get("parse_data")
    if event.get("event") != "user" or not isinstance(parse, dict):
        return event
    parse = dict(parse)
    if not (parse.get("intent") or {}).get("name"):
        parse.pop("intent", None)
    parse["intent_ranking"] = [r for r in parse.get("intent_ranking") or [] if r.get("name")]
    return {**event, "parse_data": parse}


def problems(turn: Turn, failed_text: str) -> list[str]:
    """What is wrong with one answer: nothing said, an action raised, a template left unfilled."""
    found = []
    if not any(t.strip() for t in turn.texts) and not turn.buttons:
        found.append(f"no answer to {turn.said!r}")
    for text in turn.texts:
        if failed_text and failed_text in text:
            found.append(f"an action raised on {turn.said!r}")
        if _UNFILLED.search(text):
            found.append(f"unfilled template after {turn.said!r}: {text}")
    return found


def walk_to(bot: Bot, sender: str, opener: str, form: str, slot: str, limit: int = 25) -> str | None:
    """Start `form` and answer its questions until it asks `slot`, trying each answering policy in a fresh
    conversation; the sender id that got there, or None when no policy reaches the question."""
    known = {q.slot: q for q in questions() if q.form == form}
    for policy in POLICIES:
        conversation = f"{sender}-{policy}"
        open_form(bot, conversation, opener, policy)
        for _ in range(limit):
            loop, asked = bot.requested_slot(conversation)
            if loop != form or asked is None:
                break
            if asked == slot:
                return conversation
            bot.say(conversation, good_answer(known.get(asked, Question(form, asked, ())), policy))
    return None


def answers_for(question: Question) -> list[str]:
    """Every sendable button's payload and one typed answer of each kind."""
    return [b.payload for b in question.buttons if sendable(b)] + list(TYPED.values())


def random_walk(bot: Any, sender: str, rng: random.Random, turns: int, openers_: list[str]) -> list[Turn]:
    """Tap a button of the last answer (70 %) or type an answer of a random kind; restart from an opener now and
    then; ask for a person now and then. Returns every turn so the caller can check each one.

    On a `DoorWalker` a request for a person crosses the handoff — a random ending, then the plain question, whose
    answer the caller checks (`crossing_problems`) — and the walk goes on; on a bare `Bot` the walk ends there (the
    bot is paused by design and only the web app ends a handoff)."""
    out = [bot.say(sender, rng.choice(openers_))]
    for _ in range(turns - 1):
        buttons = [b for b in out[-1].buttons if sendable(b)]
        roll = rng.random()
        if roll < 0.08:
            text = "转人工"
        elif buttons and roll < 0.7:
            text = rng.choice(buttons).payload
        elif roll < 0.93:
            text = rng.choice([*TYPED.values(), *GOOD.values()])
        else:
            text = rng.choice(openers_)
        out.append(bot.say(sender, text))
        if text in HANDOFF or any(h in " ".join(out[-1].texts) for h in QUEUED_MARKS):
            if not isinstance(bot, DoorWalker):
                break
            out += bot.cross(sender, rng.choice(ENDINGS), rng)
    return out


# --- walks that cross a handoff (issue 21) -----------------------------------------------------------------------
# After a person has helped the bot must help again: every way a handoff ends, then a plain question that must get its
# own answer (not 「没看懂」, not a new handoff). The endings, as they happen on a shift:
ENDINGS = (
    "operator_closes",              # an operator closes it without a word (answered on the phone, say)
    "operator_replies_and_closes",  # takes it, replies, closes
    "citizen_cancels",              # 「返回智能助手」 while it waits
    "citizen_back_while_taken",     # 「返回智能助手」 while a person has it
    "timeout",                      # nobody speaks in it for longer than the idle limit
)
PLAIN_QUESTION = "工伤要怎么认定"
# What the bot says when it queued a handoff (action_handoff): a tapped 转人工 button or a typed request for a person.
QUEUED_MARKS = ("拨打12348法律服务热线",)


def plain_answer(domain: dict[str, Any] | None = None) -> str:
    """The words the plain question's answer must hold: utter_topic_work_injury up to its first figure."""
    domain = domain or load_domain()
    return str(domain["responses"]["utter_topic_work_injury"][0]["text"]).split("{", 1)[0]


@dataclass
class DoorWalker:
    """A citizen at the web app's door (tests/door.py: /api/chat, the handoff rows, the operator's API) walking the
    same space as `Bot`, so a walk can cross a handoff the way a shift ends it. Conversations are named by the raw
    web-chat id; Rasa's own (web:<hash>) is `conversation(raw)`."""

    door: Any  # tests.door.Door
    rasa: Bot
    expected: str = field(default_factory=plain_answer)

    def conversation(self, raw: str) -> str:
        return self.door.conversation(raw)

    def say(self, raw: str, text: str) -> Turn:
        return Turn(text, self.door.chat(raw, text))

    def tracker(self, raw: str) -> dict[str, Any]:
        return self.rasa.tracker(self.conversation(raw))

    def requested_slot(self, raw: str) -> tuple[str | None, str | None]:
        return self.rasa.requested_slot(self.conversation(raw))

    def clone(self, raw: str) -> str:
        target = f"{raw}-{uuid.uuid4().hex[:8]}"
        self.rasa.clone(self.conversation(raw), self.conversation(target))
        return target

    def cross(self, raw: str, ending: str, rng: random.Random | None = None) -> list[Turn]:
        """Make sure a handoff is open (say 转人工 unless one is), the citizen writes to the queue, the handoff ends
        by `ending`, then the plain question. The turns, the last one the probe."""
        turns: list[Turn] = []
        if not self._open(raw):
            turns.append(self.say(raw, "转人工"))
        before = len(self.door.handoffs(raw))
        handoff = self._open(raw)
        if handoff is None:
            return [*turns, Turn("（转人工）", [{"text": "NO HANDOFF QUEUED"}])]
        # The citizen writes to the queue meanwhile (a number is a call-back request after hours, which keeps the
        # handoff from timing out: not for that ending).
        words = ("我在中南街道", "有人吗") if ending == "timeout" else ("我在中南街道", "有人吗", "13977212345")
        turns.append(self.say(raw, rng.choice(words) if rng else words[0]))
        if ending in ("operator_closes", "operator_replies_and_closes", "citizen_back_while_taken"):
            self.door.on_shift()  # queued with nobody on shift, perhaps: an operator comes to it
        if ending == "operator_closes":
            self.door.status(handoff.id, "closed")
        elif ending == "operator_replies_and_closes":
            self.door.status(handoff.id, "taken")
            self.door.reply(handoff.id, "您好，我是值班人员，已经帮您记下了。")
            self.door.status(handoff.id, "closed")
        elif ending == "citizen_cancels":
            turns.append(self.say(raw, "返回智能助手"))
        elif ending == "citizen_back_while_taken":
            self.door.status(handoff.id, "taken")
            turns.append(self.say(raw, "返回智能助手"))
        elif ending == "timeout":
            self.door.age(handoff.id, hours=25)
        else:
            raise ValueError(ending)
        probe = self.say(raw, PLAIN_QUESTION)
        probe.said = f"{PLAIN_QUESTION} (after {ending})"
        new = len(self.door.handoffs(raw)) - before
        if new:
            probe.messages.append({"text": f"NEW HANDOFF QUEUED ({new})"})
        return [*turns, probe]

    def _open(self, raw: str) -> Any:
        rows = [h for h in self.door.handoffs(raw) if h.status != "closed"]
        return rows[-1] if rows else None


def crossing_problems(turns: list[Turn], expected: str) -> list[str]:
    """Every probe after a crossing must get the plain question's own answer (a stuck conversation otherwise)."""
    found = []
    for t in turns:
        if t.said.startswith(PLAIN_QUESTION + " (after"):
            text = " ".join(t.texts)
            if expected not in text or "NEW HANDOFF" in text:
                found.append(f"stuck: {t.said!r} got {text[:160]!r}")
        elif any("NO HANDOFF QUEUED" in x for x in t.texts):
            found.append("转人工 queued no handoff")
    return found
