"""The Rasa runtime (rasa_runtime/hotline_rasa): each speed-up changes how fast Rasa works, never what it answers,
and each still takes effect on the installed Rasa.

Two kinds of test, both run in the Rasa environment (tests.stack.run_in_rasa):
- take effect: Rasa's own code path (RemoteAction.run, Event.from_parameters, the response generator, the server's
  model loader, the training importers, the tracker store endpoints.yml names) goes through the patch and skips the
  work it saves — a patch set on a name Rasa no longer calls fails here, not silently in production;
- equal: Rasa's own code and the patched code side by side, same answers and same errors.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.stack import MODEL, require_model, run_in_rasa

SERVING = ["compiled_action_validation", "empty_domain_known", "cached_event_lookup", "sequential_graph_runs", "quiet_interpolation",
           "pooled_endpoint_sessions", "plain_slot_copies", "remembered_applied_events", "rule_states_read_once",
           "frozen_model_objects"]

TAKE_EFFECT = r"""
import asyncio, gc, json
import jsonschema
import rasa.shared.utils.common
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import interpolator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core import events
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from hotline_rasa import speedups

counts = {"check_schema": 0, "all_subclasses": 0, "interpolation_errors": 0}
# Counters on the work each patch saves, set where Rasa's code finds it at call time.
spec = RemoteAction.action_response_format_spec()
validator_class = jsonschema.validators.validator_for(spec)
check_schema = validator_class.check_schema
def counted_check_schema(schema):
    counts["check_schema"] += 1
    return check_schema(schema)
validator_class.check_schema = staticmethod(counted_check_schema)
all_subclasses = rasa.shared.utils.common.all_subclasses
def counted_all_subclasses(cls):
    counts["all_subclasses"] += cls is events.Event  # the walk from the top (it recurses through this name)
    return all_subclasses(cls)
rasa.shared.utils.common.all_subclasses = counted_all_subclasses
log_exception = interpolator.structlogger.exception
def counted_exception(*args, **kwargs):
    counts["interpolation_errors"] += 1
    return log_exception(*args, **kwargs)
interpolator.structlogger.exception = counted_exception

async def fake_request(**kwargs):
    return {"events": [{"event": "slot", "name": "amount", "value": 35000}], "responses": []}

domain = Domain.empty()
responses = {"utter_pick": [{"text": "您要办哪件事？", "buttons": [
    {"title": "讨薪", "payload": '/inform{"matter": "wage_arrears"}'}, {"title": "法律援助", "payload": "/legal_aid"}]}]}

def observe():
    out = {}
    for key in counts:
        counts[key] = 0
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:9/webhook"))
    action.action_endpoint.request = fake_request
    tracker = DialogueStateTracker("t", [])
    for _ in range(3):
        got = asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain))
    out["action_events"] = [e.as_dict()["name"] for e in got]
    out["check_schema"] = counts["check_schema"]
    counts["all_subclasses"] = 0
    out["events"] = [type(e).__name__ for e in events.deserialise_events(
        [{"event": "slot", "name": "amount", "value": 1}, {"event": "action", "name": "action_listen"}] * 3)]
    out["all_subclasses"] = counts["all_subclasses"]
    nlg = TemplatedNaturalLanguageGenerator(responses)
    # A value to fill (as a filled slot gives one) makes Rasa interpolate the response, buttons included.
    out["response"] = asyncio.run(nlg.generate("utter_pick", DialogueStateTracker("t", []), "rest", employer="老李"))
    out["interpolation_errors"] = counts["interpolation_errors"]
    return out

class FakeAgent:
    def __init__(self):
        self.objects = [{"n": [i]} for i in range(50_000)]

async def fake_load(*args, **kwargs):
    return FakeAgent()

