"""The action server with its doors closed (CONTRACT §1): rasa-sdk's own app, bound to 127.0.0.1 unless told
otherwise, that runs actions only for a caller showing the shared secret Rasa sends (`endpoints.yml`,
`action_endpoint.headers`). Rasa's trackers hold what citizens typed; anyone else reaching /webhook could read
and write them through the actions.

    .venv/bin/python -m actions.server -p 5055            # HOTLINE_ACTIONS_TOKEN, else var/actions_token
    HOTLINE_ACTIONS_HOST=0.0.0.0 ... -m actions.server    # in a container, behind its own network
    ACTION_SERVER_SANIC_WORKERS=2 ... -m actions.server   # worker processes (rasa-sdk's own variable)
"""
from __future__ import annotations

import argparse
import hmac
import logging

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

TOKEN_HEADER = "X-Hotline-Actions-Token"
# The health check tells nothing about anyone: load balancers and `make run` may ask it without the secret.
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)


def secret_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed a byte at a time from response times."""
    return bool(token) and hmac.compare_digest((given or "").encode(), token.encode())


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's Sanic app (health, webhook, actions list) behind the shared-secret check; no CORS at all."""
    from rasa_sdk.endpoint import create_app as sdk_app

    if not token:
        raise ValueError("the action server needs a non-empty shared secret")
    app = sdk_app(actions_package, cors_origins="")

    @app.middleware("request")
    async def _only_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or secret_matches(request.headers.get(TOKEN_HEADER), token):
            return None
        logger.warning("refused an action-server call without the secret on %s", request.path)
        return response.json({"error": "forbidden"}, status=403)

    return app


def main(argv: list[str] | None = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    from hotline.settings import get_settings

    parser = argparse.ArgumentParser(description="the 12348 action server (rasa-sdk), secret-checked")
    parser.add_argument("-p", "--port", type=int, default=get_settings().actions_port)
    parser.add_argument("--host", default=get_settings().actions_host,
                        help="address to bind (default 127.0.0.1; HOTLINE_ACTIONS_HOST)")
    parser.add_argument("--actions", default="actions", help="package of the actions")
    args = parser.parse_args(argv)

    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = create_app(get_settings().actions_token, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("action server on http://%s:%s (secret required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
