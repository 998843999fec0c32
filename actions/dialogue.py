"""Conversation housekeeping: goodbye (logs a begun matter), stopping or pausing a form, and the fallback's
"did you mean"."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.consultation_log import record_open_topic
from hotline.codes import INTENT_LABELS

# What 算了 forgets: every slot a form asks (from the flow spec) but the street, and the forms' bookkeeping.

# What the user is told when another matter pauses a running form (its answers stay in the slots).
PAUSE_RESPONSES = {"wage_claim_form": "utter_pause_wage_claim", "legal_aid_form": "utter_pause_legal_aid",
                   "advisor_form": "utter_pause_advisor"}



class ActionGoodbye(Action):
    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Says goodbye; a matter begun and left unlogged (a form stopped midway) is logged now."""
        dispatcher.utter_message(response="utter_goodbye")
        return record_open_topic(tracker)


class ActionResetForm(Action):
    def name(self) -> str:
        return "action_reset_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """After 算了: the form stops, and what the citizen said stays — coming back to the matter later (「那我还是
        问回工资的事」) asks only what is still missing, as the flow spec's required slots do for any filled slot."""
        dispatcher.utter_message(response="utter_stopped")
        return [SlotSet("requested_slot", None)]


class ActionPauseForm(Action):
    def name(self) -> str:
        return "action_pause_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Says the running form is paused and how to come back; remembers which, so that coming back greets the user
        with 「接着刚才的」 instead of the form's first-time introduction."""
        form = (tracker.active_loop or {}).get("name")
        if form not in PAUSE_RESPONSES:
            return []
        dispatcher.utter_message(response=PAUSE_RESPONSES[form])
        return [SlotSet("paused_form", form)]


# Intents that are answers or small talk, not something to ask "did you mean" about.
NOT_A_QUESTION = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "inform", "out_of_scope"})


class ActionDefaultAskAffirmation(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """"您是想问……吗？" for the best non-fallback intent, with 是/都不是 buttons (two-stage fallback)."""
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        best = next((r["name"] for r in ranking if r.get("name") not in ("nlu_fallback", None)), None)
        # 「您是想问"补充情况"吗」 makes no sense to a citizen: only a matter or a request is worth asking about.
        if best is None or best in NOT_A_QUESTION:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        buttons = [{"title": "是的", "payload": f"/{best}"}, {"title": "都不是", "payload": "/out_of_scope"}]
        dispatcher.utter_message(response="utter_ask_affirmation", label=INTENT_LABELS.get(best, best), buttons=buttons)
        return []
