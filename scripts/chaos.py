"""The chaos benchmark (issue 27): whole wage claims through `POST /api/chat` of `make run`'s own supervisor
(scripts/run.sh), several at once, while processes of each kind are killed with SIGKILL — a Rasa process (never both:
one healthy Rasa process always exists), an action server, the web app, and PostgreSQL when its binaries are here
(the consultation log on it, written through the outbox while it is down). Counted against what each citizen said:

- outage messages (the 12348 fallback or the "held" notice) while a Rasa process was healthy, and the citizens who got them;
- conversations ending with a wrong fact (a final slot or the consultation row differing from the scripted answer);
- unfinished conversations; consultation rows lost or doubled (exactly one per finished claim).

    .venv/bin/python scripts/chaos.py --conversations 150 --concurrency 6 --kills 6 --out reports/chaos.md
    .venv/bin/python scripts/chaos.py --conversations 8 --concurrency 4 --kills 1 --seed 7    # tests/test_chaos.py

Each citizen answers the question the form asks (`requested_slot` from the tracker, as tests/walk.py) in words
picked by the seed, THINK_S seconds after the last answer; a request the web app did not answer (refused, reset, 5xx) is sent again with the same
message_id, as the web chat does; after an outage message the citizen waits two seconds and answers whatever is
asked then.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.privacy import hash_sender  # noqa: E402

OPENING = "老板欠我们工钱，包工头跑了，我们想讨薪"
OUTAGE_MARKS = ("智能助手暂时无法回答", "系统正在恢复", "系统出了点问题")
# Answers in words, with the fact each states. The opening names a 包工头: construction is yes.
VARIANTS: dict[str, list[tuple[str, Any]]] = {
    "employer": [("包工头老李", "老李"), ("恒通建筑公司", "恒通建筑公司")],
    "amount": [("三万五", 35000), ("8000元", 8000), ("两万", 20000)],
    "people_count": [("12个人", 12), ("5个人", 5)],
    "months_owed": [("半年", 6), ("3个月", 3)],
    "employment_ended": [("是的", True), ("还在干", False)],
    "has_contract": [("没有", False), ("签了", True)],
    "migrant_worker": [("是的", True)],
    "construction": [("是的", True)],
    "evidence": [("有欠条和微信聊天记录", "欠条")],
    "street": [("水上", "沿江街道"), ("中南", "中南街道")],
    "consent_phone": [("不用了", False)],
}
ROW_FACTS = {"amount": "amount", "people_count": "persons", "street": "street"}


def free_ports(n: int) -> int:
    """The first of `n` consecutive free loopback ports."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 60000 - n)
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


# --- PostgreSQL of our own (killed without harming anyone else's) --------------------------------------------------


class Postgres:
    def __init__(self, tmp: Path) -> None:
        self.dir, self.port = tmp / "pg", free_ports(1)
        self.proc: subprocess.Popen[bytes] | None = None
        self.as_user: list[str] = []

    @staticmethod
    def available() -> bool:
        return bool(shutil.which("initdb") and shutil.which("postgres"))

    def setup(self) -> str:
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir.parent, "postgres")
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*self.as_user, "initdb", "-D", str(self.dir), "-A", "trust", "-U", "hotline", "--no-sync"],
                       check=True, capture_output=True)
        self.start()
        subprocess.run([*self.as_user, "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "hotline",
                        "hotline"], check=True, capture_output=True)
        return f"postgresql+psycopg://hotline@127.0.0.1:{self.port}/hotline"

    def start(self) -> None:
        for _ in range(60):
            log = (self.dir.parent / "pg.log").open("ab")
            self.proc = subprocess.Popen(
                [*self.as_user, "postgres", "-D", str(self.dir), "-p", str(self.port), "-k", str(self.dir),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            for _ in range(40):
                if self.ready():
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.25)
            time.sleep(0.5)  # a killed postmaster's backends still hold its memory: wait them out
        raise RuntimeError("PostgreSQL did not start")

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode == 0 \
            if shutil.which("pg_isready") else True

    def postmaster_pid(self) -> int | None:
        pidfile = self.dir / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        pid = self.postmaster_pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --- the stack under test ------------------------------------------------------------------------------------------


@dataclass
class Stack:
    tmp: Path
    web: str
    rasa: list[str]
    env: dict[str, str]
    database_url: str
    proc: subprocess.Popen[bytes] | None = None
    pg: Postgres | None = None

    @property
    def state_file(self) -> Path:
        return self.tmp / "var" / "supervisor.json"

    def units(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())["units"]
        except (OSError, ValueError, KeyError):
            return {}

    def rasa_healthy(self) -> bool:
        return any(u.get("ready") for n, u in self.units().items() if n.startswith("rasa"))

    def start(self, timeout: float = 300) -> None:
        log = (self.tmp / "run.log").open("ab")
        self.proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            units = self.units()
            if units and all(u.get("ready") for u in units.values()):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"make run's supervisor exited:\n{(self.tmp / 'run.log').read_text()[-3000:]}")
            time.sleep(0.5)
        raise RuntimeError("the stack did not come up")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.pg is not None:
            self.pg.stop()


