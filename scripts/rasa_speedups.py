"""Work Rasa 3.6 repeats on every turn for nothing, done once per process instead (issue 13).

Applied by scripts/rasa_serve.py before `rasa run` starts; each patch keeps Rasa's behaviour (same answers, same
errors) and is measured in reports/profile_*.md:

- `RemoteAction._validate_action_result`: Rasa calls `jsonschema.validate(result, schema)` on every action-server
  answer, and `validate` first checks the (large, constant) schema against the JSON-Schema meta-schema — most of the
  cost (RasaHQ/rasa#11717). The schema is checked once; each answer is validated by the same compiled validator,
  and a bad answer raises the same `ValidationError` with the same message Rasa adds.
- `Event.resolve_by_type`: every event read from the tracker store walks all subclasses of `Event` (with
  `inspect.isabstract` on each) to find its class by name. The answer is kept per name; an unknown name still goes
  to Rasa's own lookup.
- `SQLTrackerStore` (`cached_sql_trackers`): every turn Rasa reads the conversation's whole tracker back from SQL
  (rows → ORM objects → JSON → events), counts its rows again before saving, and opens a new SQLite connection for
  each (NullPool). Each process now keeps the rows it read or wrote, per conversation, and checks them against the
  database with one indexed `max(id), count(id)` before using them: another process writing to the conversation
  (a fail-over), or a purge, changes either number and the rows are read afresh. What a read returns is computed
  from the rows exactly as Rasa's query does (events since the latest `session_started` by timestamp, in id order).
  SQLite gets one kept connection, WAL and synchronous=NORMAL (the app database's settings), not a new connection and
  a journal write per commit.
- `DaskGraphRunner.run` (`sequential_graph_runs`): each prediction and each parse ran the model's graph through
  dask's synchronous scheduler, after recomputing the minimal sub-graph for the targets. The same nodes now run in
  a topological order computed once per set of targets, in the process's own thread, each given its parents'
  outputs as dask gave them (an unresolved input is passed as its name, as dask does); a RuntimeError becomes the
  same GraphRunError.
- `interpolate_text` (`quiet_interpolation`): Rasa fills `{slot}` placeholders in every text of a response, buttons'
  payloads included, and a payload such as `/inform{"matter": "wage_arrears"}` has braces that name no slot:
  `str.format` raises KeyError, Rasa logs the exception with a formatted traceback and returns the text unchanged —
  on every question with such buttons. A text whose placeholders are not all among the values is now returned
  unchanged at once (one debug line); any other text still goes through Rasa's own function.
- `EndpointConfig.session` (`pooled_endpoint_sessions`): Rasa opened a new aiohttp session — a new TCP connection
  to the action server — for every action call and closed it after. Each endpoint now keeps one session per event
  loop (same headers, auth and time-out as Rasa's), its idle connections closed after 2 s, before the action
  server's own 5 s keep-alive ends them, so a call never lands on a connection being closed. The request body (the
  whole tracker, every call) is written by ujson, a Rasa dependency, not the json module: the same JSON values.
- `load_agent_on_start` (`frozen_model_objects`): after the model is loaded its ~485,000 Python objects live as long
  as the process, yet each of Python's full garbage collections walked them all — ~0.2–0.5 s with every turn of the
  process waiting, the load benchmark's p95 tail. They are moved out of the collector's sight (`gc.freeze()`) once
  the agent is loaded; objects made by turns are collected as before.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

_applied: list[str] = []


def _compiled_action_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
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

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


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

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign, assignment]


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

    DaskGraphRunner.run = run  # type: ignore[method-assign]


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

    interpolator.interpolate_text = interpolate_text


def _pooled_endpoint_sessions() -> None:
    import asyncio
    import weakref

    import aiohttp
    import ujson
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
                                            json_serialize=ujson.dumps)
            kept[loop] = current
        return _Kept(current)

    EndpointConfig.session = session  # type: ignore[method-assign, assignment]


def _frozen_model_objects() -> None:
    import gc

    from rasa.core import run

    original = run.load_agent_on_start

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    run.load_agent_on_start = load_agent_on_start


# Rows kept per process, in characters of event JSON (≈ bytes): a few hundred conversations' worth. Least recently
# used conversations are dropped first; a dropped one is simply read from the database again.
TRACKER_CACHE_CHARS = int(os.environ.get("HOTLINE_TRACKER_CACHE_CHARS", str(64 * 1024 * 1024)))


@dataclass
class _Rows:
    """One conversation's stored events: (id, timestamp, type_name, data JSON) in id order."""
    rows: list[tuple[int, float | None, str, str]]
    chars: int

    def key(self) -> tuple[int | None, int]:
        return (self.rows[-1][0] if self.rows else None, len(self.rows))

    def latest_session(self) -> list[tuple[int, float | None, str, str]]:
        """Rasa's `_event_query(fetch_events_from_all_sessions=False)`: timestamp >= the latest session start."""
        starts = [ts for _, ts, kind, _ in self.rows if kind == "session_started" and ts is not None]
        if not starts:
            return self.rows
        start = max(starts)
        return [r for r in self.rows if r[1] is not None and r[1] >= start]


