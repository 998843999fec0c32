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
import contextlib
import hmac
import logging
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hotline import collector

TOKEN_HEADER = "X-Hotline-Actions-Token"
# The health check tells nothing about anyone: load balancers and `make run` may ask it without the secret.
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)
DOMAIN_MEMBER = b',"domain":'


class KnownDomain:
    """The domain Rasa sends with every action call — the body's last member, the same 57 KB each time — parsed once
    (issue 28: ~0.5 ms a call). A body ending in those bytes has only the rest parsed, by the same `loads`, and gets
    the parsed domain (the actions only read it); any other body is parsed whole, and its domain learnt."""

    def __init__(self, loads: Any) -> None:
        self._loads = loads
        self._raw = b""
        self._value: Any = None

    def loads(self, body: bytes) -> Any:
        suffix = len(DOMAIN_MEMBER) + len(self._raw) + 1
        if (self._raw and len(body) > suffix and body.endswith(self._raw + b"}")
                and body[-suffix:-suffix + len(DOMAIN_MEMBER)] == DOMAIN_MEMBER):
            try:
                head = self._loads(body[:-suffix] + b"}")
            except ValueError:
                head = None
            # A non-empty object before `,"domain":<the same bytes>}`: the whole body is that object plus the domain.
            if isinstance(head, dict) and head:
                head["domain"] = self._value
                return head
        data = self._loads(body)
        self._learn(body, data)
        return data

    def _learn(self, body: bytes, data: Any) -> None:
        at = body.rfind(DOMAIN_MEMBER)
        if not (at > 0 and isinstance(data, dict) and isinstance(data.get("domain"), dict) and body.endswith(b"}")):
            return
        raw = body[at + len(DOMAIN_MEMBER):-1]
        try:
            same = self._loads(raw) == data["domain"]
        except ValueError:
            return
        if same:
            self._raw, self._value = raw, data["domain"]


def secret_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed a byte at a time from response times."""
    return bool(token) and hmac.compare_digest((given or "").encode(), token.encode())


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's Sanic app (health, webhook, actions list) behind the shared-secret check; no CORS at all."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic.request import json_loads

    if not token:
        raise ValueError("the action server needs a non-empty shared secret")
    app = sdk_app(actions_package, cors_origins="")
    domain = KnownDomain(json_loads)  # the loads Sanic's request.json uses

    @app.middleware("request")
    async def _only_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or secret_matches(request.headers.get(TOKEN_HEADER), token):
            if request.path == "/webhook" and request.body and not request.headers.get("Content-Encoding"):
                # What rasa-sdk's webhook reads; a body that is not JSON is parsed again there, and refused as before.
                with contextlib.suppress(ValueError):
                    request.parsed_json = domain.loads(request.body)
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
    # What loading the actions made (~250,000 objects: hotline's modules, the flow spec, the law data) lives as long
    # as the process: out of the collector's sight, so a full collection (52 ms) does not walk it again (issue 28).
    collector.settle()
    logger.info("action server on http://%s:%s (secret required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