def make_stack(tmp: Path, *, postgres: bool) -> Stack:
    rasa_base, actions_base, web = free_ports(2), free_ports(2), free_ports(1)
    pg = Postgres(tmp) if postgres else None
    database_url = pg.setup() if pg else f"sqlite:///{tmp / 'hotline.db'}"
    env = {**os.environ, "HOTLINE_VAR_DIR": str(tmp / "var"), "HOTLINE_DATABASE_URL": database_url,
           "HOTLINE_TRACKER_STORE_URL": f"sqlite:///{tmp / 'rasa_tracker.db'}",
           "HOTLINE_RASA_BASE_PORT": str(rasa_base), "HOTLINE_ACTIONS_PORT": str(actions_base),
           "HOTLINE_WEB_PORT": str(web), "HOTLINE_WEB_HOST": "127.0.0.1", "HOTLINE_RASA_PROCESSES": "2",
           "HOTLINE_ACTIONS_PROCESSES": "2", "HOTLINE_RASA_TOKEN": secrets.token_hex(16),
           "HOTLINE_ACTIONS_TOKEN": secrets.token_hex(16), "HOTLINE_SENDER_SALT": secrets.token_hex(8),
           "HOTLINE_SECRET_KEY": secrets.token_hex(16), "HOTLINE_RATE_LIMIT": "0"}
    for name in ("RASA_URL", "RASA_URLS", "HOTLINE_ACTIONS_URL", "HOTLINE_ACTIONS_URLS", "HOTLINE_REDIS_URL",
                 "TELEGRAM_BOT_TOKEN", "HOTLINE_SUPERVISOR_STATE"):
        env.pop(name, None)
    return Stack(tmp, f"http://127.0.0.1:{web}", [f"http://127.0.0.1:{rasa_base + i}" for i in range(2)], env,
                 database_url, pg=pg)


# --- citizens ------------------------------------------------------------------------------------------------------


@dataclass
class Citizen:
    n: int
    sender: str
    answers: dict[str, tuple[str, Any]]
    asked: list[str] = field(default_factory=list)
    outages: int = 0
    outages_rasa_healthy: int = 0
    finished: bool = False
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def answer(self, slot: str) -> str:
        if slot in self.answers:
            return self.answers[slot][0]
        return "跳过"


def citizens(n: int, seed: int) -> list[Citizen]:
    rng = random.Random(seed)
    return [Citizen(i, f"chaos-{seed}-{i}-{uuid.uuid4().hex[:8]}",
                    {slot: rng.choice(options) for slot, options in VARIANTS.items()}) for i in range(n)]


async def tracker(stack: Stack, client: httpx.AsyncClient, conversation: str) -> dict[str, Any]:
    for _ in range(120):
        for base in stack.rasa:
            try:
                resp = await client.get(f"{base}/conversations/{conversation}/tracker",
                                        params={"token": stack.env["HOTLINE_RASA_TOKEN"], "include_events": "NONE"},
                                        timeout=30)
                if resp.status_code == 200:
                    return resp.json()
            except httpx.HTTPError:
                continue
        await asyncio.sleep(0.5)
    raise RuntimeError("no Rasa process answered a tracker read for two minutes")


IN_FLIGHT = [0]  # requests the citizens have open: the killer strikes while some are


