"""scripts/rasa_speedups.py changes how fast Rasa works, never what it answers: run Rasa's own code and the patched
code side by side in the Rasa environment and compare."""
from __future__ import annotations

import pytest

from tests.stack import MODEL, require_model, run_in_rasa

CHECK = r"""
import json, sys
sys.path.insert(0, "scripts")
import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

action = RemoteAction("action_x", None)
answers = [
    {"events": [{"event": "slot", "name": "amount", "value": 35000}], "responses": [{"response": "utter_ask_x"}]},
    {"events": [], "responses": []},
    {},
    {"events": [{"event": "slot", "value": 1}]},          # a slot event without its name
    {"events": [{"event": "nonsense"}]},
    {"events": "not a list"},
    {"responses": "not a list"},
]
from rasa.core.nlg import interpolator
texts = ['/inform{"matter": "wage_arrears"}', "您的老板是{employer}吗？", "{employer}欠您{amount}元", "{{literal}} {employer}",
         "{0}", "{123}", "{amount", "没有占位符", "{employer}{missing}", {"title": "是", "payload": '/affirm{"x": 1}'}]
values = [{}, {"employer": "老李", "amount": 35000}, {"employer": None}, {"123": "x"}]
names = ["slot", "action", "user", "bot", "session_started", "active_loop", "rewind", "restart", "followup",
         "pause", "resume", "loop_interrupted", "action_execution_rejected", "nonsense", "topic"]

def run():
    out = []
    for a in answers:
        try:
            out.append(["ok", action._validate_action_result(a)])
        except jsonschema.ValidationError as e:
            out.append(["error", e.message, list(e.path)])
    for n in names:
        try:
            cls = Event.resolve_by_type(n)
            out.append([n, cls.__name__ if cls else None])
        except ValueError as e:
            out.append([n, "ValueError", str(e)])
        out.append([n, "default", getattr(Event.resolve_by_type(n, default=Event), "__name__", None)])
    for t in texts:
        for v in values:
            try:
                out.append(["interpolate", interpolator.interpolate(json.loads(json.dumps(t)), v)])
            except Exception as e:
                out.append(["interpolate", type(e).__name__])
    return out

stock = run()
import rasa_speedups
applied = rasa_speedups.apply()
print(json.dumps({"applied": applied, "stock": stock, "patched": run(), "again": run()}))
"""


@pytest.mark.rasa
def test_patched_rasa_validates_and_resolves_exactly_as_stock_rasa() -> None:
    result = run_in_rasa(CHECK)
    assert result["applied"] == ["compiled_action_validation", "cached_event_lookup", "cached_sql_trackers",
                                 "sequential_graph_runs", "quiet_interpolation", "pooled_endpoint_sessions",
                                 "frozen_model_objects"]
    assert result["patched"] == result["stock"]
    assert result["again"] == result["stock"]  # the cached lookups answer the same the second time
    # The comparison is not vacuous: bad answers are refused and unknown events are errors, in both.
    assert sum(1 for r in result["stock"] if r[0] == "error") == 4
    assert ["nonsense", "ValueError", "Unknown event name 'nonsense'."] in result["stock"]
    assert ["interpolate", "您的老板是老李吗？"] in result["stock"]  # a slot is filled, a payload left alone
    assert ["interpolate", '/inform{"matter": "wage_arrears"}'] in result["stock"]


