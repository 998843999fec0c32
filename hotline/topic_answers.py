"""The one filler of topic answers: each response a topic sends (flows.yaml `topics`), its {placeholders} filled
from the law data in force on the day (flows.yaml `figures`: placeholder → quote path, hotline.law.quotes).

Every figure and article a topic sentence quotes comes from one dated record, value and citation together. A
sentence that quotes a figure with no value that day, or — for a citizen — one not checked against the official
text (`verified: false`), is not sent: `utter_topic_needs_review` sends the citizen to a person instead. Operators
(the copilot) see the unchecked figure, marked 未核实. A `{basis}` placeholder is the article a line rests on where
the line stands without it (a list of what to bring): worded by `utter_basis_line`, left out for a citizen when
unverified or missing. The same topic's figures fill its `materials` response (action_materials). Pure: no Rasa,
no web.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hotline import flows
from hotline.law.quotes import Quote, quotes
from hotline.wording import placeholders, text

BASIS = "basis"  # an optional citation placeholder (see the module's docstring)

NEEDS_REVIEW = "utter_topic_needs_review"
UNVERIFIED_MARK = "（未核实）"


@dataclass(frozen=True)
class TopicLine:
    """One response to send, with the values of its placeholders and the quotes they came from."""

    response: str
    values: dict[str, str] = field(default_factory=dict)
    quotes: tuple[Quote, ...] = ()


def topic_lines(intent: str | None, on: dt.date, *, citizen: bool = True) -> list[TopicLine]:
    """The lines answering a topic on `on`, in order; [] when the intent is no topic. A line that cannot be sent
    as fact is replaced, once, by `utter_topic_needs_review` where it stood."""
    topic = flows.topic(intent)
    if topic is None:
        return []
    found = quotes(dict(topic.figures), on)
    lines: list[TopicLine] = []
    held = False
    for response in topic.responses:
        line = _line(response, found, citizen)
        if line is None:
            if not held:
                lines.append(TopicLine(NEEDS_REVIEW))
            held = True
            continue
        lines.append(line)
    return lines


def materials_line(response: str, on: dt.date, *, citizen: bool = True) -> TopicLine:
    """A list of what to bring (flows.yaml `materials`), its {basis} from the figures of the topic naming it."""
    topic = next((t for t in flows.spec().topics.values() if t.materials == response), None)
    found = quotes(dict(topic.figures), on) if topic is not None else {}
    line = _line(response, found, citizen)
    return line if line is not None else TopicLine(NEEDS_REVIEW)


def response_line(response: str, on: dt.date, *, citizen: bool = True) -> TopicLine:
    """A response sent outside a topic (flows.yaml `response_figures`), its figures filled the same way."""
    found = quotes(dict(flows.spec().response_figures.get(response, ())), on)
    line = _line(response, found, citizen)
    return line if line is not None else TopicLine(NEEDS_REVIEW)


def _line(response: str, found: dict[str, Quote | None], citizen: bool) -> TopicLine | None:
    """The response with its placeholders filled, or None when a figure it states cannot be sent as fact."""
    used = {name: found.get(name) for name in placeholders(response)}
    if any(name != BASIS and (q is None or (citizen and not q.verified)) for name, q in used.items()):
        return None
    values: dict[str, str] = {}
    shown: list[Quote] = []
    for name, q in used.items():
        if q is None or (citizen and not q.verified):  # only the optional basis gets here: left out
            values[name] = ""
            continue
        said = q.text + ("" if q.verified else UNVERIFIED_MARK)
        values[name] = text("utter_basis_line", citation=said) if name == BASIS else said
        shown.append(q)
    return TopicLine(response, values, tuple(shown))


def citations(lines: list[TopicLine]) -> list[str]:
    """The articles the lines quote, in order, without repeats (the consultation log's legal basis)."""
    return list(dict.fromkeys(q.citation for line in lines for q in line.quotes))