async def say(stack: Stack, client: httpx.AsyncClient, c: Citizen, message: str) -> list[str]:
    """One message through the door; sent again with the same id until the web app answers (≤ 3 minutes)."""
    body = {"sender": c.sender, "message": message, "message_id": uuid.uuid4().hex[:16]}
    started = time.monotonic()
    for _ in range(360):
        try:
            IN_FLIGHT[0] += 1
            try:
                resp = await client.post(f"{stack.web}/api/chat", json=body, timeout=60)
            finally:
                IN_FLIGHT[0] -= 1
            if resp.status_code == 200:
                c.latencies.append(time.monotonic() - started)
                texts = [m.get("text") or "" for m in resp.json()["messages"]]
                if any(mark in t for t in texts for mark in OUTAGE_MARKS):
                    c.outages += 1
                    if stack.rasa_healthy():
                        c.outages_rasa_healthy += 1
                        said = next(t for t in texts if any(mark in t for mark in OUTAGE_MARKS))
                        c.problems.append(f"outage message while a Rasa process was healthy, to {message!r} "
                                          f"(question {c.asked[-1] if c.asked else 'opening'}): {said[:16]}…")
                return texts
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError("the web app did not answer for three minutes")


THINK_S = (0.3, 1.5)  # a citizen reads the question and types: seconds between an answer and the next message


async def walk(stack: Stack, client: httpx.AsyncClient, c: Citizen, limit: int = 40) -> None:
    conversation = "web:" + hash_sender(c.sender, stack.env["HOTLINE_SENDER_SALT"])
    think = random.Random(c.sender)
    texts = await say(stack, client, c, OPENING)
    for _ in range(limit):
        await asyncio.sleep(think.uniform(*THINK_S))
        if any(mark in t for t in texts for mark in OUTAGE_MARKS):
            await asyncio.sleep(2.0)
        t = await tracker(stack, client, conversation)
        slot = (t.get("slots") or {}).get("requested_slot")
        if slot is None and not (t.get("active_loop") or {}).get("name"):
            c.finished = True
            return
        if slot is None:
            texts = await say(stack, client, c, "继续")
            continue
        c.asked.append(slot)
        texts = await say(stack, client, c, c.answer(slot))


# --- the killer ----------------------------------------------------------------------------------------------------


