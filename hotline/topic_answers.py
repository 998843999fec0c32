"""The one filler of topic answers: each response a topic sends (flows.yaml `topics`), its {placeholders} filled
from the law data in force on the day (flows.yaml `figures`: placeholder → quote path, hotline.law.quotes).

Every figure and article a topic sentence quotes comes from one dated record, value and citation together. A
sentence that quotes a figure with no value that day, or — for a citizen — one not checked against the official
text (`verified: false`), is not sent: `utter_topic_needs_review` sends the citizen to a person instead. Operators
(the copilot) see the unchecked figure, marked 未核实. Pure: no Rasa, no web.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hotline import flows
from hotline.law.quotes import Quote, quotes
from hotline.wording import placeholders

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
        used = {name: found[name] for name in placeholders(response) if name in found}
        blocked = any(q is None or (citizen and not q.verified) for q in used.values())
        if blocked:
            if not held:
                lines.append(TopicLine(NEEDS_REVIEW))
            held = True
            continue
        shown = {name: q for name, q in used.items() if q is not None}
        values = {name: q.text + ("" if q.verified else UNVERIFIED_MARK) for name, q in shown.items()}
        lines.append(TopicLine(response, values, tuple(shown.values())))
    return lines


def citations(lines: list[TopicLine]) -> list[str]:
    """The articles the lines quote, in order, without repeats (the consultation log's legal basis)."""
    return list(dict.fromkeys(q.citation for line in lines for q in line.quotes))
