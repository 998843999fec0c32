"""Local fakes of the outside services (Rasa REST, WeChat API, Telegram Bot API), served on loopback."""