@dataclass
class Killer:
    stack: Stack
    rng: random.Random
    per_kind: int
    every_s: float
    crash_loop: int = 0
    kills: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    crash_loop_result: str = ""

    def kinds(self) -> list[str]:
        return ["rasa", "actions", "web", *(["postgres"] if self.stack.pg else [])]

    def _kill_unit(self, kind: str) -> bool:
        units = self.stack.units()
        names = [n for n, u in units.items() if n.rstrip("0123456789") == kind and u.get("pid")]
        if kind == "rasa":  # never both: only when every Rasa process is up
            if not all(units[n].get("ready") for n in names):
                return False
        ready = [n for n in names if units[n].get("ready")]
        if not ready:
            return False
        name = self.rng.choice(ready)
        try:
            os.kill(int(units[name]["pid"]), signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.log.append(f"{time.strftime('%H:%M:%S')} SIGKILL {name} (pid {units[name]['pid']})")
        return True

    async def _kill_postgres(self) -> bool:
        pg = self.stack.pg
        assert pg is not None
        pid = pg.postmaster_pid()
        if not pid or not pg.ready():
            return False
        os.kill(pid, signal.SIGKILL)
        self.log.append(f"{time.strftime('%H:%M:%S')} SIGKILL postgres (pid {pid}); restarted after 2 s")
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pg.start)
        return True

    async def _mid_turn(self) -> None:
        """Wait (≤ 3 s) until turns are in flight: a kill then lands in the middle of one."""
        for _ in range(60):
            if IN_FLIGHT[0] >= 2:
                return
            await asyncio.sleep(0.05)

    async def _crash_loop(self, name: str, done: asyncio.Event) -> None:
        """Kill one Rasa process each time it comes back, `crash_loop` times: the supervisor must back it off alone
        while the other Rasa process and everything else keep serving."""
        killed = 0
        last_pid = None  # a pid already killed: until the supervisor has reaped it, it is a zombie a kill still "hits"
        first = time.monotonic()
        while killed < self.crash_loop and not done.is_set():
            unit = self.stack.units().get(name, {})
            if unit.get("pid") and unit.get("pid") != last_pid and unit.get("state") in ("starting", "running"):
                await (self._mid_turn() if killed == 0 else asyncio.sleep(0.5))  # the first: a serving process
                unit = self.stack.units().get(name, {})
                if unit.get("pid") == last_pid:
                    continue
                try:
                    os.kill(int(unit["pid"]), signal.SIGKILL)
                    last_pid = unit["pid"]
                    killed += 1
                    self.log.append(f"{time.strftime('%H:%M:%S')} SIGKILL {name} (pid {unit['pid']}), crash loop "
                                    f"{killed}/{self.crash_loop}")
                except (ProcessLookupError, KeyError, TypeError, ValueError):
                    pass
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        units = self.stack.units()
        others = {n: u.get("state") for n, u in units.items() if n != name}
        self.crash_loop_result = (
            f"{name} killed {killed} times in {time.monotonic() - first:.0f} s: supervisor state "
            f"`{units.get(name, {}).get('state')}` (back-off level {units.get(name, {}).get('backoff_level')}), "
            f"the others {', '.join(f'{n} `{st}`' for n, st in sorted(others.items()))}")
        self.log.append(f"{time.strftime('%H:%M:%S')} {self.crash_loop_result}")

    async def run(self, done: asyncio.Event) -> None:
        order = self.kinds()
        if self.crash_loop:
            await self._crash_loop("rasa0", done)
        while not done.is_set():
            pending = [k for k in order if self.kills.get(k, 0) < self.per_kind]
            if not pending:
                return
            self.rng.shuffle(pending)
            await self._mid_turn()
            for kind in pending:
                killed = await self._kill_postgres() if kind == "postgres" else self._kill_unit(kind)
                if killed:
                    self.kills[kind] = self.kills.get(kind, 0) + 1
                    break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), self.every_s)


# --- checking what was kept ----------------------------------------------------------------------------------------


def flush_outbox(stack: Stack) -> str:
    """Write what waits in the outbox (consultations queued while PostgreSQL was down); what `hotline` said."""
    said = ""
    for _ in range(30):
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "hotline"), "outbox", "flush"], env=stack.env, cwd=ROOT,
                              capture_output=True, text=True)
        said = (done.stdout + done.stderr).strip()
        if done.returncode == 0:
            return said
        time.sleep(1)
    return said


def check(stack: Stack, people: list[Citizen], slots: dict[str, dict[str, Any]]) -> dict[str, int]:
    engine = create_engine(stack.database_url)
    lost = doubled = wrong = 0
    try:
        with engine.connect() as conn:
            for c in people:
                sender_hash = hash_sender(c.sender, stack.env["HOTLINE_SENDER_SALT"])
                rows = [dict(r._mapping) for r in conn.execute(
                    text("SELECT * FROM consultations WHERE sender_hash = :h"), {"h": sender_hash})]
                if c.finished and not rows:
                    lost += 1
                    c.problems.append("no consultation row")
                if len(rows) > 1:
                    doubled += 1
                    c.problems.append(f"{len(rows)} consultation rows")
                bad = wrong_facts(c, slots.get(c.sender, {}), rows[0] if rows else None)
                if bad:
                    wrong += 1
                    c.problems.extend(bad)
    finally:
        engine.dispose()
    return {"lost": lost, "doubled": doubled, "wrong": wrong}


def wrong_facts(c: Citizen, slots: dict[str, Any], row: dict[str, Any] | None) -> list[str]:
    bad = []
    for slot in set(c.asked):
        if slot not in c.answers:
            continue
        words, want = c.answers[slot]
        got = slots.get(slot)
        if slot == "employer":
            ok = isinstance(got, str) and want in got
        elif slot == "evidence":
            ok = isinstance(got, list) and want in got
        elif slot == "consent_phone":
            ok = got in (False, None)
        elif isinstance(want, bool):
            ok = got is want
        elif isinstance(want, int):
            ok = got is not None and float(got) == want
        else:
            ok = got == want
        if not ok:
            bad.append(f"{slot}: said {words!r} ({want!r}), kept {got!r}")
        if row is not None and slot in ROW_FACTS and c.finished:
            column = row.get(ROW_FACTS[slot])
            if column is None or (float(column) != want if isinstance(want, int) else column != want):
                bad.append(f"consultation {ROW_FACTS[slot]}: said {want!r}, logged {column!r}")
    return bad


