"""The WeChat Official Account customer-service API: the answer sent later when Rasa was too slow to reply passively,
and an operator's reply; its 2048-byte limit on a text.

The access token is cached until shortly before it expires and refreshed when WeChat says it is stale.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

import httpx

from hotline.settings import get_settings

log = logging.getLogger(__name__)

# WeChat refuses text longer than 2048 bytes (passive replies and customer-service messages alike); a wage-claim
# answer runs to several kilobytes, so it goes out in parts, split between paragraphs, the menu in the last part.
MAX_TEXT_BYTES = 2000


def split_for_wechat(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Text in parts of at most `limit` UTF-8 bytes, cut between paragraphs where it can, never inside a character."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        while len(paragraph.encode()) > limit:  # one paragraph longer than a message: cut by characters
            cut = len(paragraph.encode()[:limit].decode(errors="ignore"))
            parts.append(paragraph[:cut])
            paragraph = paragraph[cut:]
        current = paragraph
    if current or not parts:
        parts.append(current)
    return parts

# WeChat error codes meaning "this access token is no longer good": drop it and fetch a new one.
STALE_TOKEN_ERRORS = {40001, 40014, 42001}


class WeChatApiError(RuntimeError):
    def __init__(self, errcode: int | None, errmsg: str = "") -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode


def mask_openid(openid: str) -> str:
    """Enough of an openid to follow one user through the log, not enough to message them."""
    return openid[:4] + "****" if len(openid) > 4 else "****"


class WeChatApi:
    def __init__(self, *, retries: int = 3, backoff_s: float = 0.5, clock: Callable[[], float] = time.monotonic):
        self.retries, self.backoff_s, self.clock = retries, backoff_s, clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=get_settings().wechat_api_base, timeout=5.0, trust_env=False)

    async def access_token(self, client: httpx.AsyncClient) -> str:
        """The cached token, or a fresh one from /cgi-bin/token."""
        async with self._lock:
            if self._token and self.clock() < self._token_expires:
                return self._token
            settings = get_settings()
            resp = await client.get("/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": settings.wechat_app_id or "",
                "secret": settings.wechat_app_secret or "",
            })
            resp.raise_for_status()
            data = resp.json()
            if not data.get("access_token"):
                raise WeChatApiError(data.get("errcode"), data.get("errmsg", ""))
            # Refresh five minutes early (tokens last 7200 s) so a send never races the expiry.
            lifetime = int(data.get("expires_in", 7200))
            self._token = data["access_token"]
            self._token_expires = self.clock() + max(60, lifetime - 300)
            return self._token

    def invalidate(self) -> None:
        self._token, self._token_expires = None, 0.0

    async def send_text(self, openid: str, text: str) -> bool:
        """Send one text message through /cgi-bin/message/custom/send; True once WeChat accepted it."""
        # ensure_ascii=False: WeChat shows \\uXXXX escapes literally instead of decoding them.
        payload = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
        async with self._client() as client:
            for attempt in range(1, self.retries + 1):
                try:
                    token = await self.access_token(client)
                    resp = await client.post("/cgi-bin/message/custom/send", params={"access_token": token},
                                             content=payload.encode(), headers={"Content-Type": "application/json"})
                    resp.raise_for_status()
                    data = resp.json()
                    if data.get("errcode", 0) == 0:
                        return True
                    if data.get("errcode") in STALE_TOKEN_ERRORS:
                        self.invalidate()
                    raise WeChatApiError(data.get("errcode"), data.get("errmsg", ""))
                except (httpx.HTTPError, ValueError, WeChatApiError) as exc:
                    log.warning("WeChat send to %s failed (try %d/%d): %s", mask_openid(openid), attempt,
                                self.retries, exc)
                    if attempt < self.retries:
                        await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        log.error("WeChat send to %s gave up after %d tries", mask_openid(openid), self.retries)
        return False
