"""The web chat's door (CONTRACT §7): one citizen turn in, the bot's messages out."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.conversation import handle_turn
from bot.documents import after_turn

router = APIRouter()

class ChatIn(BaseModel):
    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(min_length=1, max_length=2000)
    # The page's own id of this message: sent again with a retry, so a turn that already reached the bot is not
    # applied twice (bot/rasa_client.forward_to_rasa).
    message_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


@router.post("/api/chat")
async def chat(body: ChatIn) -> dict[str, Any]:
    """One turn of the citizen web chat."""
    turn = await handle_turn("web", body.sender, body.message.strip(), message_id=body.message_id)
    await after_turn("web", body.sender, turn.conversation_id, [m.text for m in turn.messages])  # draft papers
    # `handoff` (waiting | taken | null): while a person has the conversation the page hides its quick replies.
    return {"messages": [m.to_api() for m in turn.messages], "conversation_id": turn.conversation_id,
            "handoff": turn.handoff}