# --- the run -------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    conversations: int
    concurrency: int
    finished: int
    outages: int
    outages_rasa_healthy: int
    citizens_with_outage: int
    wrong: int
    lost: int
    doubled: int
    kills: dict[str, int]
    turns: int
    seconds: float
    p50_s: float
    p95_s: float
    database: str
    problems: list[str]
    kill_log: list[str]
    crash_loop: str = ""

    HEADER = ("| run | conversations (at once) | kills (SIGKILL) | finished | outage messages while a Rasa process was "
              "healthy (citizens) | conversations with a wrong fact | consultation rows lost / doubled | "
              "turns, p50 / p95 |\n|---|---|---|---|---|---|---|---|")

    def row(self, name: str) -> str:
        kills = " / ".join(f"{k} {v}" for k, v in sorted(self.kills.items())) or "none"
        return (f"| {name} | {self.conversations} ({self.concurrency}) | {kills} | {self.finished}/{self.conversations} | "
                f"{self.outages_rasa_healthy} ({self.citizens_with_outage}) | {self.wrong} | {self.lost} / "
                f"{self.doubled} | {self.turns}, {self.p50_s:.2f} s / {self.p95_s:.2f} s |")

    def ok(self) -> bool:
        return (self.finished == self.conversations and self.outages_rasa_healthy == 0 and self.wrong == 0
                and self.lost == 0 and self.doubled == 0)


async def _drive(stack: Stack, people: list[Citizen], concurrency: int, killer: Killer) -> dict[str, dict[str, Any]]:
    done = asyncio.Event()
    queue: asyncio.Queue[Citizen] = asyncio.Queue()
    for c in people:
        queue.put_nowait(c)
    slots: dict[str, dict[str, Any]] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)  # a killed web app leaves no dead socket

    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        async def worker() -> None:
            while not queue.empty():
                c = queue.get_nowait()
                try:
                    await walk(stack, client, c)
                except Exception as exc:  # counted as unfinished, with the reason
                    c.problems.append(f"walk stopped: {type(exc).__name__}: {exc}")
                conversation = "web:" + hash_sender(c.sender, stack.env["HOTLINE_SENDER_SALT"])
                try:
                    slots[c.sender] = (await tracker(stack, client, conversation)).get("slots") or {}
                except Exception:
                    slots[c.sender] = {}

        kill_task = asyncio.create_task(killer.run(done))
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        done.set()
        await kill_task
    return slots


def run(*, conversations: int, concurrency: int, kills: int, seed: int, postgres: bool | None = None,
        kill_every_s: float = 5.0, keep: bool = False, control: int = 0,
        crash_loop: int = 0) -> tuple[Result, Result | None]:
    """The chaos run, after `control` conversations of the same scripts on the same stack with nothing killed (what
    the bot does without faults: any outage message or wrong fact there is not the faults' doing)."""
    postgres = Postgres.available() if postgres is None else postgres
    tmp = Path(tempfile.mkdtemp(prefix="hotline-chaos-"))
    stack = make_stack(tmp, postgres=postgres)
    people = citizens(conversations, seed)
    killer = Killer(stack, random.Random(seed), kills, kill_every_s, crash_loop)
    baseline = citizens(control, seed)
    try:
        stack.start()
        control_result = None
        if control:
            started = time.monotonic()
            slots = asyncio.run(_drive(stack, baseline, concurrency, Killer(stack, random.Random(seed), 0, 1.0)))
            control_result = _result(stack, baseline, slots, concurrency, Killer(stack, random.Random(0), 0, 1.0),
                                     time.monotonic() - started, postgres)
        started = time.monotonic()
        slots = asyncio.run(_drive(stack, people, concurrency, killer))
        seconds = time.monotonic() - started
        if stack.pg is not None and not stack.pg.ready():
            stack.pg.start()
        time.sleep(2.0)  # the action servers' outbox threads first
        flush_outbox(stack)
        return _result(stack, people, slots, concurrency, killer, seconds, postgres), control_result
    finally:
        stack.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _result(stack: Stack, people: list[Citizen], slots: dict[str, dict[str, Any]], concurrency: int, killer: Killer,
            seconds: float, postgres: bool) -> Result:
    counts = check(stack, people, slots)
    conversations = len(people)
    latencies = sorted(t for c in people for t in c.latencies)
    return Result(
        conversations=conversations, concurrency=concurrency, finished=sum(c.finished for c in people),
        outages=sum(c.outages for c in people), outages_rasa_healthy=sum(c.outages_rasa_healthy for c in people),
        citizens_with_outage=sum(1 for c in people if c.outages_rasa_healthy), wrong=counts["wrong"],
        lost=counts["lost"], doubled=counts["doubled"], kills=dict(killer.kills), turns=len(latencies),
        seconds=seconds, p50_s=statistics.median(latencies) if latencies else 0.0,
        p95_s=latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
        database="PostgreSQL (own server, killed too)" if postgres else "SQLite",
        problems=[f"citizen {c.n}: {p}" for c in people for p in c.problems], kill_log=killer.log,
        crash_loop=killer.crash_loop_result)


