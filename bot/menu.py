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
DISCLAIMER = "这里提供的是法律信息，不是律师意见。"
WELCOME = (
    "您好！这里是城中区司法局12348法律服务助手，可以帮您：讨要工资、了解能不能申请法律援助、找到所在社区（村）的法律顾问。"
    "请直接说说您的问题，或选择下面的服务。" + DISCLAIMER
)
HELP = wording.door("utter_door_help")  # domain/doors.yml


def welcome_message() -> BotMessage:
    return BotMessage(WELCOME, list(MAIN_MENU))
