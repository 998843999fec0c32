"""The Telegram bridge (python-telegram-bot 21): the same handle_turn as every other channel.

`python -m bot.telegram_bridge` polls by default; with TELEGRAM_WEBHOOK_URL set it registers that webhook and
serves it itself (a small Starlette app under uvicorn, so no tornado extra is needed), refusing every request
that lacks the secret token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import sys
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.conversation import handle_turn
from bot.documents import after_turn, send_telegram_documents
from bot.limits import TOO_FAST, TOO_LONG, Limiter, clean_json, clean_text, max_body_bytes, new_limiter, too_long
from bot.menu import HELP, welcome_message
from bot.rasa_client import BotMessage, Button
from hotline import logs, wording
from hotline.settings import get_settings

log = logging.getLogger(__name__)

APOLOGY = wording.door("utter_door_apology")  # domain/doors.yml
CHANNEL = "telegram"
CALLBACK_LIMIT = 64  # bytes Telegram allows in callback_data
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def callback_data(button: Button, bot_data: dict) -> str:
    """The payload itself when it fits in 64 bytes, else a short key remembered in bot_data."""
    if len(button.payload.encode()) <= CALLBACK_LIMIT:
        return button.payload
    key = "p:" + hashlib.sha256(button.payload.encode()).hexdigest()[:20]
    bot_data.setdefault("payloads", {})[key] = button.payload
    return key


def keyboard(buttons: list[Button], bot_data: dict) -> InlineKeyboardMarkup | None:
    """One button per row: the titles are Chinese phrases, too long to sit side by side on a phone."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=callback_data(b, bot_data))]
                                 for b in buttons])


async def send_messages(update: Update, context: ContextTypes.DEFAULT_TYPE, messages: list[BotMessage]) -> None:
    """Send the bot's messages in order, each with its buttons as an inline keyboard."""
    chat = update.effective_chat
    assert chat is not None
    for message in messages:
        await context.bot.send_message(chat.id, message.text or "请选择：",
                                       reply_markup=keyboard(message.buttons, context.bot_data))
        await send_telegram_documents(context.bot, chat.id, message.text)  # a draft's link: the file follows


async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Forward one user turn to Rasa and send its answers back."""
    chat = update.effective_chat
    assert chat is not None
    if not await _limiter(context).allow(CHANNEL, str(chat.id)):
        await context.bot.send_message(chat.id, TOO_FAST)
        return
    await context.bot.send_chat_action(chat.id, "typing")
    turn = await handle_turn(CHANNEL, str(chat.id), text)
    await send_messages(update, context, turn.messages)
    await after_turn(CHANNEL, str(chat.id), turn.conversation_id, [m.text for m in turn.messages])


def _limiter(context: ContextTypes.DEFAULT_TYPE) -> Limiter:
    """This bridge's per-chat rate limit (in Redis when HOTLINE_REDIS_URL is set)."""
    limiter = context.bot_data.get("limiter")
    if limiter is None:
        limiter = context.bot_data["limiter"] = new_limiter()
    return limiter


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user and offer the three main services."""
    await send_messages(update, context, [welcome_message()])


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to use the bot."""
    await send_messages(update, context, [BotMessage(HELP)])


async def human(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a person: the request_human intent, as its payload."""
    await relay(update, context, "/request_human")


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forward what the user typed."""
    assert update.effective_message is not None
    text = clean_text(update.effective_message.text or "")
    if too_long(text):  # the web chat's limit: Rasa never gets a novel to classify
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, TOO_LONG)
        return
    await relay(update, context, text)


async def button_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forward the payload of the inline button the user pressed."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    data = query.data or ""
    payload = context.bot_data.get("payloads", {}).get(data, data) if data.startswith("p:") else data
    if isinstance(query.message, Message) and query.message.reply_markup:
        # Drop the keyboard once used, so an old menu cannot be pressed twice.
        await query.edit_message_reply_markup(reply_markup=None)
    await relay(update, context, payload)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error (no message text, no chat id) and apologise to the user."""
    log.error("Telegram handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, APOLOGY)
        except Exception:  # the apology itself may fail when Telegram is the problem
            log.warning("apology not sent", exc_info=True)


def build_application(token: str, *, base_url: str | None = None) -> Application:
    """The Application with every handler wired; base_url points tests at a fake Bot API."""
    builder = Application.builder().token(token)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    application = builder.build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("human", human))
    application.add_handler(CallbackQueryHandler(button_pressed))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text_message))
    application.add_error_handler(error_handler)
    return application


def webhook_app(application: Application, secret_token: str, path: str = "/telegram") -> Starlette:
    """The webhook endpoint: updates with the right secret header go to the Application's queue, others get 403."""

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret_token.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        limit = max_body_bytes()
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return PlainTextResponse("too large", status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an Update")
            update = Update.de_json(clean_json(data), application.bot)
        except Exception:  # not UTF-8, not JSON, nested junk, or not an Update
            return PlainTextResponse("bad request", status_code=400)
        if update is None:
            return PlainTextResponse("bad request", status_code=400)
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Starlette(routes=[Route(path, receive, methods=["POST"])])


async def run_webhook(application: Application, webhook_url: str, secret_token: str, port: int) -> None:
    """Register the webhook with Telegram and serve it until interrupted."""
    import uvicorn

    path = urlparse(webhook_url).path or "/telegram"
    server = uvicorn.Server(uvicorn.Config(webhook_app(application, secret_token, path), host="0.0.0.0", port=port))
    async with application:
        await application.bot.set_webhook(webhook_url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES)
        await application.start()
        try:
            await server.serve()
        finally:
            await application.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.configure_from_env("telegram")  # JSON lines without personal data when HOTLINE_LOG_FORMAT=json
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in the URL
    settings = get_settings()
    if not settings.telegram_bot_token:
        sys.exit("TELEGRAM_BOT_TOKEN is not set: the Telegram bridge is not started.")
    application = build_application(settings.telegram_bot_token)
    if settings.telegram_webhook_url:
        # Without a configured secret, make one: we register it ourselves, so only Telegram knows it.
        secret = settings.telegram_secret_token or secrets.token_urlsafe(32)
        port = settings.telegram_webhook_port
        asyncio.run(run_webhook(application, settings.telegram_webhook_url, secret, port))
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
