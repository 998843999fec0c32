"""The front doors: FastAPI web app (web chat, operator console, WeChat callback, JSON API) and the Telegram bridge."""
