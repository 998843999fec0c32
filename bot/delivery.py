"""Delivering an operator's words (and the bot's "back again" notice) to a citizen on their own channel.

Web chat: the line is stored as pushed and the page fetches it from `GET /api/chat/{sender}/messages`.
WeChat: the customer-service message API, allowed within 48 hours of the citizen's last message.
Telegram: the Bot API's sendMessage, with the bot's token, from this process.
The raw chat id needed for the last two is sealed (Fernet, key from HOTLINE_SECRET_KEY) on the handoff row while
it is open, and opened only here.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from bot.wechat_api import WeChatApi, split_for_wechat
from hotline.settings import get_settings
from hotline.store.models import Handoff

log = logging.getLogger(__name__)
WECHAT_WINDOW = timedelta(hours=48)


class NotDelivered(RuntimeError):
    """The words could not reach the citizen; the message says why, in Chinese, for the operator."""


def _fernet() -> Fernet:
    key = hashlib.sha256(("reply-address:" + get_settings().secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(address: str) -> str:
    return _fernet().encrypt(address.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:  # the secret key changed since: the address is lost, not guessed
        return None


@dataclass
class Deliverer:
    """Per-app delivery state: the WeChat API client (its token cache) and, for tests, a Telegram API base URL."""

    wechat_api: Any = None
    telegram_base_url: str | None = None

    async def deliver(self, handoff: Handoff, text: str, *, now: datetime) -> None:
        """Send `text` to the handoff's citizen; raises NotDelivered. Web chat needs nothing sent."""
        if handoff.channel == "web":
            return
        address = unseal(handoff.reply_address)
        if address is None:
            raise NotDelivered("找不到该用户的联系地址，无法回复。请通过12348热线或其他方式联系。")
        if handoff.channel == "wechat":
            await self._wechat(handoff, address, text, now=now)
        elif handoff.channel == "telegram":
            await self._telegram(address, text)
        else:
            raise NotDelivered("这个渠道不能在线回复。")

    async def _wechat(self, handoff: Handoff, openid: str, text: str, *, now: datetime) -> None:
        last = handoff.last_citizen_at or handoff.created_at
        if now - last > WECHAT_WINDOW:
            raise NotDelivered("该微信用户最后一次发消息已超过48小时，公众号不能再主动回复。请电话联系。")
        if self.wechat_api is None:
            self.wechat_api = WeChatApi(retries=2, backoff_s=0.3)
        for part in split_for_wechat(text):
            if not await self.wechat_api.send_text(openid, part):
                raise NotDelivered("微信客服消息发送失败，请稍后重试。")

    async def _telegram(self, chat_id: str, text: str) -> None:
        from telegram import Bot
        from telegram.error import TelegramError

        token = get_settings().telegram_bot_token
        if not token:
            raise NotDelivered("未配置Telegram机器人（TELEGRAM_BOT_TOKEN），无法回复。")
        kwargs: dict[str, Any] = {"base_url": self.telegram_base_url} if self.telegram_base_url else {}
        try:
            async with Bot(token, **kwargs) as bot:
                await bot.send_message(int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id, text)
        except (TelegramError, OSError) as exc:
            log.warning("Telegram reply not delivered: %s", type(exc).__name__)
            raise NotDelivered("Telegram消息发送失败，请稍后重试。") from exc