def _cached_sql_trackers() -> None:
    import collections
    import json

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    original_init = SQLTrackerStore.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._hotline_rows = collections.OrderedDict()  # sender_id → _Rows, least recently used first
        self._hotline_chars = 0
        if self.engine.dialect.name == "sqlite":
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=4,
                                           connect_args={"check_same_thread": False, "timeout": 15})

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")  # shared by every Rasa process; readers never block
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _remember(self: Any, sender_id: str, entry: _Rows | None) -> None:
        old = self._hotline_rows.pop(sender_id, None)
        if old is not None:
            self._hotline_chars -= old.chars
        if entry is None:
            return
        self._hotline_rows[sender_id] = entry
        self._hotline_chars += entry.chars
        while self._hotline_chars > TRACKER_CACHE_CHARS and len(self._hotline_rows) > 1:
            _, dropped = self._hotline_rows.popitem(last=False)
            self._hotline_chars -= dropped.chars

    # Plain SQL: the ORM's query building cost more than the queries (reports/profile_rasa_gil.md).
    key_sql = sa.text("SELECT max(id), count(id) FROM events WHERE sender_id = :sender")
    rows_sql = sa.text("SELECT id, timestamp, type_name, data FROM events WHERE sender_id = :sender ORDER BY id")
    insert_sql = SQLTrackerStore.SQLEvent.__table__.insert()

    def _stored(self: Any, session: Any, sender_id: str) -> _Rows:
        """The conversation's rows: the kept ones when the database still has exactly those, else read afresh."""
        last, count = session.execute(key_sql, {"sender": sender_id}).one()
        entry = self._hotline_rows.get(sender_id)
        if entry is not None and entry.key() == (last, count):
            self._hotline_rows.move_to_end(sender_id)
            return entry
        rows = [tuple(r) for r in session.execute(rows_sql, {"sender": sender_id})]
        entry = _Rows(rows, sum(len(r[3] or "") for r in rows))  # type: ignore[arg-type]
        _remember(self, sender_id, entry)
        return entry

    async def _retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        with self.session_scope() as session:
            entry = _stored(self, session, sender_id)
        rows = entry.rows if fetch_events_from_all_sessions else entry.latest_session()
        if self.domain and rows:
            return DialogueStateTracker.from_dict(sender_id, [json.loads(r[3]) for r in rows], self.domain.slots)
        return None

    async def save(self: Any, tracker: Any) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            entry = _stored(self, session, tracker.sender_id)
            rows = []
            for event in list(tracker.events)[len(entry.latest_session()):]:  # Rasa's `_additional_events`
                data = event.as_dict()
                rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                             "timestamp": data.get("timestamp"),
                             "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             "action_name": data.get("name"), "data": json.dumps(data)})
            if rows:
                session.execute(insert_sql, rows)  # one executemany
                last, count = session.execute(key_sql, {"sender": tracker.sender_id}).one()
            session.commit()
        if not rows:
            return
        if count != len(entry.rows) + len(rows):  # someone else wrote meanwhile: read afresh next time
            _remember(self, tracker.sender_id, None)
            return
        # Only the last id and the count are ever compared (`_Rows.key`): the new rows need no ids of their own.
        added = [(0, r["timestamp"], r["type_name"], r["data"]) for r in rows]
        added[-1] = (last, *added[-1][1:])
        _remember(self, tracker.sender_id, _Rows(entry.rows + added, entry.chars + sum(len(r["data"]) for r in rows)))

    SQLTrackerStore.__init__ = __init__  # type: ignore[method-assign]
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[method-assign]
    SQLTrackerStore.save = save  # type: ignore[method-assign]


def _parsed_yaml_once() -> None:
    """`rasa train` reads the same files again and again: the validator, the fingerprint run and the training graph
    each build their own importer, and every read parses the YAML with ruamel and checks it against Rasa's
    pykwalify schema (about 9 s of a 166 s training: scripts/rasa_train.py). A text checked once is not checked
    again (a failing check is not kept: it fails again, with the same error), and a text parsed by the safe reader
    is parsed once, each caller getting its own deep copy, as a fresh parse would give."""
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

    rasa_io.read_yaml = cached_read_yaml
    validation.validate_yaml_schema = checked_once


PATCHES = {"compiled_action_validation": _compiled_action_validation, "cached_event_lookup": _cached_event_lookup,
           "cached_sql_trackers": _cached_sql_trackers, "sequential_graph_runs": _sequential_graph_runs,
           "quiet_interpolation": _quiet_interpolation, "pooled_endpoint_sessions": _pooled_endpoint_sessions,
           "frozen_model_objects": _frozen_model_objects}


# Applied by scripts/rasa_train.py: work `rasa train` repeats.
TRAINING_PATCHES = {"parsed_yaml_once": _parsed_yaml_once}


def apply(names: list[str] | None = None) -> list[str]:
    """Apply the named patches (all serving patches by default) once per process; the names applied."""
    known = {**PATCHES, **TRAINING_PATCHES}
    for name in names or list(PATCHES):
        if name not in _applied:
            known[name]()
            _applied.append(name)
    return list(_applied)
