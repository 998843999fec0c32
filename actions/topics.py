"""One-question topics (work injury, labour dispute, mediation, family, traffic, other): a short answer with its
legal basis from the domain responses the flow spec lists for the intent (hotline/flows/flows.yaml `topics`), the
figures and articles they quote filled from the law data (hotline.topic_answers), then an offer of the form or person
that helps."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import disclaimer_once, latest_intent, latest_text, today
from actions.consultation_log import record_consultation
from hotline import flows
from hotline.topic_answers import TopicLine, citations, materials_line, response_line, topic_lines


def _say(dispatcher: CollectingDispatcher, line: TopicLine) -> None:
    """The line's response with its placeholders' values (utter_message types its keywords Any, not str)."""
    values: Mapping[str, Any] = line.values
    dispatcher.utter_message(response=line.response, **values)


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker) or ""
        topic = flows.topic(intent)
        if topic is None:
            dispatcher.utter_message(response="utter_what_help")
            return []
        # The one filler (hotline.topic_answers): figures and articles from the law data in force today; a line
        # quoting a figure missing or unverified that day becomes utter_topic_needs_review.
        lines = topic_lines(intent, today())
        events = disclaimer_once(dispatcher, tracker)
        for line in lines:
            _say(dispatcher, line)
        # The flow spec's category for these words, as the copilot logs it (hotline.flows.category_of).
        category = flows.category_of(intent, latest_text(tracker)) or topic.category
        return events + record_consultation(tracker, category=category, outcome="answered",
                                            legal_basis="；".join(citations(lines)) or None,
                                            summary=f"单问：{intent}")


class ActionMaterials(Action):
    """What to bring, for the matter the question names (「离婚需要什么材料」) or the form being filled in."""

    def name(self) -> str:
        return "action_materials"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from hotline.flows.answers import materials_response

        form = (tracker.active_loop or {}).get("name")
        line = materials_line(materials_response(latest_text(tracker), form), today())
        _say(dispatcher, line)
        return []


class ActionLegalAidInWageForm(Action):
    """「能申请法律援助吗」 asked inside the wage form: the answer with its article from the law data (the domain's
    condition on migrant_worker picks the variation), then back to the same question."""

    def name(self) -> str:
        return "action_legal_aid_in_wage_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        _say(dispatcher, response_line("utter_legal_aid_in_wage_form", today()))
        return []