TRACKERS = r"""
import asyncio, json, sqlite3, sys, tempfile
sys.path.insert(0, "scripts")
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core import events as ev
from rasa.shared.core.trackers import EventVerbosity

stock_methods = {k: SQLTrackerStore.__dict__[k] for k in ("__init__", "_retrieve", "save")}
import rasa_speedups
rasa_speedups.apply(["cached_event_lookup", "cached_sql_trackers"])
Stock = type("Stock", (SQLTrackerStore,), stock_methods)
domain = Domain.load("domain")
tmp = tempfile.mkdtemp()
stores = {"stock": Stock(domain, dialect="sqlite", db=f"{tmp}/stock.db"),
          "patched": SQLTrackerStore(domain, dialect="sqlite", db=f"{tmp}/patched.db")}
# A second process on the same database: a stock store that writes behind the patched one's back.
others = {"stock": Stock(domain, dialect="sqlite", db=f"{tmp}/stock.db"),
          "patched": Stock(domain, dialect="sqlite", db=f"{tmp}/patched.db")}
clock = [1_700_000_000.0]
def at(event):
    clock[0] += 1.0
    event.timestamp = clock[0]
    return event
steps = [
    ("add", [ev.ActionExecuted("action_session_start"), ev.SessionStarted(), ev.ActionExecuted("action_listen")]),
    ("add", [ev.UserUttered("我想讨薪", {"name": "wage_arrears", "confidence": 0.9}), ev.ActiveLoop("wage_claim_form"),
             ev.SlotSet("requested_slot", "employer")]),
    ("add", [ev.UserUttered("包工头老李"), ev.SlotSet("employer", "老李"), ev.SlotSet("requested_slot", "amount")]),
    ("other", [ev.UserUttered("三万五"), ev.SlotSet("amount", 35000.0)]),  # a fail-over: the other process wrote
    ("add", [ev.SlotSet("requested_slot", "people_count")]),
    ("add", [ev.ActionExecuted("action_session_start"), ev.SessionStarted(), ev.SlotSet("employer", "老李")]),
    ("add", [ev.UserUttered("你好")]),
    ("purge", 3),  # the oldest rows deleted (hotline purge)
    ("add", [ev.UserUttered("再问一下")]),
]
def state(tracker):
    return None if tracker is None else tracker.current_state(EventVerbosity.ALL)
async def play(name):
    store, other, out = stores[name], others[name], []
    for kind, arg in steps:
        if kind == "purge":
            with sqlite3.connect(f"{tmp}/{name}.db") as con:
                con.execute("DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)", (arg,))
        else:
            who = other if kind == "other" else store
            tracker = await who.get_or_create_tracker("web:abc", append_action_listen=False)
            for e in arg:
                tracker.update(at(e))
            await who.save(tracker)
        out.append([state(await store.retrieve("web:abc")), state(await store.retrieve_full_tracker("web:abc")),
                    state(await store.retrieve("web:nobody"))])
    return out
result = {}
for name in ("stock", "patched"):
    clock[0] = 1_700_000_000.0
    result[name] = asyncio.run(play(name))
with sqlite3.connect(f"{tmp}/patched.db") as con:
    result["journal"] = con.execute("PRAGMA journal_mode").fetchone()[0]
    result["rows"] = [list(r) for r in con.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")]
with sqlite3.connect(f"{tmp}/stock.db") as con:
    result["stock_rows"] = [list(r) for r in con.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")]
print(json.dumps(result, default=str))
"""


@pytest.mark.rasa
def test_kept_tracker_rows_give_exactly_what_stock_rasa_reads_and_writes() -> None:
    """The per-process tracker rows (cached_sql_trackers): every read equals stock Rasa's after each step, including
    a write by another process, a new session and a purge; the database holds the same rows."""
    result = run_in_rasa(TRACKERS)
    assert result["patched"] == result["stock"]
    assert result["rows"] == result["stock_rows"]
    assert result["journal"] == "wal"
    # Not vacuous: the other process's answer and the new session show in what is read.
    latest, full, nobody = result["patched"][3]
    assert {"event": "slot", "name": "amount"}.items() <= next(
        e for e in latest["events"] if e.get("name") == "amount").items()
    latest, full, nobody = result["patched"][5]
    assert len(full["events"]) > len(latest["events"]) and nobody is None


