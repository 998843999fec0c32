"""The web chat's door (CONTRACT §7): one citizen turn in, the bot's messages out."""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.conversation import handle_turn

router = APIRouter()

# Markup typed or pasted into the chat (「<img src=x onerror=…>」) is not a request for a person: the NLU reads
# its visible words only, and a message of markup alone gets the ordinary "what I can help with" answer.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]{0,500}>")
OUT_OF_SCOPE = "/out_of_scope"


def words_of(message: str) -> str:
    """What the citizen wrote, without markup tags; the out-of-scope payload when nothing else is left."""
    text = message.strip()
    if "<" not in text:
        return text
    visible = _MARKUP.sub(" ", text).strip()
    return visible or OUT_OF_SCOPE


class ChatIn(BaseModel):
    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(min_length=1, max_length=2000)


@router.post("/api/chat")
async def chat(body: ChatIn) -> dict[str, Any]:
    """One turn of the citizen web chat."""
    turn = await handle_turn("web", body.sender, words_of(body.message))
    return {"messages": [m.to_api() for m in turn.messages], "conversation_id": turn.conversation_id}
