"""The WeChat Official Account callback (`GET/POST /wechat`): a thin adapter over wechatpy and bot.conversation.handle_turn.

WeChat waits 5 s for a passive reply and retries a message three times when it gets none. So the answer is
passive when Rasa is quick (within 4.5 s), otherwise `success` now and the answer later through the
customer-service API; retries are recognised by MsgId and never forwarded twice.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message as wechatpy_parse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.conversation import handle_turn
from bot.documents import after_turn
from bot.limits import TOO_FAST, TOO_LONG, app_limiter, clean_text, safe_xml, too_long
from bot.menu import HELP, welcome_message
from bot.rasa_client import BotMessage, Button
from bot.ttl import TTLCache
from bot.wechat_api import WeChatApi, mask_openid, split_for_wechat
from hotline.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter()

MAX_AGE_S = 300  # a callback signed more than 5 minutes ago (or ahead) is a replay
SUCCESS = "success"  # tells WeChat "received, no passive reply"

ASK_TO_TYPE = "抱歉，没能听清这段语音。请用文字把问题发给我，例如“老板欠我三个月工资”。"
IMAGE_REPLY = ("收到您的图片，谢谢。我目前只能看懂文字，请用文字说说您的问题。"
               "证据材料（欠条、工资条、聊天记录等）请妥善保存，办理时带到司法所。")
LOCATION_REPLY = "收到您的位置。请告诉我您所在的街道或社区名称（例如“公园街道东台社区”），我帮您找法律顾问和司法所。"
LINK_REPLY = "收到您分享的链接。请用文字简单说说您遇到的问题，我来帮您看看。"
OTHER_REPLY = "抱歉，这类消息我还看不懂。请用文字说说您的问题。" + HELP


@dataclass(frozen=True)
class Incoming:
    """A WeChat message reduced to what the bot needs."""

    kind: str  # text | voice | subscribe | unsubscribe | click | image | location | link | other
    openid: str
    account: str  # our official account (ToUserName)
    dedup_key: str
    text: str | None = None  # content, voice recognition, or a menu click's key


def verify_signature(token: str, signature: str, timestamp: str, nonce: str, *, now: float | None = None,
                     max_age_s: int = MAX_AGE_S) -> bool:
    """Whether WeChat signed this callback with our token, recently (replays older than 5 minutes fail)."""
    if not (token and signature and timestamp and nonce) or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > max_age_s:
        return False
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return False
    return True


def parse_message(xml: str | bytes) -> Incoming:
    """The XML WeChat posts, as an Incoming; raises ValueError when it is not a WeChat message.

    Strict UTF-8 and no DTD (no entity bombs, no external entities); texts come out without control characters.
    """
    try:
        msg = wechatpy_parse(safe_xml(xml))
    except Exception as exc:  # xmltodict raises expat errors, KeyError on missing MsgType...
        raise ValueError("not a WeChat message") from exc
    if msg is None or not isinstance(getattr(msg, "source", None), str) or not msg.source:
        raise ValueError("not a WeChat message")
    openid, account = msg.source, msg.target
    # Events carry no MsgId: WeChat's own advice is to de-duplicate them on FromUserName + CreateTime.
    dedup = str(msg.id) if getattr(msg, "id", 0) else f"{openid}:{msg.time}:{msg.type}"
    kind, text = "other", None
    if msg.type == "text":
        kind, text = "text", clean_text(str(msg.content or ""))
    elif msg.type == "voice":
        kind, text = "voice", clean_text(str(msg.recognition or "")).strip() or None
    elif getattr(msg, "event", None) in ("subscribe", "subscribe_scan"):
        kind = "subscribe"
    elif getattr(msg, "event", None) == "unsubscribe":
        kind = "unsubscribe"
    elif getattr(msg, "event", None) == "click":
        kind, text = "click", clean_text(str(msg.key or ""))
    elif msg.type in ("image", "location", "link"):
        kind = msg.type
    return Incoming(kind=kind, openid=openid, account=account, dedup_key=dedup, text=text)


def render(messages: list[BotMessage]) -> tuple[str, list[Button]]:
    """Bot messages as one WeChat text: buttons become 「回复1 …」 lines numbered across the whole answer."""
    parts: list[str] = []
    buttons: list[Button] = []
    for message in messages:
        lines = [message.text] if message.text else []
        for button in message.buttons:
            buttons.append(button)
            lines.append(f"回复{len(buttons)} {button.title}")
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts), buttons


class WeChatBridge:
    """Per-app state of the callback: seen MsgIds, each user's last buttons, pending late answers."""

    def __init__(self, *, reply_deadline_s: float = 4.5, rest_delay_s: float = 1.0) -> None:
        self.reply_deadline_s = reply_deadline_s
        self.rest_delay_s = rest_delay_s
        self.seen: TTLCache[bool] = TTLCache(ttl_s=60)  # WeChat retries within 15 s
        self.buttons: TTLCache[list[Button]] = TTLCache(ttl_s=24 * 3600)
        self.api = WeChatApi()
        self.pending: set[asyncio.Task[None]] = set()

    def payload_for(self, openid: str, text: str) -> str:
        """A bare digit answering our last 「回复N」 menu becomes that button's payload; other text is as typed."""
        match = re.fullmatch(r"\s*(\d{1,2})\s*", text)
        last = self.buttons.get(openid)
        if match and last and 1 <= int(match.group(1)) <= len(last):
            return last[int(match.group(1)) - 1].payload
        return text

    def remember(self, openid: str, buttons: list[Button]) -> None:
        if buttons:
            self.buttons.set(openid, buttons)
        else:
            # Without a live menu, a digit is a plain number again ("3" months, "8000" yuan).
            self.buttons.pop(openid)

    async def answer(self, openid: str, text: str) -> str:
        turn = await handle_turn("wechat", openid, text)
        text, buttons = render(turn.messages)
        self.remember(openid, buttons)
        # Deadline reminders held for this follower (WeChat lets us answer, not call first) come with the answer.
        held = await after_turn("wechat", openid, turn.conversation_id, [m.text for m in turn.messages])
        return "\n\n".join([*held, text])

    async def reply_text(self, incoming: Incoming) -> str | None:
        """What to say to this message now; None means answered later (or never, for unsubscribe)."""
        if incoming.kind == "subscribe":
            text, buttons = render([welcome_message()])
            self.remember(incoming.openid, buttons)
            return text
        if incoming.kind == "unsubscribe":
            return None
        if incoming.kind == "voice" and not incoming.text:
            return ASK_TO_TYPE
        canned = {"image": IMAGE_REPLY, "location": LOCATION_REPLY, "link": LINK_REPLY, "other": OTHER_REPLY}
        if incoming.kind in canned:
            return canned[incoming.kind]
        text = incoming.text or ""
        if incoming.kind == "click":
            # A menu key that is an intent payload goes to Rasa as it is; any other key shows the main menu.
            if not text.startswith("/"):
                text, buttons = render([welcome_message()])
                self.remember(incoming.openid, buttons)
                return text
        else:
            text = self.payload_for(incoming.openid, text)
        task = asyncio.create_task(self.answer(incoming.openid, text))
        try:
            answer = await asyncio.wait_for(asyncio.shield(task), timeout=self.reply_deadline_s)
        except asyncio.TimeoutError:
            self._in_background(self._send_later(incoming.openid, task))
            return None
        first, *rest = split_for_wechat(answer)
        if rest:
            self._in_background(self._send_parts(incoming.openid, rest, after_s=self.rest_delay_s))
        return first

    def _in_background(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _send_later(self, openid: str, task: asyncio.Task[str]) -> None:
        await self._send_parts(openid, split_for_wechat(await task))

    async def _send_parts(self, openid: str, parts: list[str], *, after_s: float = 0.0) -> None:
        """Customer-service messages in order; `after_s` lets the passive reply reach the user first."""
        if after_s:
            await asyncio.sleep(after_s)
        for part in parts:
            if not await self.api.send_text(openid, part):
                log.error("answer to %s lost (part of %d)", mask_openid(openid), len(parts))
                return


def _bridge(request: Request) -> WeChatBridge:
    state = request.app.state
    if not hasattr(state, "wechat"):
        state.wechat = WeChatBridge()
    return state.wechat


def _crypto() -> WeChatCrypto | None:
    settings = get_settings()
    if not (settings.wechat_aes_key and settings.wechat_app_id and settings.wechat_token):
        return None
    return WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)