RUNNER = r"""
import asyncio, json, sys
sys.path.insert(0, "scripts")
import rasa_speedups
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

texts = ["我想讨薪", "包工头老李欠我三万五", "你好请问社区法律顾问是谁", "都不是", "转人工", "我想申请法律援助 家里四口人 月收入两千",
         "/inform{\"matter\": \"wage_arrears\"}", "", "谢谢"]
agent = Agent.load(sys.argv[1])
start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]

def play():
    out = []
    for text in texts:
        parse = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events("t", start, agent.domain.slots)
        tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse))
        prediction = agent.processor._predict_next_with_tracker(tracker)
        out.append([parse["intent"], [(e["entity"], e.get("value")) for e in parse["entities"]],
                    prediction.max_confidence_index, prediction.policy_name, prediction.probabilities])
    return out

stock = play()
applied = rasa_speedups.apply(["sequential_graph_runs"])
print(json.dumps({"applied": applied, "stock": stock, "patched": play()}, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_sequential_graph_runs_parse_and_predict_exactly_as_dask() -> None:
    require_model()
    result = run_in_rasa(RUNNER, str(MODEL), timeout=600)
    assert result["applied"] == ["sequential_graph_runs"]
    assert result["patched"] == result["stock"]
    # Not vacuous: the graph really ran (intents and policies differ between the messages).
    assert len({r[0]["name"] for r in result["stock"]}) >= 5 and {r[3] for r in result["stock"]} >= {"RulePolicy"}


ENDPOINT = r"""
import asyncio, json, sys
sys.path.insert(0, "scripts")
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

async def play():
    ports = []

    async def answer(request):
        ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"echo": await request.json(), "header": request.headers.get("X-Hotline-Actions-Token")})

    async def missing(request):
        return web.Response(status=404, text="no")

    app = web.Application()
    app.router.add_post("/webhook", answer)
    app.router.add_post("/gone", missing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Hotline-Actions-Token": "t"})
    answers = [await endpoint.request(json={"n": n, "text": "三万五/月 <b>", "x": 0.1 + n, "big": 1796183772.6859767,
                                           "nested": [{"e": None, "t": True}]}) for n in range(3)]
    try:
        await EndpointConfig(f"http://127.0.0.1:{port}/gone").request(json={})
        error = None
    except Exception as e:
        error = [type(e).__name__, getattr(e, "status", None)]
    await runner.cleanup()
    return {"answers": answers, "connections": len(set(ports)), "error": error}

stock = asyncio.run(play())
import rasa_speedups
rasa_speedups.apply(["pooled_endpoint_sessions"])
print(json.dumps({"stock": stock, "patched": asyncio.run(play())}))
"""


@pytest.mark.rasa
def test_endpoint_calls_reuse_one_connection_and_answer_as_stock_rasa() -> None:
    result = run_in_rasa(ENDPOINT)
    assert result["patched"]["answers"] == result["stock"]["answers"]
    assert result["patched"]["error"] == result["stock"]["error"] == ["ClientResponseError", 404]
    assert result["stock"]["connections"] == 3  # Rasa's own: a new connection per call
    assert result["patched"]["connections"] == 1


TRAINING_DATA = r"""
import json, sys, tempfile, pathlib
sys.path.insert(0, "scripts")
from rasa.shared.importers.importer import TrainingDataImporter

broken = pathlib.Path(tempfile.mkdtemp()) / "broken.yml"
broken.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: 7\n', encoding="utf-8")

def load():
    importer = TrainingDataImporter.load_from_config("config.yml", "domain", ["data"])
    nlu, stories, domain = importer.get_nlu_data(), importer.get_stories(), importer.get_domain()
    errors = []
    for _ in range(2):  # a bad file fails every time it is read, not only the first
        try:
            TrainingDataImporter.load_from_config("config.yml", "domain", [str(broken)]).get_nlu_data()
            errors.append(None)
        except Exception as e:
            errors.append(type(e).__name__)
    return {"nlu": nlu.fingerprint(), "examples": len(nlu.training_examples), "stories": stories.fingerprint(),
            "domain": domain.fingerprint(), "errors": errors}

stock = load()
import rasa_speedups
rasa_speedups.apply(list(rasa_speedups.TRAINING_PATCHES))
print(json.dumps({"stock": stock, "patched": load(), "again": load()}))
"""


@pytest.mark.rasa
def test_training_data_read_once_is_what_rasa_reads_every_time() -> None:
    result = run_in_rasa(TRAINING_DATA)
    assert result["patched"] == result["stock"]
    assert result["again"] == result["stock"]  # the second importer of a run gets its own, equal, data
    assert result["stock"]["examples"] > 5000
    assert result["stock"]["errors"] == ["YamlValidationException"] * 2
