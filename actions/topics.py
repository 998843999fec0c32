"""One-question topics (work injury, labour dispute, mediation, family, traffic, other): a short answer with its
legal basis from the domain responses the flow spec lists for the intent (hotline/flows/flows.yaml `topics`), the
figures they quote filled from the law data, then an offer of the form or person that helps."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import disclaimer_once, latest_intent, latest_text, today
from actions.consultation_log import record_consultation
from hotline import flows


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker) or ""
        topic = flows.topic(intent)
        if topic is None:
            dispatcher.utter_message(response="utter_what_help")
            return []
        figures = flows.topic_figures(intent, today())
        events = disclaimer_once(dispatcher, tracker)
        if figures is None:  # a figure the wording quotes has no value today: a person answers instead
            dispatcher.utter_message(response="utter_topic_needs_review")
        else:
            for response in topic.responses:
                dispatcher.utter_message(response=response, **figures)
        return events + record_consultation(tracker, category=topic.category, outcome="answered",
                                            summary=f"单问：{intent}")


class ActionMaterials(Action):
    """What to bring, for the matter the question names (「离婚需要什么材料」) or the form being filled in."""

    def name(self) -> str:
        return "action_materials"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from hotline.flows.answers import materials_response

        form = (tracker.active_loop or {}).get("name")
        dispatcher.utter_message(response=materials_response(latest_text(tracker), form))
        return []
