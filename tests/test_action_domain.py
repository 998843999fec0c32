"""The action server parses the domain Rasa sends with every call once (actions/server.py, KnownDomain; issue 28):
whatever the body, what rasa-sdk's webhook reads equals what Sanic's own parse gives, and a call whose domain is the
one seen before has only the rest parsed."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ujson
import yaml
from sanic.request import json_loads

from actions.server import TOKEN_HEADER, KnownDomain
from tests.stack import ROOT, action_server_alone

SECRET = "a-shared-secret-for-this-test"


def real_domain() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        responses.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {})
    return {"responses": responses, "slots": {"amount": {"type": "float"}}, "forms": {}}


DOMAIN = real_domain()


def call(text: str = "再见", domain: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"next_action": "action_goodbye", "sender_id": "web:" + "a" * 64, "version": "3.6.21",
            "tracker": {"sender_id": "web:" + "a" * 64, "slots": {}, "latest_message": {"text": text, "intent": {}},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen", "latest_input_channel": "rest"}, **extra}
    body["domain"] = DOMAIN if domain is None else domain
    return body


def as_rasa_sends(body: dict[str, Any]) -> bytes:
    return ujson.dumps(body).encode()  # Rasa's pooled session writes the body with ujson, the domain last


BODIES = [
    as_rasa_sends(call()),
    as_rasa_sends(call("三万五")),                                   # the same domain: only the rest is parsed
    as_rasa_sends(call('{,"domain":' + ujson.dumps(DOMAIN) + "}")),  # the domain's bytes inside a string
    as_rasa_sends({"domain": DOMAIN}),                               # nothing before the domain
    b'{,"domain":' + ujson.dumps(DOMAIN).encode() + b"}",            # not JSON: `{` then the domain
    b'{"domain":1,"domain":' + ujson.dumps(DOMAIN).encode() + b"}",  # a repeated key: the last one counts
    b'{"x":1 ,"domain":' + ujson.dumps(DOMAIN).encode() + b"}",
    as_rasa_sends(call(domain={"responses": {}})),                    # another domain: learnt
    as_rasa_sends(call()),                                            # and the first one again
    json.dumps(call(), ensure_ascii=False).encode(),                  # spaces, raw characters: parsed whole
    as_rasa_sends({**call(), "tail": 1}),                             # the domain not last
    b"[1, 2]", b"", b"{", b'{"domain":',
]


def sanic_reads(body: bytes) -> Any:
    try:
        return ["ok", json_loads(body)]
    except ValueError:
        return ["error"]


def known_reads(known: KnownDomain, body: bytes) -> Any:
    try:
        return ["ok", known.loads(body)]
    except ValueError:
        return ["error"]


def test_what_the_webhook_reads_equals_a_whole_parse_for_any_body() -> None:
    known = KnownDomain(json_loads)
    assert [known_reads(known, b) for b in BODIES] == [sanic_reads(b) for b in BODIES]
    assert [known_reads(known, b) for b in BODIES] == [sanic_reads(b) for b in BODIES]  # with what it learnt
    assert sum(r == ["error"] for r in map(sanic_reads, BODIES)) == 4  # not vacuous: bad bodies stay bad


def test_a_call_with_the_domain_seen_before_has_only_the_rest_parsed() -> None:
    parsed: list[int] = []

    def loads(raw: bytes) -> Any:
        parsed.append(len(raw))
        return json_loads(raw)

    known = KnownDomain(loads)
    first, second = as_rasa_sends(call()), as_rasa_sends(call("三万五"))
    domain_bytes = len(ujson.dumps(DOMAIN).encode())
    assert domain_bytes > 20_000  # the real domain's responses
    known.loads(first)
    parsed.clear()
    assert known.loads(second) == json_loads(second)
    assert parsed and max(parsed) < domain_bytes // 10


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with action_server_alone(tmp_path_factory.mktemp("domain"), SECRET) as url:
        yield url


def test_the_action_server_answers_a_known_domain_as_a_fresh_one(action_server: str, tmp_path: Path) -> None:
    def post(body: bytes) -> tuple[int, Any]:
        resp = httpx.post(f"{action_server}/webhook", content=body, timeout=30,
                          headers={TOKEN_HEADER: SECRET, "Content-Type": "application/json"})
        return resp.status_code, resp.json()

    fresh = post(as_rasa_sends({**call(), "tail": 1}))  # the domain not last: parsed whole every time
    assert fresh[0] == 200 and fresh[1]["responses"] == [{"response": "utter_goodbye", **{
        k: v for k, v in fresh[1]["responses"][0].items() if k != "response"}}]
    assert [post(as_rasa_sends(call())) for _ in range(3)] == [fresh] * 3
    assert post(b'{,"domain":' + ujson.dumps(DOMAIN).encode() + b"}")[0] == 400  # still refused