def report(result: Result, control: Result | None, args: argparse.Namespace) -> str:
    problems = "\n".join(f"- {p}" for p in result.problems[:40]) or "- none"
    rows = "\n".join([Result.HEADER, *([control.row("control: nothing killed")] if control else []),
                      result.row("chaos")])
    control_problems = ("\n\nProblems of the control run (the bot without faults):\n"
                        + ("\n".join(f"- {p}" for p in control.problems[:20]) or "- none")) if control else ""
    kill_log = "\n".join(f"    {line}" for line in result.kill_log)
    return f"""# Chaos benchmark: processes killed mid-conversation (issue 27)

`make bench` → `.venv/bin/python scripts/chaos.py --conversations {args.conversations} --concurrency {args.concurrency} \
--kills {args.kills} --seed {args.seed} --control {args.control} --crash-loop {args.crash_loop}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, this machine (2 cores,
shared). `make run`'s own supervisor (scripts/run.sh → scripts/supervise.py) with two Rasa processes, two action
servers and the web app; consultation log on {result.database}. Whole wage claims through `POST /api/chat`, each
citizen answering the question asked in words picked by the seed, while one process at a time is killed with SIGKILL
about every {args.kill_every:.0f} s (a Rasa process only while both are up: a healthy Rasa process always exists).
Every answer is checked against what the citizen said: the final slots and the consultation row.

{rows}

{result.turns} turns in {result.seconds:.0f} s. Outage messages of any kind: {result.outages}. Each kill waits (≤ 3 s)
until at least two turns are in flight.
{f"{chr(10)}A crash loop first: {result.crash_loop}; the claims went on meanwhile.{chr(10)}" if result.crash_loop else ""}
Verdict: {"every conversation finished, no outage message while a Rasa process was healthy, no wrong fact, no row lost or doubled" if result.ok() else "NOT MET (problems below)"}.

Problems:
{problems}{control_problems}

Kills:
{kill_log}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--kills", type=int, default=6, help="kills of each kind of process")
    parser.add_argument("--kill-every", type=float, default=5.0, help="seconds between kills")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--crash-loop", type=int, default=0,
                        help="first kill rasa0 this many times as it comes back (5: the supervisor backs it off)")
    parser.add_argument("--control", type=int, default=0,
                        help="first walk this many of the same scripts with nothing killed (the bot's own baseline)")
    parser.add_argument("--no-postgres", action="store_true", help="the consultation log on SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    parser.add_argument("--out", type=Path, help="write the report here (markdown)")
    args = parser.parse_args()
    result, control = run(conversations=args.conversations, concurrency=args.concurrency, kills=args.kills,
                          seed=args.seed, postgres=False if args.no_postgres else None, kill_every_s=args.kill_every,
                          keep=args.keep, control=args.control, crash_loop=args.crash_loop)
    text_ = report(result, control, args)
    print(text_)
    if args.out:
        args.out.write_text(text_, encoding="utf-8")
    return 0 if result.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
