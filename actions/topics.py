"""One-question topics (work injury, labour dispute, mediation, family, traffic, other): a short answer with its
legal basis from the domain's utter_topic_<intent> responses, then an offer of the form or person that helps."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import disclaimer_once, latest_intent
from actions.consultation_log import record_consultation

# intent → (responses in order, consultation category)
TOPICS: dict[str, tuple[tuple[str, ...], str]] = {
    "work_injury": (("utter_topic_work_injury", "utter_topic_work_injury_aid"), "work_injury"),
    "labor_dispute": (("utter_topic_labor_dispute", "utter_topic_labor_dispute_aid"), "labor_dispute"),
    "mediation": (("utter_topic_mediation", "utter_topic_mediation_effect"), "neighbor_dispute"),
    "family_dispute": (("utter_topic_family_dispute", "utter_topic_family_dispute_next"), "family_dispute"),
    "traffic_accident": (("utter_topic_traffic_accident",), "traffic_accident"),
    "other_legal_question": (("utter_topic_other_legal_question", "utter_topic_other_legal_question_next"), "other"),
}


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker) or ""
        if intent not in TOPICS:
            dispatcher.utter_message(response="utter_what_help")
            return []
        responses, category = TOPICS[intent]
        events = disclaimer_once(dispatcher, tracker)
        for response in responses:
            dispatcher.utter_message(response=response)
        return events + record_consultation(tracker, category=category, outcome="answered",
                                            summary=f"单问：{intent}")