stock = observe()
from rasa.core import run
# frozen_model_objects wraps whatever Rasa's loader is when the patch is applied: here a stand-in that makes objects.
run.load_agent_on_start = fake_load
applied = speedups.apply()
patched = observe()
from rasa.engine.runner.dask import DaskGraphRunner
marks = {name: speedups.installed_by(obj) for name, obj in {
    "RemoteAction._validate_action_result": RemoteAction._validate_action_result,
    "Event.resolve_by_type": events.Event.resolve_by_type,
    "Domain.is_empty": Domain.is_empty,
    "DaskGraphRunner.run": DaskGraphRunner.run,
    "interpolator.interpolate_text": interpolator.interpolate_text,
    "EndpointConfig.session": EndpointConfig.session,
    "Slot.__copy__": getattr(__import__("rasa.shared.core.slots", fromlist=["Slot"]).Slot, "__copy__", None),
    "DialogueStateTracker.applied_events": DialogueStateTracker.applied_events,
    "RulePolicy._is_rule_applicable": __import__("rasa.core.policies.rule_policy", fromlist=["RulePolicy"]
                                                 ).RulePolicy._is_rule_applicable,
    # What `rasa run` registers to load the model: the name serve_application's code looks up when it runs.
    "serve_application's load_agent_on_start": run.serve_application.__globals__["load_agent_on_start"],
}.items()}
before = gc.get_freeze_count()
gc.disable()  # as serve leaves it while Rasa is imported and the model made
agent = asyncio.run(run.serve_application.__globals__["load_agent_on_start"]("m.tar.gz", None, None, None, None))
frozen = gc.get_freeze_count() - before
collecting = gc.isenabled()
thresholds = gc.get_threshold()
gc.unfreeze()
print(json.dumps({"applied": applied, "stock": stock, "patched": patched, "marks": marks, "thresholds": thresholds,
                  "frozen": frozen, "agent": type(agent).__name__, "collecting": collecting}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def take_effect() -> dict[str, Any]:
    return run_in_rasa(TAKE_EFFECT)


@pytest.mark.rasa
def test_all_serving_patches_install_where_rasa_looks(take_effect: dict[str, Any]) -> None:
    assert take_effect["applied"] == SERVING
    assert take_effect["marks"] == {
        "RemoteAction._validate_action_result": "compiled_action_validation", "Domain.is_empty": "empty_domain_known",
        "Event.resolve_by_type": "cached_event_lookup", "DaskGraphRunner.run": "sequential_graph_runs",
        "interpolator.interpolate_text": "quiet_interpolation", "EndpointConfig.session": "pooled_endpoint_sessions",
        "Slot.__copy__": "plain_slot_copies", "DialogueStateTracker.applied_events": "remembered_applied_events",
        "RulePolicy._is_rule_applicable": "rule_states_read_once",
        "serve_application's load_agent_on_start": "frozen_model_objects"}


@pytest.mark.rasa
def test_compiled_action_validation_takes_effect(take_effect: dict[str, Any]) -> None:
    """RemoteAction.run no longer checks the schema against the meta-schema on every answer."""
    stock, patched = take_effect["stock"], take_effect["patched"]
    assert stock["check_schema"] >= 3 and patched["check_schema"] == 0
    assert patched["action_events"] == stock["action_events"] == ["amount"]


@pytest.mark.rasa
def test_cached_event_lookup_takes_effect(take_effect: dict[str, Any]) -> None:
    """Events read back walk Event's subclasses once per name, not once per event."""
    stock, patched = take_effect["stock"], take_effect["patched"]
    assert stock["all_subclasses"] == 6 and patched["all_subclasses"] <= 2
    assert patched["events"] == stock["events"] == ["SlotSet", "ActionExecuted"] * 3


@pytest.mark.rasa
def test_quiet_interpolation_takes_effect(take_effect: dict[str, Any]) -> None:
    """A response whose button payload has braces is generated without Rasa logging an exception, unchanged."""
    stock, patched = take_effect["stock"], take_effect["patched"]
    assert stock["interpolation_errors"] >= 1 and patched["interpolation_errors"] == 0
    assert patched["response"] == stock["response"]
    assert stock["response"]["buttons"][0]["payload"] == '/inform{"matter": "wage_arrears"}'


@pytest.mark.rasa
def test_frozen_model_objects_takes_effect(take_effect: dict[str, Any]) -> None:
    """The loader `rasa run` registers is the patched one; what it loads comes back, its objects frozen."""
    assert take_effect["marks"]["serve_application's load_agent_on_start"] == "frozen_model_objects"
    assert take_effect["agent"] == "FakeAgent" and take_effect["frozen"] >= 50_000
    assert take_effect["thresholds"] == [10_000, 20, 100]  # hotline/collector.py's (test_frozen_startup pins both)
    assert take_effect["collecting"] is True  # the collector serve paused is on again once the agent is loaded


SERVE_PAUSE = r"""
import gc, json, os, sys, types
seen = {}
from hotline_rasa import resilience, speedups
resilience.apply = lambda: seen.setdefault("importing_rasa", gc.isenabled())
speedups.apply = lambda names: seen.setdefault("patching", gc.isenabled())
fake = types.ModuleType("rasa.__main__")
fake.main = lambda: seen.setdefault("serving", gc.isenabled())
sys.modules["rasa.__main__"] = fake
os.environ.update(HOTLINE_RASA_TOKEN="t", HOTLINE_RASA_SPEEDUPS=sys.argv[1])
sys.argv = ["serve", "--enable-api"]
from hotline_rasa import serve
serve.main()
print(json.dumps(seen))
"""


@pytest.mark.rasa
def test_serve_pauses_the_collector_while_rasa_is_imported_and_loaded() -> None:
    """With the speed-ups, `serve` imports Rasa and hands over to `rasa run` (which loads the model) with the
    collector paused — frozen_model_objects turns it on (above); as shipped it is never paused."""
    assert run_in_rasa(SERVE_PAUSE, "1") == {"importing_rasa": False, "patching": False, "serving": False}
    assert run_in_rasa(SERVE_PAUSE, "0") == {"importing_rasa": True, "serving": True}


def test_the_pinned_rasa_is_a_version_the_runtime_was_checked_on() -> None:
    """A re-pin of Rasa (make lock) fails here until someone has checked the patches against it (versions.py)."""
    import importlib.util
    import re

    from tests.stack import ROOT

    spec = importlib.util.spec_from_file_location("versions", ROOT / "rasa_runtime" / "hotline_rasa" / "versions.py")
    assert spec is not None and spec.loader is not None
    versions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(versions)  # no Rasa import at the top: readable from this environment
    [pinned] = re.findall(r"^rasa==(\S+)$", (ROOT / "requirements" / "rasa.txt").read_text(), flags=re.M)
    assert pinned in versions.KNOWN_RASA_VERSIONS
    with pytest.raises(versions.UnknownRasaVersion, match=r"this is Rasa 3\.7\.0"):
        versions.check_rasa_version("3.7.0")


GUARD = r"""
import json
import rasa
from rasa.core.actions.action import RemoteAction
from hotline_rasa import speedups, versions
out = {"known": versions.check_rasa_version()}
rasa.__version__ = "3.7.0"
try:
    speedups.apply()
    out["unknown"] = None
except versions.UnknownRasaVersion as e:
    out["unknown"] = str(e)
out["patched_anyway"] = speedups.installed_by(RemoteAction._validate_action_result)
try:  # the tracker store refuses too, and Rasa's factory does not swallow it into an in-memory store
    from hotline_rasa.tracker_store import KeptRowsSQLTrackerStore
    KeptRowsSQLTrackerStore(None, dialect="sqlite", db=":memory:")
    out["store"] = None
except RuntimeError as e:
    out["store"] = type(e).__name__
rasa.__version__ = out["known"]
# A method renamed in Rasa: the patch is refused before anything is set.
RemoteAction._validate_result = RemoteAction._validate_action_result
del RemoteAction._validate_action_result
try:
    speedups.apply(["compiled_action_validation"])
    out["moved"] = None
except speedups.RasaInternalsMoved as e:
    out["moved"] = str(e)
from hotline_rasa.tracker_store import INTERNALS
out["missing"] = {name: speedups.missing_internals(p) for name, p in [*speedups.PATCHES.items(), ("store", INTERNALS)]}
print(json.dumps(out))
"""


@pytest.mark.rasa
def test_an_unknown_rasa_or_moved_internals_are_refused_with_what_to_do() -> None:
    result = run_in_rasa(GUARD)
    assert result["known"] == "3.6.21"
    assert result["unknown"] is not None and "Rasa 3.7.0" in result["unknown"]
    assert "KNOWN_RASA_VERSIONS" in result["unknown"] and "HOTLINE_RASA_SPEEDUPS=0" in result["unknown"]
    assert result["patched_anyway"] is None  # nothing was changed before refusing
    assert result["store"] == "UnknownRasaVersion"
    assert result["moved"] is not None and "RemoteAction._validate_action_result" in result["moved"]
    # Only the renamed method is missing; every other internal each patch (and the tracker store) names is there.
    assert set(result["missing"]) == {*SERVING, "parsed_yaml_once", "store"}
    assert {k: v for k, v in result["missing"].items() if v} == {
        "compiled_action_validation": ["rasa.core.actions.action.RemoteAction._validate_action_result"]}


CHECK = r"""
import json, sys
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

from rasa.shared.core.domain import Domain
domains = [Domain.empty(), Domain.load("domain"), Domain.from_dict({"intents": ["greet"]}),
           Domain.from_dict({"slots": {"x": {"type": "text", "mappings": [{"type": "custom"}]}}}),
           Domain.from_dict({}), Domain.from_yaml("version: '3.1'")]

def run():
    out = [["is_empty", d.is_empty()] for d in domains]
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
from hotline_rasa import speedups as rasa_speedups
applied = rasa_speedups.apply()
print(json.dumps({"applied": applied, "stock": stock, "patched": run(), "again": run()}))
"""


@pytest.mark.rasa
def test_patched_rasa_validates_and_resolves_exactly_as_stock_rasa() -> None:
    result = run_in_rasa(CHECK)
    assert result["applied"] == SERVING
    assert result["patched"] == result["stock"]
    assert result["again"] == result["stock"]  # the cached lookups answer the same the second time
    # The comparison is not vacuous: bad answers are refused and unknown events are errors, in both.
    assert sum(1 for r in result["stock"] if r[0] == "error") == 4
    assert ["nonsense", "ValueError", "Unknown event name 'nonsense'."] in result["stock"]
    assert ["interpolate", "您的老板是老李吗？"] in result["stock"]  # a slot is filled, a payload left alone
    assert ["interpolate", '/inform{"matter": "wage_arrears"}'] in result["stock"]
    assert [r[1] for r in result["stock"] if r[0] == "is_empty"] == [True, False, False, False, True, True]


ANSWERS = r"""
import copy, json, random
import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as ev
from hotline_rasa import speedups as rasa_speedups

# One event of every kind an action server can send, as Rasa writes them, then broken in every way a bad one can be.
good = [e.as_dict() for e in [
    ev.SlotSet("amount", 35000), ev.SlotSet("employer", None), ev.ActionExecuted("utter_x", policy="p", confidence=1.0),
    ev.BotUttered("你好", {"buttons": [{"title": "是", "payload": "/affirm"}]}, {"utter_action": "utter_x"}),
    ev.UserUttered("三万五", {"name": "inform", "confidence": 0.9}, [{"entity": "amount", "value": 35000,
                   "start": 0, "end": 3}]),
    ev.ActiveLoop("wage_claim_form"), ev.ActiveLoop(None), ev.FollowupAction("action_x"), ev.Restarted(),
    ev.ConversationPaused(), ev.ConversationResumed(), ev.AllSlotsReset(), ev.ActionReverted(), ev.UserUtteranceReverted(),
    ev.ActionExecutionRejected("action_x"), ev.LoopInterrupted(True), ev.SessionStarted(), ev.StoryExported(),
    ev.EntitiesAdded([{"entity": "amount", "value": 1}]), ev.AgentUttered("x")]]
rng = random.Random(28)
odd_values = [None, True, 1, 1.5, "x", [], {}, [1], {"a": 1}]

def broken(e):
    e = copy.deepcopy(e)
    how = rng.randrange(5)
    keys = sorted(e)
    if how == 0 and keys:
        e.pop(rng.choice(keys))
    elif how == 1 and keys:
        e[rng.choice(keys)] = rng.choice(odd_values)
    elif how == 2:
        e["event"] = rng.choice(["nonsense", 3, None, ["slot"], {"x": 1}, "SLOT"])
    elif how == 3:
        return rng.choice(odd_values)
    else:
        e[rng.choice(["name", "timestamp", "metadata", "text", "entities", "parse_data", "value"])] = \
            rng.choice(odd_values)
    return e

answers = []
for _ in range(3000):
    events = [copy.deepcopy(rng.choice(good)) for _ in range(rng.randrange(6))]
    if rng.random() < 0.5 and events:
        i = rng.randrange(len(events))
        events[i] = broken(events[i])
    answer = {"events": events, "responses": [{"response": "utter_x"}]}
    if rng.random() < 0.1:
        answer = rng.choice([{}, {"events": rng.choice(odd_values)}, {"responses": rng.choice(odd_values)},
                             rng.choice(odd_values), {"events": events, "extra": 1}])
    answers.append(answer)

action = RemoteAction("action_x", None)

def outcomes():
    out = []
    for a in answers:
        try:
            out.append(["ok", action._validate_action_result(copy.deepcopy(a))])
        except jsonschema.ValidationError as e:
            out.append(["error", e.message, list(e.path), list(e.schema_path)])
        except Exception as e:
            out.append(["raised", type(e).__name__])
    return out

stock = outcomes()
rasa_speedups.apply(["compiled_action_validation"])
spec = RemoteAction.action_response_format_spec()
quick = rasa_speedups._event_kind_validation(spec, jsonschema.validators.validator_for(spec))
quick_said = [bool(quick(copy.deepcopy(a))) for a in answers]
print(json.dumps({"stock": stock, "patched": outcomes(), "quick": quick_said}))
"""


@pytest.mark.rasa
def test_the_quick_answer_check_says_yes_only_where_the_schema_does() -> None:
    """compiled_action_validation's quick check (one branch of the event schema's oneOf per event) against the whole
    schema on 3,000 generated answers: every event kind Rasa has, each broken in each way a bad answer can be."""
    result = run_in_rasa(ANSWERS)
    assert result["patched"] == result["stock"]
    for said, (outcome, *_) in zip(result["quick"], result["stock"], strict=True):
        assert not said or outcome == "ok"
    # Not vacuous: the quick check carries most good answers, and many answers are bad.
    good = sum(1 for o in result["stock"] if o[0] == "ok")
    assert sum(result["quick"]) == good
    assert 1000 < good < 2900


TRACKERS = r"""
import asyncio, json, sqlite3, sys, tempfile
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core import events as ev
from rasa.shared.core.trackers import EventVerbosity

from hotline_rasa import speedups as rasa_speedups
from hotline_rasa.tracker_store import KeptRowsSQLTrackerStore
rasa_speedups.apply(["cached_event_lookup"])
Stock = SQLTrackerStore
domain = Domain.load("domain")
tmp = tempfile.mkdtemp()
stores = {"stock": Stock(domain, dialect="sqlite", db=f"{tmp}/stock.db"),
          "patched": KeptRowsSQLTrackerStore(domain, dialect="sqlite", db=f"{tmp}/patched.db")}
# Sessions a save of the patched store opens: none, a file database's saves run on its plain sqlite3 connection.
in_save, save_sessions = [False], [0]
patched_scope, patched_save = stores["patched"].session_scope, stores["patched"].save
def counted_scope():
    save_sessions[0] += in_save[0]
    return patched_scope()
async def flagged_save(tracker):
    in_save[0] = True
    try:
        return await patched_save(tracker)
    finally:
        in_save[0] = False
stores["patched"].session_scope, stores["patched"].save = counted_scope, flagged_save
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
result["checker"] = stores["patched"]._sqlite is not None  # the check outside a session (a file database)
result["save_sessions"] = save_sessions[0]
with sqlite3.connect(f"{tmp}/patched.db") as con:
    result["journal"] = con.execute("PRAGMA journal_mode").fetchone()[0]
    result["rows"] = [list(r) for r in con.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")]
with sqlite3.connect(f"{tmp}/stock.db") as con:
    result["stock_rows"] = [list(r) for r in con.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")]
print(json.dumps(result, default=str))
"""


@pytest.mark.rasa
def test_kept_tracker_rows_give_exactly_what_stock_rasa_reads_and_writes() -> None:
    """The per-process tracker rows (KeptRowsSQLTrackerStore): every read equals stock Rasa's after each step, including
    a write by another process, a new session and a purge; the database holds the same rows."""
    result = run_in_rasa(TRACKERS)
    assert result["patched"] == result["stock"]
    assert result["rows"] == result["stock_rows"]
    assert result["journal"] == "wal" and result["checker"] is True and result["save_sessions"] == 0
    # Not vacuous: the other process's answer and the new session show in what is read.
    latest, full, nobody = result["patched"][3]
    assert {"event": "slot", "name": "amount"}.items() <= next(
        e for e in latest["events"] if e.get("name") == "amount").items()
    latest, full, nobody = result["patched"][5]
    assert len(full["events"]) > len(latest["events"]) and nobody is None


EVENT_JSON = r"""
import json, random, sys
from hotline_rasa.tracker_store import _event_data

rng = random.Random(28)
def text():
    pool = "讨薪老李三万五 é\u0000\"\\/\n\t" + "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(4))
    s = "".join(rng.choice(pool) for _ in range(rng.randrange(8)))
    return s + (chr(rng.choice([0xD800, 0xDFFF])) if rng.random() < 0.05 else "")  # a lone surrogate now and then
def number():
    return rng.choice([
        rng.randrange(-10**3, 10**3), rng.randrange(-2**63 - 10, -2**63 + 10), rng.randrange(2**63 - 10, 2**64 + 10),
        rng.randrange(-10**40, 10**40), rng.uniform(-1e6, 1e6), rng.choice([0.1, -0.0, 5e-324, 1.7976931348623157e308]),
        float("nan"), float("inf"), -float("inf"), rng.random() * 10 ** rng.randrange(-320, 308)])
def value(depth=0):
    kind = rng.randrange(8 if depth < 3 else 4)
    if kind == 0: return number()
    if kind == 1: return text()
    if kind == 2: return rng.choice([None, True, False])
    if kind == 3: return number() if rng.random() < 0.5 else text()
    if kind < 6: return [value(depth + 1) for _ in range(rng.randrange(4))]
    return {text(): value(depth + 1) for _ in range(rng.randrange(4))}
def read(f, s):
    try:
        return ["ok", repr(f(s))]
    except json.JSONDecodeError as e:
        return ["error", str(e)]
texts = [json.dumps(value(), ensure_ascii=rng.random() < 0.5) for _ in range(20000)]
texts += [t[:rng.randrange(len(t) + 1)] for t in texts[:2000]]  # cut short: mostly broken
texts += ['{"a": 1, "a": 2}', '1E400', '{"n": 123456789012345678901234567890}', " [1] ", "[1] x", ""]
out = {"differ": [t for t in texts if read(_event_data, t) != read(json.loads, t)][:5],
       "errors": sum(read(json.loads, t)[0] == "error" for t in texts), "n": len(texts)}
print(json.dumps(out))
"""


@pytest.mark.rasa
def test_tracker_rows_are_read_exactly_as_json_reads_them() -> None:
    """KeptRowsSQLTrackerStore reads rows with orjson: 22,000 generated JSON texts — long and 64-bit-edge integers,
    NaN and infinities, lone surrogates, texts cut short — read to the same values (types included) and the same
    errors as json.loads."""
    result = run_in_rasa(EVENT_JSON)
    assert result["differ"] == []
    assert 500 < result["errors"] < result["n"]  # not vacuous: broken texts are refused alike


RUNNER = r"""
import asyncio, json, sys
from hotline_rasa import speedups as rasa_speedups
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

texts = ["我想讨薪", "包工头老李欠我三万五", "你好请问社区法律顾问是谁", "都不是", "转人工", "我想申请法律援助 家里四口人 月收入两千",
         "/inform{\"matter\": \"wage_arrears\"}", "", "谢谢"]
import rasa.engine.runner.dask as runner_module
dask_runs = [0]
dask_get = runner_module.dask.get
def counted_get(*args, **kwargs):
    dask_runs[0] += 1
    return dask_get(*args, **kwargs)
runner_module.dask.get = counted_get
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
stock_dask, dask_runs[0] = dask_runs[0], 0
applied = rasa_speedups.apply(["sequential_graph_runs"])
patched = play()
print(json.dumps({"applied": applied, "stock": stock, "patched": patched, "dask_runs": [stock_dask, dask_runs[0]],
                  "runner": type(agent.processor.graph_runner).__name__}, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_sequential_graph_runs_parse_and_predict_exactly_as_dask() -> None:
    require_model()
    result = run_in_rasa(RUNNER, str(MODEL), timeout=600)
    assert result["applied"] == ["sequential_graph_runs"]
    assert result["patched"] == result["stock"]
    # Takes effect: the loaded model's runner is the class patched, and dask's scheduler no longer runs.
    assert result["runner"] == "DaskGraphRunner"
    stock_dask, patched_dask = result["dask_runs"]
    assert stock_dask >= 2 * len(result["stock"]) and patched_dask == 0
    # Not vacuous: the graph really ran (intents and policies differ between the messages).
    assert len({r[0]["name"] for r in result["stock"]}) >= 5 and {r[3] for r in result["stock"]} >= {"RulePolicy"}


ENDPOINT = r"""
import asyncio, json, sys
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
from hotline_rasa import speedups as rasa_speedups
rasa_speedups.apply(["pooled_endpoint_sessions"])
print(json.dumps({"stock": stock, "patched": asyncio.run(play())}))
"""


@pytest.mark.rasa
def test_endpoint_calls_reuse_one_connection_and_answer_as_stock_rasa() -> None:
    result = run_in_rasa(ENDPOINT)
    assert result["patched"]["answers"] == result["stock"]["answers"]
    assert result["patched"]["error"] == result["stock"]["error"] == ["ClientResponseError", 404]
    # Takes effect through EndpointConfig.request, the call every action goes through: one connection, not three.
    assert result["stock"]["connections"] == 3  # Rasa's own: a new connection per call
    assert result["patched"]["connections"] == 1


TRAINING_DATA = r"""
import json, sys, tempfile, pathlib
from rasa.shared.importers.importer import TrainingDataImporter
import pykwalify.core, ruamel.yaml.main
work = {"parses": 0, "checks": 0}
yaml_load, core_validate = ruamel.yaml.main.YAML.load, pykwalify.core.Core.validate
def counted_load(self, *args, **kwargs):
    work["parses"] += 1
    return yaml_load(self, *args, **kwargs)
def counted_validate(self, *args, **kwargs):
    work["checks"] += 1
    return core_validate(self, *args, **kwargs)
ruamel.yaml.main.YAML.load, pykwalify.core.Core.validate = counted_load, counted_validate

broken = pathlib.Path(tempfile.mkdtemp()) / "broken.yml"
broken.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: 7\n', encoding="utf-8")

def load():
    work.update(parses=0, checks=0)
    importer = TrainingDataImporter.load_from_config("config.yml", "domain", ["data"])
    nlu, stories, domain = importer.get_nlu_data(), importer.get_stories(), importer.get_domain()
    done = dict(work)
    errors = []
    for _ in range(2):  # a bad file fails every time it is read, not only the first
        try:
            TrainingDataImporter.load_from_config("config.yml", "domain", [str(broken)]).get_nlu_data()
            errors.append(None)
        except Exception as e:
            errors.append(type(e).__name__)
    return {"nlu": nlu.fingerprint(), "examples": len(nlu.training_examples), "stories": stories.fingerprint(),
            "domain": domain.fingerprint(), "errors": errors, "work": done}

stock = load()
from hotline_rasa import speedups as rasa_speedups
rasa_speedups.apply(list(rasa_speedups.TRAINING))
print(json.dumps({"stock": stock, "patched": load(), "again": load()}))
"""


@pytest.mark.rasa
def test_training_data_read_once_is_what_rasa_reads_every_time() -> None:
    result = run_in_rasa(TRAINING_DATA)
    work = {name: result[name].pop("work") for name in ("stock", "patched", "again")}
    assert result["patched"] == result["stock"]
    assert result["again"] == result["stock"]  # the second importer of a run gets its own, equal, data
    # Takes effect through the importers `rasa train` builds: a second importer parses and checks nothing again.
    assert work["stock"]["parses"] > 20 and work["stock"]["checks"] > 20
    assert work["again"] == {"parses": 0, "checks": 0}
    assert result["stock"]["examples"] > 5000
    assert result["stock"]["errors"] == ["YamlValidationException"] * 2


STORE = r"""
import asyncio, json, os, sys, tempfile
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core import events as ev
from rasa.shared.core.domain import Domain

tmp = tempfile.mkdtemp()
os.environ.update(HOTLINE_TRACKER_STORE_URL=f"sqlite:///{tmp}/rasa.db", HOTLINE_ACTIONS_URL="http://127.0.0.1:9/x",
                  HOTLINE_ACTIONS_TOKEN="t", HOTLINE_LOCK_STORE="in_memory", HOTLINE_REDIS_HOST="x",
                  HOTLINE_REDIS_PORT="6379", HOTLINE_REDIS_DB="1", HOTLINE_REDIS_PASSWORD="",
                  **json.loads(sys.argv[1]))  # endpoints.yml's ${VAR}s, as scripts/local_env.sh sets them
domain = Domain.load("domain")
store = TrackerStore.create(AvailableEndpoints.read_endpoints("endpoints.yml").tracker_store, domain)  # as Rasa does
reads = []
@sa.event.listens_for(store.engine, "before_cursor_execute")
def seen(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("SELECT") and "count(id)" not in statement:  # not the key check
        reads.append(statement)

async def play():
    tracker = await store.get_or_create_tracker("web:abc", append_action_listen=False)
    for e in [ev.ActionExecuted("action_session_start"), ev.SessionStarted(), ev.UserUttered("我想讨薪")]:
        tracker.update(e)
    await store.save(tracker)
    reads.clear()
    first = await store.retrieve("web:abc")
    second = await store.retrieve("web:abc")
    return len(first.events), len(second.events)

events = asyncio.run(play())
print(json.dumps({"class": type(store).__name__, "keeps_rows": getattr(store, "keeps_rows", None),
                  "event_reads": len(reads), "events": events}))
"""


@pytest.mark.rasa
def test_endpoints_yml_gives_rasa_the_store_that_keeps_rows_and_reads_nothing_twice() -> None:
    """Rasa's own factory builds the class endpoints.yml names (a typo would give an in-memory store, with only a
    warning); it serves an unchanged conversation from its rows, where Rasa's own store reads them again each time."""
    kept = run_in_rasa(STORE, "{}")
    assert kept["class"] == "KeptRowsSQLTrackerStore" and kept["keeps_rows"] is True
    assert kept["events"] == [2, 2] and kept["event_reads"] == 0  # the latest session: session_started, the message
    shipped = run_in_rasa(STORE, '{"HOTLINE_RASA_SPEEDUPS": "0"}')
    assert shipped["class"] == "KeptRowsSQLTrackerStore" and shipped["keeps_rows"] is False
    assert shipped["events"] == [2, 2] and shipped["event_reads"] >= 2  # Rasa's own methods: each read queries


TURN_ONCE = r"""
import asyncio, json, sys, tempfile
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core import events as ev
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import EventVerbosity

ran = []
async def rasa_turn(self, message):  # Rasa's own handle_message, as resilience finds it: a turn that is run
    ran.append(message.metadata["hotline_turn"])
    return message.output_channel.messages
MessageProcessor.handle_message = rasa_turn
from hotline_rasa import resilience
from hotline_rasa.tracker_store import KeptRowsSQLTrackerStore
resilience.apply()

domain = Domain.load("domain")
tmp = tempfile.mkdtemp()
ids = ["t-old", "web:m-1", "消息\"1\\", "t-new", "欠钱的是哪个老板？", "bot"]
def conversation():
    yield ev.ActionExecuted("action_session_start"); yield ev.SessionStarted(); yield ev.ActionExecuted("action_listen")
    yield ev.UserUttered("我要讨薪", metadata={"hotline_turn": "t-old"})
    yield ev.BotUttered("欠钱的是哪个老板？", metadata={"utter_action": "utter_ask_employer"})
    yield ev.ActionExecuted("action_session_start"); yield ev.SessionStarted()  # a new session: t-old is before it
    yield ev.UserUttered("老李", metadata={"hotline_turn": "web:m-1"})
    yield ev.BotUttered("一共欠了多少钱？")
    yield ev.UserUttered("三万五", metadata={"hotline_turn": "消息\"1\\"})

class Counted:
    def __init__(self, store):
        self.store, self.reads = store, 0
    def wrap(self):
        original = self.store.retrieve
        async def retrieve(sender_id):
            self.reads += 1
            return await original(sender_id)
        self.store.retrieve = retrieve
        return self

async def play(name, store):
    tracker = await store.get_or_create_tracker("web:abc", append_action_listen=False)
    for e in conversation():
        tracker.update(e)
    await store.save(tracker)
    counted = Counted(store).wrap()
    processor = type("P", (), {})()
    processor.tracker_store = FailSafeTrackerStore(AwaitableTrackerStore(store))
    out = {}
    for turn in ids:
        ran.clear()
        channel = CollectingOutputChannel()
        reads = counted.reads
        answer = await MessageProcessor.handle_message(processor, UserMessage("x", channel, "web:abc",
                                                                              metadata={"hotline_turn": turn}))
        out[turn] = {"ran": list(ran), "answer": answer, "reads": counted.reads - reads}
    return out

result = {name: asyncio.run(play(name, store)) for name, store in {
    "stock": SQLTrackerStore(domain, dialect="sqlite", db=f"{tmp}/stock.db"),
    "kept": KeptRowsSQLTrackerStore(domain, dialect="sqlite", db=f"{tmp}/kept.db")}.items()}
print(json.dumps(result, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_a_new_turn_id_is_looked_for_in_the_stored_rows_without_building_the_tracker() -> None:
    """resilience's turn-once check (issue 27) built and serialised the whole tracker on every turn to look for the
    turn id; with the kept rows it searches their JSON first (issue 28). Same turns rerun or answered as with Rasa's
    own store — an id applied before, one in an older session, one needing JSON escapes, words that only look like
    an id — and a new id costs no tracker read."""
    result = run_in_rasa(TURN_ONCE)
    kept, stock = result["kept"], result["stock"]
    assert {t: (r["ran"], r["answer"]) for t, r in kept.items()} == {
        t: (r["ran"], r["answer"]) for t, r in stock.items()}
    # Not vacuous: applied ids are answered again without a run, the others run.
    assert stock["web:m-1"]["ran"] == [] and stock["web:m-1"]["answer"] == [
        {"recipient_id": "web:abc", "text": "一共欠了多少钱？"}]
    assert stock['消息"1\\']["ran"] == []
    assert [t for t, r in stock.items() if r["ran"]] == ["t-old", "t-new", "欠钱的是哪个老板？", "bot"]
    # Takes effect: Rasa's own store reads the tracker for every id; the kept rows only for ids they hold.
    assert all(r["reads"] == 1 for r in stock.values())
    assert {t: r["reads"] for t, r in kept.items()} == {"t-old": 1, "web:m-1": 1, '消息"1\\': 1, "t-new": 0,
                                                         "欠钱的是哪个老板？": 0, "bot": 0}


DOMAIN_BODY = r"""
import asyncio, json
import ujson
from aiohttp import web
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

domain = Domain.load("domain").as_dict()  # Rasa's cached dict: the same object every call (RemoteAction)
assert Domain.load("domain").as_dict() is not domain
encoded = []
dumps = ujson.dumps
def counted(obj, *args, **kwargs):
    encoded.append(obj is domain)
    return dumps(obj, *args, **kwargs)

async def play():
    raw = []
    async def answer(request):
        raw.append((await request.read()).decode())
        return web.json_response({"ok": True})
    app = web.Application(client_max_size=10**7)
    app.router.add_post("/webhook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    endpoint = EndpointConfig(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhook")
    bodies = [{"next_action": "validate_wage_claim_form", "sender_id": "web:abc", "version": "3.6.21",
               "tracker": {"events": [{"event": "user", "text": f"三万五/{n}", "x": 0.1 + n}]}, "domain": domain}
              for n in range(3)]
    bodies += [{"domain": domain}, {"next_action": "x", "domain": {"other": [1, "二"]}}, {"domain": domain, "tail": 1},
               {"next_action": "x", "domain": domain}]
    for body in bodies:
        await endpoint.request(json=body, method="post")
    await runner.cleanup()
    return raw, [dumps(b) for b in bodies]

stock, _ = asyncio.run(play())
from hotline_rasa import speedups as rasa_speedups
rasa_speedups.apply(["pooled_endpoint_sessions"])
ujson.dumps = counted
patched, expected = asyncio.run(play())
print(json.dumps({"stock": [json.loads(r) for r in stock], "patched": [json.loads(r) for r in patched],
                  "byte_equal": patched == expected, "domain_encodes": sum(encoded),
                  "domain_chars": len(dumps(domain))}))
"""


@pytest.mark.rasa
def test_the_domain_sent_with_every_action_call_is_encoded_once() -> None:
    """Rasa sends its (cached) domain dict with every action call; the pooled session encodes it once per model: the
    body is byte for byte ujson's, and carries the same values as stock Rasa's."""
    result = run_in_rasa(DOMAIN_BODY)
    assert result["patched"] == result["stock"] and result["byte_equal"] is True
    assert result["domain_chars"] > 20_000
    # 5 bodies end with that domain: encoded for the first, and again after another domain came between (the latest
    # one is kept); stock Rasa encodes it in each.
    assert result["domain_encodes"] == 2


SLOT_COPY = r"""
import copy, json
from rasa.shared.core import events as ev
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

domain = Domain.load("domain")
reconstructs = [0]
original = copy._reconstruct
def counted(*args, **kwargs):
    reconstructs[0] += 1
    return original(*args, **kwargs)
copy._reconstruct = counted
values = {"float": 35000.0, "bool": True, "text": "老李", "list": ["欠条", "微信聊天记录"], "categorical": "wage_arrears",
          "any": {"x": [1]}}
conversation = [ev.ActionExecuted("action_session_start"), ev.SessionStarted(), ev.ActionExecuted("action_listen"),
                ev.UserUttered("我想讨薪", {"name": "wage_arrears", "confidence": 0.9}),
                ev.ActionExecuted("wage_claim_form"), ev.ActiveLoop("wage_claim_form"),
                ev.SlotSet("requested_slot", "employer"), ev.ActionExecuted("action_listen"),
                ev.UserUttered("老李"), ev.SlotSet("employer", "老李"), ev.SlotSet("amount", 35000.0)]

def play():
    out = {}
    for slot in domain.slots:
        kind = type(slot).__name__.replace("Slot", "").lower()
        if kind in values:
            slot.value = values[kind]
        twin = copy.copy(slot)
        out[slot.name] = [type(twin).__name__, {k: repr(v) for k, v in vars(twin).items()}, twin is slot,
                          twin.value is slot.value]
        slot.reset()
    reconstructs[0] = 0
    tracker = DialogueStateTracker.from_events("web:abc", conversation, domain.slots)
    states = domain.states_for_tracker_history(tracker)
    made = reconstructs[0]
    tracker.slots["employer"].value = "别人"  # a tracker's slots are its own
    other = DialogueStateTracker.from_events("web:abc", conversation, domain.slots)
    return {"slots": out, "state": tracker.current_state(EventVerbosity.ALL), "states": json.dumps(states, sort_keys=True),
            "reconstructs": made, "own": other.get_slot("employer"), "n": len(domain.slots)}

stock = play()
from hotline_rasa import speedups
speedups.apply(["plain_slot_copies"])
patched = play()
print(json.dumps({"stock": stock, "patched": patched}, ensure_ascii=False, default=str))
"""


@pytest.mark.rasa
def test_slots_are_copied_as_rasa_copies_them_without_the_generic_path() -> None:
    """Every tracker copies the domain's slots (its retrieve, and each policy's prior trackers): Slot.__copy__ gives
    what copy.copy's generic path gave — same class, same attributes, shared values as a shallow copy shares them —
    and the trackers and their states are the same; copy's generic path is no longer taken."""
    result = run_in_rasa(SLOT_COPY)
    stock, patched = result["stock"], result["patched"]
    made = stock.pop("reconstructs"), patched.pop("reconstructs")
    assert patched == stock
    assert stock["n"] > 30 and stock["own"] == "老李"
    assert {v[0] for v in stock["slots"].values()} >= {"FloatSlot", "BooleanSlot", "TextSlot", "ListSlot"}
    assert all(v[2] is False and v[3] is True for v in stock["slots"].values())  # a new slot, its value shared
    assert made[0] >= 2 * stock["n"] and made[1] == 0


APPLIED_EVENTS = r"""
import json, random
from rasa.shared.core import events as ev
from rasa.shared.core.trackers import DialogueStateTracker

stock_applied = DialogueStateTracker.applied_events
calls = [0]
def counted(self):
    calls[0] += 1
    return stock_applied(self)
DialogueStateTracker.applied_events = counted
from hotline_rasa import speedups
speedups.apply(["remembered_applied_events"])
patched_applied = DialogueStateTracker.applied_events

LOOPS = ["wage_claim_form", "legal_aid_form", "advisor_form"]
def event(rng):
    kind = rng.randrange(12)
    if kind < 3:
        return ev.ActionExecuted(rng.choice(LOOPS + ["action_listen", "utter_ask_amount", "action_wage_claim_advice"]))
    if kind == 3:
        return ev.ActiveLoop(rng.choice(LOOPS[:2] + [None]))  # the third loop is named only late, or never
    if kind == 4:
        return ev.UserUttered("三万五", {"name": rng.choice(["inform", "deny", "wage_arrears"]), "confidence": 0.9})
    if kind == 5:
        return ev.SlotSet("amount", rng.randrange(9))
    if kind == 6:
        return ev.ActionExecutionRejected(rng.choice(LOOPS))
    if kind == 7:
        return rng.choice([ev.ActionReverted(), ev.UserUtteranceReverted()])
    if kind == 8:
        return rng.choice([ev.SessionStarted(), ev.Restarted(), ev.ActiveLoop("advisor_form")])
    return ev.ActionExecuted(rng.choice(LOOPS))

def names(events):
    return [(type(e).__name__, getattr(e, "action_name", None) or getattr(e, "name", None)) for e in events]

compared = differ = 0
kept_reads = 0
for seed in range(300):
    rng = random.Random(seed)
    tracker = DialogueStateTracker("web:t", [])  # grows event by event, asked after each: kept, carried on
    for step in range(rng.randrange(5, 120)):
        tracker.update(event(rng))
        if rng.random() < 0.7:
            fresh = DialogueStateTracker.from_events("web:t", list(tracker.events), [])
            before = calls[0]
            got = patched_applied(tracker)
            kept_reads += calls[0] == before
            want = stock_applied(fresh)
            compared += 1
            differ += names(got) != names(want) or any(a is not b for a, b in zip(got, list(want)))
            got.append("mutated")  # a caller's list is its own
            differ += names(patched_applied(tracker)) != names(want)
print(json.dumps({"compared": compared, "differ": differ, "kept_reads": kept_reads}))
"""


@pytest.mark.rasa
def test_applied_events_kept_on_the_tracker_are_rasas_own_for_every_sequence() -> None:
    """Trackers grown event by event from 300 seeded random sequences — forms run, rejected, reverted, loops named
    late, sessions restarted — give after each step exactly the events Rasa's own applied_events gives a fresh tracker
    with the same events (the same objects, in order); a caller changing the list it got changes nothing; and most
    reads are answered from what the tracker kept, without Rasa's walk."""
    result = run_in_rasa(APPLIED_EVENTS)
    assert result["compared"] > 5000
    assert result["differ"] == 0
    assert result["kept_reads"] > result["compared"] // 2


RULE_MATCHING = r"""
import copy, json, random, sys, tarfile
from rasa.core.policies.rule_policy import RulePolicy, SHOULD_NOT_BE_SET

with tarfile.open(sys.argv[1]) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("train_RulePolicy1/rule_policy.json"))
    lookup = json.load(tar.extractfile(member))["lookup"]
keys = sorted({k for table in lookup.values() if isinstance(table, dict) for k in table})
tables = [table for table in lookup.values() if isinstance(table, dict) and table]
class StockPolicy(RulePolicy):  # Rasa's own two methods, kept from before the patch
    _is_rule_applicable = RulePolicy._is_rule_applicable
    _get_possible_keys = RulePolicy._get_possible_keys
stock_rule = RulePolicy._is_rule_applicable
policy = RulePolicy.__new__(RulePolicy)  # the methods read only the class's static helpers
stock_policy = StockPolicy.__new__(StockPolicy)
from hotline_rasa import speedups
speedups.apply(["rule_states_read_once"])
patched_rule = RulePolicy._is_rule_applicable

# Conversation states: every state of every rule, as it is and changed at random — a key dropped, a value changed,
# a value set where the rule wants it unset, entities as a tuple or in another order, the previous action gone.
rng = random.Random(12348)
rule_states = [st for k in keys for st in json.loads(k)]
def variant(state):
    st = copy.deepcopy(state)
    for sub in st.values():
        for k in list(sub):
            r = rng.random()
            if r < 0.15:
                del sub[k]
            elif r < 0.3:
                sub[k] = rng.choice(["inform", "wage_claim_form", "action_listen", SHOULD_NOT_BE_SET, 1.0, None])
            elif isinstance(sub[k], list):
                sub[k] = tuple(sub[k]) if r < 0.7 else tuple(reversed(sub[k]))
    if rng.random() < 0.1:
        st.pop("prev_action", None)
    return st
states = [s for st in rule_states for s in (st, variant(st), variant(st))] + [{}]
compared = differ = true = 0
for state in states:
    for key in keys:
        for turn in range(len(json.loads(key)) + 1):
            want, got = stock_rule(policy, key, turn, state), patched_rule(policy, key, turn, state)
            compared += 1
            differ += want != got
            true += want
# Whole conversations' states (1-6 of them, from the states above) against each rule table: the same keys apply.
sets = sets_differ = found = 0
for n in range(20_000):
    conversation = [rng.choice(states) for _ in range(rng.randrange(0, 7))]
    for table in tables:
        want = stock_policy._get_possible_keys(table, conversation)
        got = policy._get_possible_keys(table, conversation)
        sets += 1
        sets_differ += want != got
        found += len(want)
print(json.dumps({"keys": len(keys), "compared": compared, "differ": differ, "true": true, "sets": sets,
                  "sets_differ": sets_differ, "found": found}))
"""


@pytest.mark.rasa
def test_rule_matching_with_states_read_once_is_rasas_own() -> None:
    """Every rule of the trained model tested at every turn index against every rule state, as it is and changed at
    random (keys dropped, values changed or set where a rule wants them unset, entities reordered, no previous action):
    the patched test answers exactly as Rasa's own, both answers occurring; and for 20,000 random runs of 0-6 such
    states the rules that apply, looked up by the last previous action, are the ones Rasa's own search finds."""
    require_model()
    result = run_in_rasa(RULE_MATCHING, str(MODEL))
    assert result["keys"] > 50 and result["compared"] > 100_000
    assert result["differ"] == 0
    assert 0 < result["true"] < result["compared"]
    assert result["sets"] >= 20_000 and result["sets_differ"] == 0 and result["found"] > 1000
