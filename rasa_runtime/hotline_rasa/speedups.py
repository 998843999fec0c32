"""Work Rasa 3.6 repeats on every turn (and `rasa train` on every read) for nothing, done once per process instead
(issue 13). Each patch keeps Rasa's behaviour — same answers, same errors — and is measured in reports/profile_*.md.
`serve` applies `SERVING`, `train` applies `TRAINING`; HOTLINE_RASA_SPEEDUPS=0 applies none. The per-process tracker
rows are not a patch: they are `tracker_store.KeptRowsSQLTrackerStore`, named in endpoints.yml.

Every patch names the Rasa internals it `replaces` and the ones it `reads` (`module.Class.attr`; `function:name` is a
name that function's code uses: the call that makes the replacement take effect, or an attribute Rasa's `__init__`
sets). Before a patch is installed the Rasa version is checked (versions.py) and each of those must exist, so a
renamed method fails loudly instead of leaving a patch that nothing calls. tests/test_rasa_speedups.py checks, per
patch, that Rasa's own code path really goes through it, and that patched Rasa answers exactly as stock Rasa.
"""
from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hotline_rasa.versions import check_rasa_version

# The attribute every replacement carries: which patch installed it (tests look for it on Rasa's classes).
MARK = "__hotline_patch__"


class RasaInternalsMoved(RuntimeError):
    """A Rasa internal a patch replaces or relies on is not where the patch expects it."""


@dataclass(frozen=True)
class Patch:
    name: str
    replaces: tuple[str, ...]   # attributes set by the patch: each must be defined right there in Rasa
    reads: tuple[str, ...]      # what else it relies on (`function:name`: a name the function's code uses)
    install: Callable[[], None]
    why: str


def resolve(path: str) -> Any:
    """`rasa.core.run.load_agent_on_start` → the object: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def missing_internals(patch: Patch) -> list[str]:
    """The internals of `patch` this Rasa lacks (empty when all are where the patch expects them)."""
    missing = []
    for path in patch.replaces:
        owner_path, _, attr = path.rpartition(".")
        try:
            owner = resolve(owner_path)
        except (ImportError, AttributeError):
            missing.append(path)
            continue
        if attr not in vars(owner):  # defined there, not inherited: setting it must replace what Rasa calls
            missing.append(path)
    for path in patch.reads:
        target, _, used_name = path.partition(":")
        try:
            obj = resolve(target)
        except (ImportError, AttributeError):
            missing.append(path)
            continue
        if used_name and used_name not in getattr(obj, "__func__", obj).__code__.co_names:
            missing.append(path)
    return missing


def _replace(owner: Any, attr: str, new: Any, patch: str) -> None:
    """Set `owner.attr = new`, marked with the patch's name (on the function, inside a staticmethod)."""
    setattr(getattr(new, "__func__", new), MARK, patch)
    setattr(owner, attr, new)


def _compiled_action_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)
    quickly_valid = _event_kind_validation(spec, cls)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if quickly_valid(result):
            return True
        error = best_match(validator.iter_errors(result))  # what jsonschema.validate raises, minus the schema check
        if error is not None:
            error.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    _replace(RemoteAction, "_validate_action_result", _validate_action_result, "compiled_action_validation")