def _forbidden() -> PlainTextResponse:
    return PlainTextResponse("forbidden", status_code=403)


async def _refusal(request: Request, incoming: Incoming) -> str | None:
    """A polite sentence instead of an answer: a message over the web chat's limit, or a user sending too fast."""
    if incoming.text and too_long(incoming.text):
        return TOO_LONG
    if incoming.kind in ("text", "voice", "click") and not await app_limiter(request.app).allow("wechat",
                                                                                              incoming.openid):
        return TOO_FAST
    return None


@router.get("/wechat", include_in_schema=False)
def url_check(request: Request) -> Response:
    """WeChat's server-address check: echo `echostr` when the signature is ours."""
    q = request.query_params
    if not verify_signature(get_settings().wechat_token or "", q.get("signature", ""), q.get("timestamp", ""),
                            q.get("nonce", "")):
        return _forbidden()
    return PlainTextResponse(q.get("echostr", ""))


@router.post("/wechat", include_in_schema=False)
async def callback(request: Request) -> Response:
    """A message or event from WeChat, plain or AES-encrypted."""
    q = request.query_params
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    if not verify_signature(get_settings().wechat_token or "", q.get("signature", ""), timestamp, nonce):
        return _forbidden()
    body = await request.body()
    try:
        safe_xml(body)  # before decrypting too: wechatpy parses the envelope with the same XML parser
    except ValueError:
        return PlainTextResponse("bad request", status_code=400)
    encrypted = q.get("encrypt_type", "raw").lower() == "aes"
    crypto = _crypto() if encrypted else None
    if encrypted:
        if crypto is None:
            log.error("encrypted WeChat message but WECHAT_AES_KEY/WECHAT_APP_ID are not set")
            return PlainTextResponse("not configured", status_code=503)
        try:
            body = crypto.decrypt_message(body, q.get("msg_signature", ""), timestamp, nonce).encode()
        except (InvalidSignatureException, InvalidAppIdException):
            return _forbidden()
        except Exception:  # not XML, not base64, wrong padding: nothing WeChat would send
            return PlainTextResponse("bad request", status_code=400)
    try:
        incoming = parse_message(body)
    except ValueError:
        return PlainTextResponse("bad request", status_code=400)

    bridge = _bridge(request)
    if not bridge.seen.add(incoming.dedup_key, True):
        return PlainTextResponse(SUCCESS)  # a retry: the first delivery is being (or was) answered
    text = await _refusal(request, incoming) or await bridge.reply_text(incoming)
    if not text:
        return PlainTextResponse(SUCCESS)
    reply = TextReply(source=incoming.account, target=incoming.openid, content=text).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(reply, media_type="application/xml")
