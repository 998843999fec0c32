"""The welcome text and the three main flows every channel offers first."""
from __future__ import annotations

from bot.rasa_client import BotMessage, Button
from hotline import wording

# Payloads are Rasa intents: a press starts the flow without any NLU guesswork.
MAIN_MENU: list[Button] = [
    Button("我要讨薪", "/wage_arrears"),
    Button("法律援助", "/legal_aid"),
    Button("找法律顾问", "/find_advisor"),
]
WELCOME = wording.door("utter_door_welcome")  # every channel's first words, the web chat's too (bot/app.py)
HELP = wording.door("utter_door_help")  # domain/doors.yml


def welcome_message() -> BotMessage:
    return BotMessage(WELCOME, list(MAIN_MENU))