def _event_kind_validation(spec: dict[str, Any], cls: Any) -> Any:
    """A check that says yes only to answers the whole schema accepts, at a fraction of its cost.

    Each event of an answer is tested against all 23 branches of the event schema's `oneOf`, and jsonschema builds
    an error for each of the 22 that fail — on their `event` constant, as every branch names its own. An event whose
    `event` names branch B passes the `oneOf` exactly when it passes B: every other branch fails on the constant. So
    an event is tested against the schema without the `oneOf` and against its own branch; anything else (an unknown
    kind, a failed test, a schema not of that shape) answers no, and the whole schema decides, with its own error.
    """
    properties = spec.get("properties") or {}
    events = properties.get("events") or {}
    event = events.get("items") or {}
    branches = event.get("oneOf") or []
    kinds = [((b.get("properties") or {}).get("event") or {}).get("const") for b in branches]
    shaped = (set(spec) <= {"type", "properties"} and set(properties) <= {"events", "responses"}
              and set(events) == {"type", "items"} and events["type"] == "array"
              and "event" in event.get("required", ()) and kinds and all(isinstance(k, str) for k in kinds)
              and len(set(kinds)) == len(kinds))
    if not shaped:
        return lambda result: False
    top = cls({**spec, "properties": {k: v for k, v in properties.items() if k != "events"}})
    base = cls({k: v for k, v in event.items() if k != "oneOf"})
    by_kind = {k: cls(b) for k, b in zip(kinds, branches, strict=True)}

    def quickly_valid(result: Any) -> bool:
        if not top.is_valid(result):
            return False
        answered = result.get("events", [])
        if type(answered) is not list:
            return False
        for e in answered:
            kind = e.get("event") if type(e) is dict else None
            branch = by_kind.get(kind) if type(kind) is str else None
            if branch is None or not base.is_valid(e) or not branch.is_valid(e):
                return False
        return True

    return quickly_valid


def _empty_domain_known() -> None:
    import copy

    from rasa.shared.core.domain import Domain

    empty = copy.deepcopy(Domain.empty().as_dict())

    def is_empty(self: Any) -> bool:
        return bool(self.as_dict() == empty)

    _replace(Domain, "is_empty", is_empty, "empty_domain_known")


def _cached_event_lookup() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    known: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = known.get(type_name)
        if cls is not None:
            return cls
        cls = original(type_name, default)
        if cls is not None and cls is not default:
            known[type_name] = cls
        return cls

    _replace(Event, "resolve_by_type", staticmethod(resolve_by_type), "cached_event_lookup")


