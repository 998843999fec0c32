"""A wage claim walked through the door (bot/rasa_client.forward_to_rasa) against real Rasa processes, answering
whatever the form asks, as a citizen types it. The fault and cluster tests compare a walk that suffers a fault
with one that does not: same facts, same logged row."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from bot.rasa_client import BotMessage, forward_to_rasa
from tests.stack import Stack

OPENING = "老板欠我们工钱，包工头跑了，我们想讨薪"
# What a citizen types when each slot is asked; a slot not listed here is skipped (跳过 drops the question).
ANSWERS = {
    "employer": "包工头老李",
    "amount": "三万五",
    "people_count": "12个人",
    "months_owed": "半年",
    "employment_ended": "是的",
    "has_contract": "没有",
    "evidence": "有欠条和微信聊天记录",
    "street": "水上",
    "community": "水上社区",
    "consent_phone": "不用了",
    "phone": "跳过",
    "migrant_worker": "是的",
    "construction": "是的",
}


def answer_for(slot: str) -> str:
    return ANSWERS.get(slot, "跳过")


@dataclass
class Walk:
    stack: Stack
    sender: str  # the raw chat id; Rasa sees web:<hash>
    conversation: str
    asked: list[str] = field(default_factory=list)
    replies: list[BotMessage] = field(default_factory=list)

    def requested_slot(self) -> str | None:
        return self.stack.tracker(self.conversation)["slots"].get("requested_slot")

    def slots(self) -> dict:
        return self.stack.tracker(self.conversation)["slots"]

    async def say(self, message: str) -> list[BotMessage]:
        out = await forward_to_rasa(self.sender, message, "web")
        self.replies += out
        return out

    async def answer_next(self) -> str | None:
        """Answer the slot the form asks for; the slot, or None when no form is asking."""
        slot = self.requested_slot()
        if slot is not None:
            self.asked.append(slot)
            await self.say(answer_for(slot))
        return slot

    async def to_the_end(self, limit: int = 25, between: Callable[[], Awaitable[None]] | None = None) -> None:
        for _ in range(limit):
            if between is not None:
                await between()
            if await self.answer_next() is None:
                return
        raise AssertionError(f"the form never finished; asked {self.asked}")


def rows_of(database_url: str, sender_hash: str) -> list[dict]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                text("SELECT * FROM consultations WHERE sender_hash = :h"), {"h": sender_hash})]
    finally:
        engine.dispose()


FACTS = ("category", "persons", "amount", "street", "community", "migrant_worker", "eligibility", "outcome")


def facts_of(row: dict) -> dict:
    """The columns a fault must not change (not the time, ids or the free-text summary)."""
    return {k: (float(row[k]) if k == "amount" and row[k] is not None else row[k]) for k in FACTS}