def _sequential_graph_runs() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def plan(self: Any, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
        plans = self.__dict__.setdefault("_hotline_plans", {})
        if targets not in plans:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            order: list[tuple[str, tuple[str, ...]]] = []
            done: set[str] = set()

            def visit(name: str, path: tuple[str, ...] = ()) -> None:
                if name in done or name not in nodes:
                    return
                if name in path:
                    raise GraphRunError(f"the graph has a cycle through '{name}'")
                needs = tuple(nodes[name].needs.values())
                for parent in needs:
                    visit(parent, (*path, name))
                done.add(name)
                order.append((name, needs))

            for target in targets:
                visit(target)
            plans[targets] = order
        return plans[targets]

    def run(self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        order = plan(self, run_targets)
        names = {name for name, _ in order}
        values: dict[str, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            if isinstance(input_value, str) and (input_value in names or input_value in values):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema.")
            values[input_name] = (input_name, input_value)
        try:
            for name, needs in order:
                if name in values:  # an input overrides the node of that name, as in dask's graph dict
                    continue
                values[name] = self._instantiated_nodes[name](*(values.get(n, n) for n in needs))
            return dict(values[t] for t in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    _replace(DaskGraphRunner, "run", run, "sequential_graph_runs")


def _quiet_interpolation() -> None:
    import logging
    import re

    from rasa.core.nlg import interpolator

    original = interpolator.interpolate_text
    placeholder = re.compile(r"{([^\n{}]+?)}")  # Rasa's own pattern
    log = logging.getLogger("rasa.core.nlg.interpolator")

    def interpolate_text(response: str, values: dict[str, Any]) -> str:
        missing = [name for name in placeholder.findall(response) if name not in values]
        if missing:  # Rasa's format would raise KeyError on the first of them; it returns the text unchanged
            log.debug("interpolator: no value for %r; the response is left as it is", missing[0])
            return response
        return original(response, values)

    _replace(interpolator, "interpolate_text", interpolate_text, "quiet_interpolation")


def domain_encoded_once() -> Callable[[Any], str]:
    """ujson.dumps for action calls, the domain's JSON encoded once: Rasa sends the same domain dict, last in the
    body, with every call (`RemoteAction._action_call_format`; `Domain.as_dict` is cached, so it is the same object
    until a new model is loaded) — 57 KB, ~0.6 ms of ujson each time. The output is byte for byte ujson.dumps(body)."""
    import ujson

    kept: list[tuple[dict[str, Any], str]] = []  # (the domain dict, its JSON): the latest only

    def dumps(body: Any) -> str:
        if not (isinstance(body, dict) and body and next(reversed(body)) == "domain"
                and type(body["domain"]) is dict):
            return str(ujson.dumps(body))
        domain = body["domain"]
        if not kept or kept[0][0] is not domain:
            kept[:] = [(domain, ujson.dumps(domain))]
        head = str(ujson.dumps({k: v for k, v in body.items() if k != "domain"}))[:-1]
        return head + ("," if len(body) > 1 else "") + '"domain":' + kept[0][1] + "}"

    return dumps


def _pooled_endpoint_sessions() -> None:
    import asyncio
    import weakref

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    class _Kept:
        """`async with endpoint.session() as s` without closing the kept session at the end."""

        def __init__(self, session: aiohttp.ClientSession) -> None:
            self._session = session

        async def __aenter__(self) -> aiohttp.ClientSession:
            return self._session

        async def __aexit__(self, *exc: object) -> None:
            return None

    dumps = domain_encoded_once()

    def session(self: Any) -> _Kept:
        kept = self.__dict__.setdefault("_hotline_sessions", weakref.WeakKeyDictionary())
        loop = asyncio.get_running_loop()
        current = kept.get(loop)
        if current is None or current.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            current = aiohttp.ClientSession(headers=self.headers, auth=auth,
                                            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                            connector=aiohttp.TCPConnector(keepalive_timeout=2.0),
                                            json_serialize=dumps)
            kept[loop] = current
        return _Kept(current)

    _replace(EndpointConfig, "session", session, "pooled_endpoint_sessions")


# The app environment's hotline/collector.py THRESHOLDS (that package is not installed here): with the model frozen,
# CPython's default still ran 30-65 ms full collections in the middle of a crowd; these ran none during the load.
GC_THRESHOLDS = (10_000, 20, 100)


def _frozen_model_objects() -> None:
    import gc

    from rasa.core import run

    original = run.load_agent_on_start

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        try:
            agent = await original(*args, **kwargs)
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        finally:
            gc.enable()  # serve pauses the collector while Rasa is imported and the model made
        return agent

    _replace(run, "load_agent_on_start", load_agent_on_start, "frozen_model_objects")


# What makes copy.copy take another path than an instance's class and __dict__: a slot class defining any of these
# would be copied differently by Rasa, so the patch refuses it.
_COPY_HOOKS = ("__copy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__slots__",
               "__getnewargs__", "__getnewargs_ex__")


def _plain_slot_copies() -> None:
    from rasa.shared.core.slots import Slot
    from rasa.shared.utils.common import all_subclasses

    hooked = [f"{cls.__name__}.{hook}" for cls in [Slot, *all_subclasses(Slot)] for hook in _COPY_HOOKS
              if hook in vars(cls)]
    if hooked:
        raise RasaInternalsMoved(f"plain_slot_copies: Rasa's slots define their own copying ({', '.join(hooked)})")

    def __copy__(self: Any) -> Any:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    _replace(Slot, "__copy__", __copy__, "plain_slot_copies")


def _remembered_applied_events() -> None:
    from rasa.shared.core.events import ActiveLoop
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.applied_events
    fold = _applied_events_fold(DialogueStateTracker)

    def applied_events(self: Any) -> list[Any]:
        events = self.events
        n = len(events)
        kept = self.__dict__.get(_APPLIED)
        if kept is not None and kept[0] is events and n >= kept[1] > 0 \
                and events[0] is kept[2] and events[kept[1] - 1] is kept[3]:
            if n == kept[1]:
                return list(kept[5])
            new = list(itertools.islice(events, kept[1], n))
            # A loop first named by a new event changes how earlier events were read: only then from the start.
            if not any(isinstance(e, ActiveLoop) and e.name and e.name not in kept[4] for e in new):
                applied = fold(self, new, kept[4], list(kept[5]))
                self.__dict__[_APPLIED] = (events, n, events[0], events[n - 1], kept[4], applied)
                return list(applied)
        applied = original(self)
        if n:
            loops = frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)
            self.__dict__[_APPLIED] = (events, n, events[0], events[n - 1], loops, list(applied))
        return applied

    _replace(DialogueStateTracker, "applied_events", applied_events, "remembered_applied_events")


def _rule_states_read_once() -> None:
    from rasa.core.policies import rule_policy
    from rasa.core.policies.rule_policy import RulePolicy

    previous_action, unset = rule_policy.PREVIOUS_ACTION, rule_policy.SHOULD_NOT_BE_SET
    read: dict[str, list[dict[str, Any]]] = {}

    def _is_rule_applicable(self: Any, rule_key: str, turn_index: int, conversation_state: Any) -> bool:
        rule = read.get(rule_key)
        if rule is None:
            # The rule's states last first, each list value a tuple (what Rasa converts at every comparison).
            rule = read[rule_key] = [
                {kind: {k: tuple(v) if isinstance(v, list) else v for k, v in sub.items()} for kind, sub in st.items()}
                for st in reversed(self._rule_key_to_state(rule_key))]
        # From here Rasa 3.6's _is_rule_applicable and _does_rule_match_state, line for line.
        if turn_index >= len(rule):
            return True
        current_previous_action = conversation_state.get(previous_action)
        rule_state = rule[turn_index]
        rule_previous_action = rule_state.get(previous_action)
        if not rule_previous_action and not current_previous_action:
            return True
        if not rule_previous_action or not current_previous_action:
            return False
        for state_type, rule_sub_state in rule_state.items():
            conversation_sub_state = conversation_state.get(state_type, {})
            for key, value_from_rules in rule_sub_state.items():
                value_from_conversation = conversation_sub_state.get(key)
                if (value_from_rules and value_from_rules != unset and value_from_conversation != value_from_rules) \
                        or (value_from_rules == unset and value_from_conversation
                            and value_from_conversation != unset):
                    return False
        return True

    # The rules whose last state names a previous action, by that action: at the last turn such a rule applies only
    # where the conversation's previous action is that one (Rasa's test above fails on any other), so the others
    # need not be tested. A rule naming none, or naming it otherwise (unset), is always tested.
    by_last_action: dict[int, tuple[Any, dict[Any, list[str]], list[str]]] = {}

    def _get_possible_keys(self: Any, lookup: dict[str, str], states: list[Any]) -> set[str]:
        index = by_last_action.get(id(lookup))
        if index is None or index[0] is not lookup or sum(map(len, index[1].values())) + len(index[2]) != len(lookup):
            named: dict[Any, list[str]] = {}
            always: list[str] = []
            for key in lookup:
                last = self._rule_key_to_state(key)[-1].get(previous_action) or {}
                name = last.get("action_name")
                if isinstance(name, str) and name and name != unset:
                    named.setdefault(name, []).append(key)
                else:
                    always.append(key)
            index = by_last_action[id(lookup)] = (lookup, named, always)
        if not states:
            return set(lookup.keys())
        last_state = states[-1]
        name = (last_state.get(previous_action) or {}).get("action_name")
        possible_keys = {*index[2], *index[1].get(name, ())} if isinstance(name, str) and name else set(index[2])
        # From here Rasa 3.6's _get_possible_keys, line for line.
        for i, state in enumerate(reversed(states)):
            possible_keys = set(filter(lambda _key: self._is_rule_applicable(_key, i, state), possible_keys))
        return possible_keys

    _replace(RulePolicy, "_is_rule_applicable", _is_rule_applicable, "rule_states_read_once")
    _replace(RulePolicy, "_get_possible_keys", _get_possible_keys, "rule_states_read_once")


# On a tracker: (its events deque, how many were read, the first and the last of them, the loop names, the result).
_APPLIED = "_hotline_applied_events"


def _applied_events_fold(tracker_cls: Any) -> Callable[[Any, list[Any], frozenset[str], list[Any]], list[Any]]:
    """The body of Rasa 3.6's DialogueStateTracker.applied_events as a step: `applied` (the events applied so far, with
    `loop_names` those of every event) carried on over `new` events. Kept line for line with Rasa's loop;
    tests/test_rasa_speedups.py compares both after every step of 300 seeded random event sequences."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    def fold(self: Any, new: list[Any], loop_names: frozenset[str], applied: list[Any]) -> list[Any]:
        for event in new:
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                tracker_cls._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                tracker_cls._undo_till_previous(UserUttered, applied)
                tracker_cls._undo_till_previous(ActionExecuted, applied)
            elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
                  and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)):
                tracker_cls._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        return applied

    return fold


def _parsed_yaml_once() -> None:
    import copy

    import rasa.shared.utils.io as rasa_io
    import rasa.shared.utils.validation as validation

    read_yaml, validate = rasa_io.read_yaml, validation.validate_yaml_schema
    parsed: dict[tuple[str, Any], Any] = {}
    valid: set[tuple[str, str, str]] = set()

    def cached_read_yaml(content: str, reader_type: Any = "safe") -> Any:
        if reader_type != "safe":  # round-trip readers return line-annotated objects: not shared
            return read_yaml(content, reader_type)
        if content not in parsed:
            parsed[content] = read_yaml(content, reader_type)
        return copy.deepcopy(parsed[content])

    def checked_once(yaml_file_content: str, schema_path: str, package_name: str = validation.PACKAGE_NAME) -> None:
        key = (yaml_file_content, schema_path, package_name)
        if key not in valid:
            validate(yaml_file_content, schema_path, package_name)
            valid.add(key)

    _replace(rasa_io, "read_yaml", cached_read_yaml, "parsed_yaml_once")
    _replace(validation, "validate_yaml_schema", checked_once, "parsed_yaml_once")


_ACTION = "rasa.core.actions.action.RemoteAction"
_RUNNER = "rasa.engine.runner.dask.DaskGraphRunner"
_ENDPOINT = "rasa.utils.endpoints.EndpointConfig"

SERVING: dict[str, Patch] = {p.name: p for p in [
    Patch("compiled_action_validation",
          replaces=(f"{_ACTION}._validate_action_result",),
          reads=(f"{_ACTION}.run:_validate_action_result", f"{_ACTION}.action_response_format_spec",
                 "rasa.shared.constants.DOCS_BASE_URL"),
          install=_compiled_action_validation,
          why="Rasa calls jsonschema.validate(answer, schema) on every action-server answer, and validate first "
              "checks the large, constant schema against the meta-schema — most of the cost (RasaHQ/rasa#11717). "
              "The schema is checked once; each answer goes through one compiled validator and a bad one raises "
              "the same ValidationError with the same message Rasa adds. Before it, a quick check tests each event "
              "against the one branch of the event schema's oneOf its kind names (a 6-event answer: 1.55 ms to "
              "0.12 ms); it only ever says yes where the whole schema does, and otherwise the whole schema decides."),
    Patch("empty_domain_known",
          replaces=("rasa.shared.core.domain.Domain.is_empty",),
          reads=("rasa.core.processor.MessageProcessor._check_for_unseen_features:is_empty",
                 "rasa.shared.core.domain.Domain.empty", "rasa.shared.core.domain.Domain.as_dict"),
          install=_empty_domain_known,
          why="every parsed message asks whether the model's domain is empty, and Rasa answers by building an empty "
              "Domain from {} to compare with (50 us a turn). The empty domain's dict is made once per process; the "
              "comparison is Rasa's own."),
    Patch("cached_event_lookup",
          replaces=("rasa.shared.core.events.Event.resolve_by_type",),
          reads=("rasa.shared.core.events.Event.from_parameters:resolve_by_type",
                 "rasa.shared.core.events.Event.from_story_string:resolve_by_type"),
          install=_cached_event_lookup,
          why="every event read from the tracker store walks all subclasses of Event (inspect.isabstract on each) "
              "to find its class by name. The answer is kept per name; an unknown name still goes to Rasa's lookup."),
    Patch("sequential_graph_runs",
          replaces=(f"{_RUNNER}.run",),
          reads=(f"{_RUNNER}.__init__:_graph_schema", f"{_RUNNER}.__init__:_instantiated_nodes",
                 "rasa.engine.graph.GraphSchema.minimal_graph_schema", "rasa.engine.graph.GraphSchema.target_names",
                 "rasa.engine.exceptions.GraphRunError"),
          install=_sequential_graph_runs,
          why="each prediction and parse ran the model's graph through dask's synchronous scheduler, after "
              "recomputing the minimal sub-graph. The same nodes run in a topological order computed once per set "
              "of targets, each given its parents' outputs as dask gave them (an unresolved input is passed as its "
              "name, as dask does); a RuntimeError becomes the same GraphRunError."),
    Patch("quiet_interpolation",
          replaces=("rasa.core.nlg.interpolator.interpolate_text",),
          reads=("rasa.core.nlg.interpolator.interpolate:interpolate_text",
                 "rasa.core.nlg.response.TemplatedNaturalLanguageGenerator._fill_response:interpolate"),
          install=_quiet_interpolation,
          why="a button payload such as /inform{\"matter\": \"wage_arrears\"} has braces that name no slot: "
              "str.format raises KeyError, Rasa logs it with a formatted traceback and returns the text unchanged, "
              "on every question with such buttons. Such a text is now returned unchanged at once (one debug line); "
              "any other text still goes through Rasa's own function."),
    Patch("pooled_endpoint_sessions",
          replaces=(f"{_ENDPOINT}.session",),
          reads=(f"{_ENDPOINT}.request:session", f"{_ENDPOINT}.__init__:headers", f"{_ENDPOINT}.__init__:basic_auth",
                 "rasa.core.constants.DEFAULT_REQUEST_TIMEOUT"),
          install=_pooled_endpoint_sessions,
          why="Rasa opened a new aiohttp session — a new TCP connection to the action server — for every action "
              "call. Each endpoint keeps one session per event loop (Rasa's headers, auth and time-out), idle "
              "connections closed after 2 s, before the action server's 5 s keep-alive ends them; the body (the "
              "whole tracker and the domain) is written by ujson, a Rasa dependency: the same JSON values, the "
              "domain's encoded once per model (domain_encoded_once)."),
    Patch("plain_slot_copies",
          replaces=(),  # adds Slot.__copy__, which Rasa does not define (checked when installed)
          reads=("rasa.shared.core.trackers.copy.copy", "rasa.shared.core.slots.Slot",  # the copy trackers use
                 "rasa.shared.utils.common.all_subclasses"),
          install=_plain_slot_copies,
          why="every tracker Rasa makes copies each of the domain's slots with copy.copy — its retrieve, and one "
              "more per policy per prediction (generate_all_prior_trackers) — and copy.copy takes the generic "
              "__reduce_ex__ path for a slot (~5% of a Rasa process's turn). Slot.__copy__ does what that path "
              "does for a class without copy hooks: a new instance of the same class with the same __dict__ "
              "(a class with a hook is refused)."),
    Patch("remembered_applied_events",
          replaces=("rasa.shared.core.trackers.DialogueStateTracker.applied_events",),
          reads=("rasa.shared.core.trackers.DialogueStateTracker._undo_till_previous",
                 "rasa.shared.core.trackers.DialogueStateTracker._undo_till_previous_loop_execution",
                 "rasa.shared.core.trackers.DialogueStateTracker._first_loop_execution_or_unhappy_path",
                 "rasa.shared.core.trackers.DialogueStateTracker.generate_all_prior_trackers:applied_events",
                 "rasa.core.policies.memoization.MemoizationPolicy.predict_action_probabilities"),
          install=_remembered_applied_events,
          why="applied_events() walks every event of the conversation, and for each run of a form looks back "
              "through all events applied so far (quadratic in the conversation); a turn calls it a dozen times "
              "(each policy's states, the memoization, the processor) — half of a prediction's time on a 100-event "
              "wage claim, with two predictions per form turn. A tracker now keeps its answer with the events it "
              "read; the same events give it again (a copy), appended events carry it on with Rasa's own step, "
              "and a new loop name — which changes how earlier events read — or anything else computes it afresh."),
    Patch("rule_states_read_once",
          replaces=("rasa.core.policies.rule_policy.RulePolicy._is_rule_applicable",
                    "rasa.core.policies.rule_policy.RulePolicy._get_possible_keys"),
          reads=("rasa.core.policies.rule_policy.RulePolicy._find_action_from_rules:_get_possible_keys",
                 "rasa.core.policies.rule_policy.RulePolicy._rule_key_to_state",
                 "rasa.core.policies.rule_policy.RulePolicy._does_rule_match_state",
                 "rasa.core.policies.rule_policy.PREVIOUS_ACTION", "rasa.core.policies.rule_policy.SHOULD_NOT_BE_SET"),
          install=_rule_states_read_once,
          why="each prediction tests every rule (285 in our model) against the conversation's last state, and each "
              "test reversed the rule's states into a new list and turned its list values into tuples again — close "
              "to half of a prediction's time. Each rule's states are reversed and converted once per process, and "
              "at the last turn only the rules that name the conversation's previous action (or none) are tested: "
              "the others fail Rasa's test there. The comparison is Rasa's own, line for line."),
    Patch("frozen_model_objects",
          replaces=("rasa.core.run.load_agent_on_start",),
          reads=("rasa.core.run.serve_application:load_agent_on_start",),
          install=_frozen_model_objects,
          why="the loaded model's ~485,000 objects live as long as the process, yet every full garbage collection "
              "walked them all — 0.2–0.5 s with every turn of the process waiting, the load benchmark's p95 tail. "
              "They are moved out of the collector's sight (gc.freeze) once the agent is loaded, the thresholds raised "
              "(GC_THRESHOLDS: the default still ran 30-65 ms full collections under a crowd), and the collector, "
              "paused by `serve` while Rasa was imported and the model made, is turned back on."),
]}

TRAINING: dict[str, Patch] = {p.name: p for p in [
    Patch("parsed_yaml_once",
          replaces=("rasa.shared.utils.io.read_yaml", "rasa.shared.utils.validation.validate_yaml_schema"),
          reads=("rasa.shared.nlu.training_data.formats.rasa_yaml.RasaYAMLReader.reads:read_yaml",
                 "rasa.shared.nlu.training_data.formats.rasa_yaml.RasaYAMLReader.validate:validate_yaml_schema",
                 ("rasa.shared.core.training_data.story_reader.yaml_story_reader.YAMLStoryReader.read_from_string"
                  ":read_yaml"),
                 "rasa.shared.core.domain.Domain.from_yaml:read_yaml",
                 "rasa.shared.core.domain.Domain.from_yaml:validate_yaml_schema",
                 "rasa.shared.utils.validation.PACKAGE_NAME"),
          install=_parsed_yaml_once,
          why="rasa train builds an importer for the validator, one for the fingerprint run and one for the "
              "training graph, and each read parses the YAML with ruamel and checks it against Rasa's pykwalify "
              "schema (about 9 s of a 166 s training). A text checked once is not checked again (a failing check is "
              "not kept: it fails again, with the same error); a text parsed by the safe reader is parsed once, each "
              "caller getting its own deep copy, as a fresh parse would give."),
]}

PATCHES: dict[str, Patch] = {**SERVING, **TRAINING}
_applied: list[str] = []


def apply(names: list[str] | None = None) -> list[str]:
    """Install the named patches (all of SERVING by default) once per process; the names installed so far.

    Refuses an unknown Rasa (`versions.UnknownRasaVersion`) and a Rasa whose internals moved (`RasaInternalsMoved`)
    before changing anything."""
    check_rasa_version()
    chosen = [PATCHES[name] for name in (names if names is not None else list(SERVING)) if name not in _applied]
    moved = {p.name: missing_internals(p) for p in chosen}
    moved = {name: paths for name, paths in moved.items() if paths}
    if moved:
        raise RasaInternalsMoved(
            "hotline_rasa.speedups: Rasa's internals are not where these patches expect them: "
            + "; ".join(f"{name}: {', '.join(paths)}" for name, paths in moved.items())
            + ". Serve without them (HOTLINE_RASA_SPEEDUPS=0) or bring the patches up to date.")
    for patch in chosen:
        patch.install()
        _applied.append(patch.name)
    return list(_applied)


def installed_by(obj: Any) -> str | None:
    """The name of the patch that installed `obj` (a function, or a staticmethod's), None for Rasa's own."""
    return getattr(getattr(obj, "__func__", obj), MARK, None)
