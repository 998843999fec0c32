"""Load benchmark (issue 13): a crowd of citizens through the web chat's door, ours against stock Rasa.

    .venv/bin/python scripts/bench_load.py                       (part of make bench; writes reports/bench_load.md)
    .venv/bin/python scripts/bench_load.py --variants current --conversations 40 --concurrency 8   (a quick look)

For each variant it starts a private stack on free loopback ports (action server, one or more Rasa processes, the
web app on SQLite with the sample roster), then plays `--conversations` citizens, `--concurrency` at once, through
`POST /api/chat`: whole wage claims, legal-aid checks, advisor look-ups and handoffs in a fixed seeded mix. Each
citizen waits for the answer and answers what the bot asked, the way a citizen writes. How a citizen knows what was
asked (`--slot-source`, a comma list runs each on the same stack): `words` (default) reads the bot's words and
buttons, as people do — the question is known from its wording in domain/*.yml, and half the time a button under it is
pressed; `tracker` reads the slot from `GET /conversations/{id}/tracker?token=` on Rasa, a read no real citizen
makes (issue 13's measurement; it costs Rasa a tracker serialisation per turn). Afterwards it checks the
consultation log: one row per finished conversation, none lost, none duplicated. It also measures, on the idle stack, one form played sequentially, `POST /conversations/{id}/predict`
mid-form and Rasa's warm start (process start to `/status`).

"stock" is `rasa init`'s pipeline and policies with JiebaTokenizer (configs/stock/config.yml), trained on the same
data and domain into models/stock/, behind the same web app and action server: the result is a ratio.
Everything it starts is stopped at the end, also on Ctrl-C or a failure; every wait is bounded.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import proc_stats  # noqa: E402  (scripts/, beside this file)

from hotline.privacy import hash_sender  # noqa: E402

APP_BIN = ROOT / ".venv" / "bin"
RASA_BIN = ROOT / ".venv-rasa" / "bin"
FALLBACK_MARK = "智能助手暂时无法回答"  # bot.rasa_client.FALLBACK_TEXT: Rasa failed or timed out

# What citizens write when each slot is asked: several wordings each, never only button payloads.
ANSWERS: dict[str, list[str]] = {
    "employer": ["包工头老李", "恒通建筑公司", "鑫达劳务公司", "老板姓王，叫王建国"],
    "amount": ["三万五", "两万多", "8000块", "一共欠了12000元"],
    "people_count": ["12个人", "就我自己", "五个人", "我们3个工友"],
    "months_owed": ["半年", "三个多月", "4个月", "两个月"],
    "employment_ended": ["是的", "不干了", "已经走了", "还在干"],
    "has_contract": ["没有", "没签", "签了", "没有合同"],
    "evidence": ["有欠条和微信聊天记录", "欠条", "没有", "有考勤表"],
    "street": ["水上", "中南街道", "城中街道", "公园街道"],
    "consent_phone": ["不用了", "不要"],
    "phone": ["跳过"],
    "matter": ['/inform{"matter": "wage_arrears"}', "讨要工资", "工伤赔偿", '/inform{"matter": "family_dispute"}'],
    "migrant_worker": ["是的", "是", "不是"],
    "groups": ["都不是", "/deny", "没有"],
    "monthly_income": ["一个月一千五", "每月两千左右", "1800"],
    "household_size": ["家里四口人", "3个人", "五口人"],
    "has_valuable_assets": ["没有", "没有房子车子"],
    "community": ["东台社区", "东台", "八一社区", "弯塘"],
    # Questions that are not a slot's, for citizens reading the bot's words (`words`): 「还要继续吗？」 and
    # 「您是想问“…”吗？」; 「没太看懂…」 gets the previous answer again (REPHRASE).
    "continue": ["继续", "是的"],
    "affirmation": ["是的", "对"],
}
REPHRASE = "rephrase"
OPENERS: dict[str, list[str]] = {
    "wage": ["老板欠我们工钱，包工头跑了，我们想讨薪", "工地老板拖欠工资三个月了怎么办", "包工头欠我工钱不给",
             "我想讨薪", "公司欠了我两个月工资"],
    "legal_aid": ["请不起律师怎么办", "我想申请法律援助", "法律援助需要什么条件", "没钱请律师能申请援助吗"],
    "advisor": ["我们社区的法律顾问是谁", "想找法律顾问", "社区有没有免费的律师", "我们东台社区的法律顾问是哪个"],
    "handoff": ["转人工", "我要找真人", "能不能让工作人员跟我说"],
}
# The mix before Spring Festival: mostly wages.
MIX = [("wage", 0.5), ("legal_aid", 0.2), ("advisor", 0.2), ("handoff", 0.1)]
# Buttons a citizen answering a question does not press: they leave the question, not answer it.
NAVIGATION = ("转人工", "人工", "重新开始", "12348", "展开", "返回")
SLOT_SOURCES = ("words", "tracker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------------- the stack
@dataclass
class Stack:
    name: str
    model: Path
    tmp: Path
    processes: int
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    actions_token: str = field(default_factory=lambda: secrets.token_hex(16))
    action_workers: int = 1
    actions_url: str = ""
    # For Rasa only: HOTLINE_RASA_SPEEDUPS=0 (stock, and "before"), PYTHONPATH of an overlay (jsonschema 4.17).
    rasa_env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)
    rasa_procs: list[subprocess.Popen] = field(default_factory=list)
    rasa_urls: list[str] = field(default_factory=list)
    web_url: str = ""
    db_url: str = ""
    warm_start_s: list[float] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """What scripts/run.sh and scripts/local_env.sh give the services, pointed at this stack's own files."""
        return {**os.environ, "HOTLINE_DATABASE_URL": self.db_url, "HOTLINE_VAR_DIR": str(self.tmp),
                "HOTLINE_SENDER_SALT": self.salt, "HOTLINE_SECRET_KEY": self.salt, "HOTLINE_RASA_TOKEN": self.token,
                "HOTLINE_ACTIONS_TOKEN": self.actions_token, "HOTLINE_ACTIONS_URL": self.actions_url,
                "HOTLINE_TRACKER_STORE_URL": f"sqlite:///{self.tmp / 'rasa_tracker.db'}",
                "HOTLINE_LOCK_STORE": "in_memory", "HOTLINE_REDIS_HOST": "127.0.0.1", "HOTLINE_REDIS_PORT": "6379",
                "HOTLINE_REDIS_DB": "1", "HOTLINE_REDIS_PASSWORD": "",
                "RASA_URLS": ",".join(self.rasa_urls), "RASA_URL": self.rasa_urls[0] if self.rasa_urls else "",
                "ACTION_SERVER_SANIC_WORKERS": str(self.action_workers),
                "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}

    def spawn(self, log_name: str, cmd: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.tmp / f"{log_name}.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env(), **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # own process group: stop() reaches its children
        self.procs.append(proc)
        return proc

    def log_tail(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-2500:] if path.exists() else ""

    def start(self, timeout_s: float) -> None:
        """The layout of scripts/run.sh on free loopback ports: the action server, N Rasa processes sharing one
        SQL tracker store (hotline_rasa.serve, the project's endpoints.yml), the web app routing by sender."""
        self.db_url = f"sqlite:///{self.tmp / 'bench.db'}"
        actions_port = free_port()
        self.actions_url = f"http://127.0.0.1:{actions_port}/webhook"
        self.rasa_urls = [f"http://127.0.0.1:{free_port()}" for _ in range(self.processes)]
        env = self.env()
        for args in (["db", "upgrade"], ["directory", "import", str(ROOT / "data" / "directory_sample.csv")]):
            subprocess.run([str(APP_BIN / "hotline"), *args], cwd=ROOT, env=env, check=True, capture_output=True,
                           timeout=120)
        self.spawn("actions", [str(APP_BIN / "python"), "-m", "actions.server", "-p", str(actions_port)])
        starts = []
        for i, url in enumerate(self.rasa_urls):
            starts.append(time.monotonic())
            self.rasa_procs.append(self.spawn(f"rasa{i}", [
                str(RASA_BIN / "python"), "-m", "hotline_rasa.serve", "--enable-api", "-i", "127.0.0.1",
                "-p", url.rsplit(":", 1)[1], "-m", str(self.model), "--endpoints", str(ROOT / "endpoints.yml"),
                "--credentials", str(ROOT / "credentials.yml")], self.rasa_env))
        web_port = free_port()
        self.spawn("web", [str(APP_BIN / "uvicorn"), "bot.app:app", "--host", "127.0.0.1", "--port", str(web_port),
                           "--no-access-log", "--log-level", "warning"])
        self.web_url = f"http://127.0.0.1:{web_port}"
        deadline = time.monotonic() + timeout_s
        self._wait(f"http://127.0.0.1:{actions_port}/health", deadline)
        for url, t0 in zip(self.rasa_urls, starts, strict=True):
            self._wait(f"{url}/status?token={self.token}", deadline)
            self.warm_start_s.append(time.monotonic() - t0)
        self._wait(f"{self.web_url}/openapi.json", deadline, ok_any=True)

    def rasa_for(self, conversation_id: str) -> str:
        """The conversation's hash home: where the web app routes it unless a crowd had that process over its share when
        the conversation began (bot/rasa_placement.py; this script cannot see that). Any process reads any tracker
        (one shared store), so `tracker` mode still reads the right one, at times from the other process."""
        from bot.rasa_client import rasa_urls_for

        return rasa_urls_for(conversation_id, tuple(self.rasa_urls))[0]

    def _wait(self, url: str, deadline: float, ok_any: bool = False) -> None:
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.name}: {proc.args[0]} exited ({proc.returncode})")
            try:
                r = httpx.get(url, timeout=2, trust_env=False)
                if r.status_code < 400 or ok_any:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name}: {url} did not answer in time")

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds used so far by each part of the stack (its process tree), and by this benchmark's client."""
        out: dict[str, float] = {}
        for proc in self.procs:
            part = "rasa" if proc in self.rasa_procs else ("actions" if "actions.server" in proc.args else "web")
            cpu = proc_stats.cpu_s(proc.pid)
            out[part] = out.get(part, 0.0) + cpu
            if proc in self.rasa_procs:
                out[f"rasa{self.rasa_procs.index(proc)}"] = cpu
        t = os.times()
        out["bench client"] = t.user + t.system
        return out

    def rasa_rss_mb(self) -> float:
        """Resident memory of every Rasa process and its children, in MB."""
        return sum(proc_stats.rss_mb(proc.pid) for proc in self.rasa_procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


class RunningStack(Stack):
    """A stack this script did not start: `make run`'s (or any on this machine), found by its processes' command
    lines, its salt and database read from the project's settings (run from the same directory, with the same
    HOTLINE_VAR_DIR). It is measured as it is and left running."""

    def __init__(self, web_url: str) -> None:
        from hotline.settings import get_settings

        settings = get_settings()
        super().__init__("running", ROOT / "models" / "current.tar.gz", Path(tempfile.gettempdir()), 0,
                         salt=settings.sender_salt)
        self.web_url, self.db_url = web_url.rstrip("/"), settings.database_url
        self.rasa_urls = list(settings.rasa_urls)
        self.pids: dict[str, list[int]] = {"rasa": [], "actions": [], "web": []}
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                args = cmdline.read_bytes().split(b"\0")
                pid = int(cmdline.parent.name)
                if b"hotline_rasa.serve" in args:
                    self.pids["rasa"].append(pid)
                elif b"actions.server" in args:
                    self.pids["actions"].append(pid)
                elif b"bot.app:app" in args:
                    self.pids["web"].append(pid)
        self.processes = len(self.pids["rasa"])
        if not all(self.pids.values()):
            raise SystemExit(f"--against: not every part of a stack is running here: {self.pids}")

    def cpu_s(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part, pids in self.pids.items():
            for i, pid in enumerate(sorted(pids)):
                cpu = proc_stats.cpu_s(pid)
                out[part] = out.get(part, 0.0) + cpu
                if part == "rasa":
                    out[f"rasa{i}"] = cpu
        t = os.times()
        out["bench client"] = t.user + t.system
        return out

    def rasa_rss_mb(self) -> float:
        return sum(proc_stats.rss_mb(pid) for pid in self.pids["rasa"])

    def stop(self) -> None:
        """Not ours to stop."""


# ------------------------------------------------------------------------------------------------ the citizens
# The citizens' HTTP client shares the machine with the stack it measures, so it must cost little: aiohttp spends
# ~0.6 ms of CPU per request with 32 in flight where httpx spent ~5.6 (scripts/bench_http_clients.py).
HTTP_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise aiohttp.ClientResponseError(None, (), status=self.status_code)  # type: ignore[arg-type]


class Client:
    """The few calls the citizens make, over one pooled aiohttp session."""

    def __init__(self, connections: int = 100) -> None:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections), trust_env=False,
                                             timeout=aiohttp.ClientTimeout(total=30))

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def _call(self, method: str, url: str, **kw: Any) -> Answer:
        async with self.session.request(method, url, **kw) as resp:
            return Answer(resp.status, await resp.read())

    async def get(self, url: str, params: dict[str, str] | None = None) -> Answer:
        return await self._call("GET", url, params=params)

    async def post(self, url: str, json: Any = None, params: dict[str, str] | None = None) -> Answer:
        return await self._call("POST", url, json=json, params=params)

@dataclass
class Conversation:
    flow: str
    sender: str
    conversation_id: str = ""
    turns: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    # One row per turn for --turns-out: start (s from the load's start), ms, flow, what was answered.
    turns: list[dict[str, Any]] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)
    tracker_ms: list[float] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    wall_s: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    cpu_ms_per_turn: dict[str, float] = field(default_factory=dict)
    rasa_cpu_split: list[int] = field(default_factory=list)
    machine_ms: list[float] = field(default_factory=list)  # machine_speed_ms() before and after the load


def machine_speed_ms(rounds: int = 3) -> float:
    """This machine's speed now: the best of `rounds` timings of a fixed pure-Python loop (CPU ms; lower is faster).
    On a shared host the same code ran this loop 272-388 ms minutes apart, and the stack's CPU per turn moved with
    it: each load reports the figure before and after it, so runs taken at different moments can be compared."""
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, (time.process_time() - t) * 1000)
    return round(best, 1)


def plan(n: int, seed: int) -> list[tuple[str, random.Random]]:
    rng = random.Random(seed)
    flows = [name for name, share in MIX for _ in range(round(share * n))]
    while len(flows) < n:
        flows.append("wage")
    flows = flows[:n]
    rng.shuffle(flows)
    return [(flow, random.Random(seed * 1000 + i)) for i, flow in enumerate(flows)]


async def requested_slot(client: Client, stack: Stack, conv: Conversation, load: Load) -> str | None:
    url = f"{stack.rasa_for(conv.conversation_id)}/conversations/{conv.conversation_id}/tracker"
    t = time.perf_counter()
    r = await client.get(url, params={"token": stack.token})
    load.tracker_ms.append((time.perf_counter() - t) * 1000)
    r.raise_for_status()
    return r.json().get("slots", {}).get("requested_slot")


Asks = list[tuple["re.Pattern[str]", str]]


def question_in(messages: list[dict], asks: Asks) -> tuple[str | None, list[dict]]:
    """The slot the bot's last question asks, read from its words, and the buttons under it; (None, []) when the bot
    asked nothing (the conversation is done)."""
    for m in reversed(messages):
        text = m.get("text") or ""
        for pattern, slot in asks:
            if pattern.match(text):
                return slot, [b for b in m.get("buttons") or [] if b.get("payload")]
    return None, []


def answer_to(slot: str, buttons: list[dict], rng: random.Random) -> str:
    """What a citizen says to the question: half the time a button under it (its payload, as the page sends it),
    otherwise their own words."""
    pressable = [b for b in buttons if not any(n in (b.get("title") or "") for n in NAVIGATION)]
    if pressable and rng.random() < 0.5:
        return str(rng.choice(pressable)["payload"])
    return rng.choice(ANSWERS.get(slot, ["跳过"]))


async def say(client: Client, stack: Stack, conv: Conversation, message: str, load: Load,
              kind: str = "") -> list[dict]:
    t = time.perf_counter()
    try:
        r = await client.post(f"{stack.web_url}/api/chat", json={"sender": conv.sender, "message": message})
    except HTTP_ERRORS as exc:
        conv.errors.append(type(exc).__name__)
        return []
    ms = (time.perf_counter() - t) * 1000
    load.latencies_ms.append(ms)
    load.turns.append({"start_s": round(t - load.t0, 3), "ms": round(ms, 1), "flow": conv.flow, "kind": kind})
    conv.turns += 1
    if r.status_code != 200:
        conv.errors.append(f"HTTP {r.status_code}")
        return []
    body = r.json()
    conv.conversation_id = body.get("conversation_id") or conv.conversation_id
    messages = body.get("messages") or []
    if not messages or any(FALLBACK_MARK in (m.get("text") or "") for m in messages):
        conv.errors.append("fallback (Rasa failed or timed out)")
    return messages


async def citizen(client: Client, stack: Stack, flow: str, rng: random.Random, idx: int, load: Load,
                  slot_source: str, asks: Asks, max_turns: int) -> None:
    sender = f"bench-{stack.name}-{idx}-{secrets.token_hex(4)}"
    conv = Conversation(flow, sender, conversation_id="web:" + hash_sender(sender, stack.salt))
    load.conversations.append(conv)
    if rng.random() < 0.25:
        await say(client, stack, conv, rng.choice(["你好", "您好", "在吗"]), load, "greet")
    messages = await say(client, stack, conv, rng.choice(OPENERS[flow]), load, "opener")
    if flow == "handoff":
        conv.finished = bool(messages) and not conv.errors
        return
    asked: list[str] = []
    while conv.turns < max_turns and not conv.errors:
        buttons: list[dict] = []
        try:
            if slot_source == "tracker":
                slot = await requested_slot(client, stack, conv, load)
            else:
                slot, buttons = question_in(messages, asks)
                if slot == REPHRASE:  # 「没太看懂，能换个说法吗」: the citizen answers the same question again
                    slot = asked[-1] if asked else None
        except HTTP_ERRORS as exc:
            conv.errors.append(f"tracker: {type(exc).__name__}")
            return
        if slot is None:
            conv.finished = True
            break
        # The same question three times: the citizen gives up on it the way the bot suggests.
        if asked[-2:] == [slot, slot]:
            answer = "跳过"
        elif slot_source == "tracker":
            answer = rng.choice(ANSWERS.get(slot, ["跳过"]))
        else:
            answer = answer_to(slot, buttons, rng)
        asked.append(slot)
        messages = await say(client, stack, conv, answer, load, slot)
    if conv.finished and rng.random() < 0.3:
        await say(client, stack, conv, rng.choice(["好的谢谢，再见", "谢谢", "知道了"]), load, "bye")


async def run_load(stack: Stack, n: int, concurrency: int, seed: int, slot_source: str, max_turns: int,
                   timeout_s: float) -> Load:
    load = Load()
    asks = domain_asks()
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int, flow: str, rng: random.Random) -> None:
        async with sem:
            await citizen(client, stack, flow, rng, i, load, slot_source, asks, max_turns)

    async def sample_rss() -> None:
        while True:
            load.rss_mb.append(stack.rasa_rss_mb())
            await asyncio.sleep(1)

    load.machine_ms.append(machine_speed_ms())
    async with Client(concurrency * 2) as client:
        sampler = asyncio.create_task(sample_rss())
        cpu0 = stack.cpu_s()
        t0 = load.t0 = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(one(i, f, r) for i, (f, r) in enumerate(plan(n, seed)))),
                                   timeout=timeout_s)
        except asyncio.TimeoutError:
            print(f"  {stack.name}: the load did not finish in {timeout_s:.0f} s; counting what was done")
        load.wall_s = time.perf_counter() - t0
        cpu1 = stack.cpu_s()
        sampler.cancel()
    turns = max(1, len(load.latencies_ms))
    used = {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1}
    each = {k: v for k, v in used.items() if re.fullmatch(r"rasa\d+", k)}
    load.cpu_ms_per_turn = {k: round(v * 1000 / turns, 1) for k, v in used.items() if k not in each}
    # How evenly the Rasa processes shared the work (bot/rasa_placement.py): each one's part of Rasa's CPU, in %.
    load.rasa_cpu_split = [round(100 * each[k] / max(1e-9, sum(each.values()))) for k in sorted(each)]
    load.rss_mb.append(stack.rasa_rss_mb())
    load.machine_ms.append(machine_speed_ms())
    return load


def domain_asks(chars: int = 12) -> Asks:
    """Each `utter_ask_<slot>` question's opening words (its first `chars` characters; a `{slot}` in them matches the
    words filled in) → the slot: how a citizen in `words` mode knows what is asked."""
    import yaml

    asks: dict[str, str] = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for name, variants in (data.get("responses") or {}).items():
            if not name.startswith("utter_ask_"):
                continue
            for v in variants:
                pattern, left = "", chars
                for part in re.split(r"(\{[^{}\n]+\})", v.get("text") or ""):
                    if left <= 0:
                        break
                    if part.startswith("{") and part.endswith("}"):
                        pattern += ".+?"
                    else:
                        pattern += re.escape(part[:left])
                        left -= len(part[:left])
                if pattern:  # utter_ask_community_in_street asks the community too
                    asks[pattern] = name[len("utter_ask_"):].removesuffix("_in_street")
    return [(re.compile(p), slot) for p, slot in asks.items()]


# ------------------------------------------------------------------------------------------ the log and probes
def check_log(stack: Stack, load: Load) -> dict[str, int]:
    engine = create_engine(stack.db_url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT sender_hash, count(*) FROM consultations GROUP BY sender_hash")).all())
    engine.dispose()
    finished = [c for c in load.conversations if c.finished]
    hashes = {c.conversation_id.split(":", 1)[-1] for c in load.conversations}
    return {
        "finished": len(finished),
        "logged": sum(n for h, n in counts.items() if h in hashes),
        "lost": sum(1 for c in finished if counts.get(c.conversation_id.split(":", 1)[-1], 0) == 0),
        "duplicated": sum(max(0, n - 1) for h, n in counts.items() if h in hashes),
        "strangers": sum(n for h, n in counts.items() if h not in hashes),
    }


async def probe(stack: Stack, rounds: int = 3) -> dict[str, float]:
    """On the idle stack: one wage claim played turn by turn, and /predict mid-form."""
    turns: list[float] = []
    predicts: list[float] = []
    async with Client() as client:
        for r in range(rounds):
            load = Load()
            await citizen(client, stack, "wage", random.Random(7 + r), 10_000 + r, load, "tracker", {}, 25)
            turns += load.latencies_ms[1:]  # the opener starts the form; the rest are form turns
            conv = load.conversations[0]
            # Mid-form: a fresh wage claim answered up to its third question.
            sender = f"probe-{r}-{secrets.token_hex(4)}"
            cid = "web:" + hash_sender(sender, stack.salt)
            for msg in ["我想讨薪", "包工头老李", "三万五"]:
                await client.post(f"{stack.web_url}/api/chat", json={"sender": sender, "message": msg})
            for _ in range(10):
                t = time.perf_counter()
                resp = await client.post(f"{stack.rasa_for(cid)}/conversations/{cid}/predict",
                                         params={"token": stack.token})
                predicts.append((time.perf_counter() - t) * 1000)
                resp.raise_for_status()
            del conv
    return {"form_turn_p50": statistics.median(turns), "form_turn_mean": statistics.fmean(turns),
            "predict_p50": statistics.median(predicts), "predict_min": min(predicts)}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


# ------------------------------------------------------------------------------------------------- the report
def summarise(name: str, stack: Stack, load: Load, log: dict[str, int], probes: dict[str, float],
              citizens: str = "words") -> dict[str, Any]:
    turns = len(load.latencies_ms)
    errors = sum(len(c.errors) for c in load.conversations)
    return {
        "variant": name, "model": str(stack.model.relative_to(ROOT)), "processes": stack.processes,
        "citizens": citizens,
        "conversations": len(load.conversations), "turns": turns, "wall_s": round(load.wall_s, 1),
        "turns_per_s": round(turns / load.wall_s, 1) if load.wall_s else 0.0,
        "p50_ms": round(pct(load.latencies_ms, 0.5)), "p95_ms": round(pct(load.latencies_ms, 0.95)),
        "p99_ms": round(pct(load.latencies_ms, 0.99)), "errors": errors,
        "error_kinds": sorted({e for c in load.conversations for e in c.errors}),
        "tracker_get_p50_ms": round(pct(load.tracker_ms, 0.5), 1) if load.tracker_ms else None,
        **log,
        "rasa_rss_mb_peak": round(max(load.rss_mb)) if load.rss_mb else None,
        "rasa_rss_mb_end": round(load.rss_mb[-1]) if load.rss_mb else None,
        "warm_start_s": [round(s, 1) for s in stack.warm_start_s],
        **{k: round(v, 1) for k, v in probes.items()},
        "cpu_ms_per_turn": load.cpu_ms_per_turn,
        "rasa_cpu_split_pct": load.rasa_cpu_split,
        "machine_ms": load.machine_ms,
        "by_flow": {f: sum(1 for c in load.conversations if c.flow == f and c.finished) for f, _ in MIX},
    }


def write_report(rows: list[dict[str, Any]], args: argparse.Namespace, path: Path) -> str:
    cols = [("turns/s", "turns_per_s"), ("p50 ms", "p50_ms"), ("p95 ms", "p95_ms"), ("p99 ms", "p99_ms"),
            ("errors", "errors"), ("conversations finished", "finished"), ("consultations logged", "logged"),
            ("lost", "lost"), ("duplicated", "duplicated"), ("Rasa RSS peak MB", "rasa_rss_mb_peak"),
            ("warm start s", "warm_start_s"), ("form turn alone, p50 ms", "form_turn_p50"),
            ("/predict mid-form, p50 ms", "predict_p50"), ("tracker GET p50 ms", "tracker_get_p50_ms"),
            ("machine ms before, after", "machine_ms")]
    head = "| variant | processes | citizens read | " + " | ".join(c for c, _ in cols) + " |"
    lines = [
        "# Load benchmark: ours against stock Rasa",
        "",
        f"`{' '.join(sys.argv)}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores. {args.conversations} conversations per variant, {args.concurrency} at once, "
        f"through `POST /api/chat` of the web app (SQLite). Citizens read what is asked from "
        + " and, on the same stacks, from ".join(
            "the bot's words and buttons (`words`)" if m == "words" else "Rasa's tracker (`tracker`)"
            for m in args.slot_source.split(",")) + ". Mix: "
        + ", ".join(f"{f} {int(s * 100)}%" for f, s in MIX) + ".",
        "",
        head,
        "|" + "---|" * (len(cols) + 3),
    ]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['processes']} | {r.get('citizens', 'tracker')} | " + " | ".join(
            ", ".join(map(str, r[k])) if isinstance(r.get(k), list) else str(r.get(k, "–")) for _, k in cols) + " |")
    base = {(r["processes"], r.get("citizens")): r for r in rows if r["variant"] == "stock"}
    ratios = []
    for r in rows:
        s = base.get((r["processes"], r.get("citizens"))) or next(
            (b for (_, m), b in base.items() if m == r.get("citizens")), None)
        if r["variant"] != "stock" and s and s["turns_per_s"]:
            ratios.append(f"- {r['variant']} ({r['processes']} process{'es' if r['processes'] > 1 else ''}) / stock "
                          f"({s['processes']}), citizens reading {r.get('citizens')}: "
                          f"**{r['turns_per_s'] / s['turns_per_s']:.1f}×** the turns per second, "
                          f"p95 {r['p95_ms']} ms against {s['p95_ms']} ms")
    if ratios:
        lines += ["", "Ratio to stock Rasa, same machine, same run:", "", *ratios]
    lines += ["", ("Machine ms: the best of three timings of a fixed pure-Python loop just before and after each load "
              "(lower is faster; on this shared host it moved by a third within minutes, and the stack's CPU per turn "
              "with it): compare runs taken at different moments by it.")]
    lines += ["", "Finished conversations by flow: " + "; ".join(
        f"{r['variant']}/{r['processes']}/{r.get('citizens')}: " + ", ".join(f"{k} {v}" for k, v in r["by_flow"].items()) for r in rows)]
    lines += ["", "CPU per turn under the load, ms (each part's process tree; the client is this script): " + "; ".join(
        f"{r['variant']}/{r['processes']}/{r.get('citizens')}: "
        + ", ".join(f"{k} {v}" for k, v in r["cpu_ms_per_turn"].items())
        + f" (all {sum(r['cpu_ms_per_turn'].values()):.1f})"
        for r in rows if r.get("cpu_ms_per_turn"))]
    errs = [f"{r['variant']}/{r['processes']}/{r.get('citizens')}: {', '.join(r['error_kinds'])}" for r in rows if r["error_kinds"]]
    if errs:
        lines += ["", "Errors: " + "; ".join(errs)]
    lines += ["", "Raw figures:", "", "```json", json.dumps(rows, ensure_ascii=False, indent=1), "```", ""]
    out = "\n".join(lines)
    path.write_text(out)
    return out


def latest_model(spec: str) -> Path:
    p = (ROOT / spec) if not Path(spec).is_absolute() else Path(spec)
    if p.is_dir():
        models = sorted(p.glob("*.tar.gz"), key=lambda m: m.stat().st_mtime)
        if not models:
            raise SystemExit(f"no model in {p}: train it (see configs/stock/config.yml)")
        return models[-1]
    return p


def ensure_stock_model(spec: str, timeout_s: float = 3600) -> None:
    """Train the stock yardstick once (configs/stock/config.yml, same data and domain) when models/stock is empty."""
    out = ROOT / spec
    if not out.is_dir() or any(out.glob("*.tar.gz")):
        return
    print(f"training stock Rasa into {spec} (once; see configs/stock/config.yml) ...", flush=True)
    t = time.monotonic()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_CACHE_DIRECTORY": str(ROOT / ".rasa" / "cache-stock")}  # its own cache: never evicts ours
    subprocess.run([str(RASA_BIN / "rasa"), "train", "--config", "configs/stock/config.yml", "--domain", "domain",
                    "--data", "data", "--out", spec, "--fixed-model-name", "stock"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=timeout_s)
    print(f"  trained in {time.monotonic() - t:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--variants", default="current,stock",
                        help="comma list of current, stock and NAME=MODEL experiments")
    parser.add_argument("--processes", default="1,2", help="Rasa processes of our stack, one run each: 1,2")
    parser.add_argument("--stock-processes", default="2", help="Rasa processes of the stock stack (2: as make run)")
    parser.add_argument("--action-workers", type=int, default=1, help="ACTION_SERVER_SANIC_WORKERS")
    parser.add_argument("--model", default="models/current.tar.gz")
    parser.add_argument("--before-overlay", default="",
                        help="PYTHONPATH for the 'before' variant's Rasa (e.g. a jsonschema 4.17.3 --target dir)")
    parser.add_argument("--stock-model", default="models/stock", help="a .tar.gz or a directory (newest one)")
    parser.add_argument("--slot-source", default="words",
                        help="how citizens know what is asked, a comma list run in turn on each stack: words (the "
                             "bot's words and buttons, as people do) and/or tracker (Rasa's tracker, read each turn)")
    parser.add_argument("--max-turns", type=int, default=25)
    parser.add_argument("--seed", type=int, default=12348)
    parser.add_argument("--load-timeout", type=float, default=600, help="seconds per load run")
    parser.add_argument("--start-timeout", type=float, default=300, help="seconds for a stack to come up")
    parser.add_argument("--no-probe", action="store_true", help="skip the sequential form turn and /predict probe")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_load.md")
    parser.add_argument("--turns-out", type=Path, help="also write every timed turn (JSON lines) here")
    parser.add_argument("--against", metavar="URL",
                        help="load a stack already running here (make run's: http://127.0.0.1:8000) instead of "
                             "starting ones; run from the project root with its HOTLINE_VAR_DIR")
    args = parser.parse_args()
    modes = args.slot_source.split(",")
    if not modes or set(modes) - set(SLOT_SOURCES):
        parser.error(f"--slot-source: a comma list of {', '.join(SLOT_SOURCES)}")
    if args.against:
        running = RunningStack(args.against)
        asyncio.run(run_load(running, 4, 4, args.seed + 1, modes[0], args.max_turns, 120))  # warm-up
        rows = []
        for mode in modes:
            load = asyncio.run(run_load(running, args.conversations, args.concurrency, args.seed, mode,
                                        args.max_turns, args.load_timeout))
            rows.append(summarise(running.name, running, load, check_log(running, load), {}, mode))
            print("  " + json.dumps({k: v for k, v in rows[-1].items() if k != "by_flow"}, ensure_ascii=False))
        print(write_report(rows, args, args.out))
        return

    models = {"current": latest_model(args.model)}
    if "stock" in args.variants.split(","):
        (ROOT / args.stock_model).mkdir(parents=True, exist_ok=True)
        ensure_stock_model(args.stock_model)
        models["stock"] = latest_model(args.stock_model)
    rows = []
    runs = []
    for variant in args.variants.split(","):
        if "=" in variant:  # an experiment: name=path/to/model.tar.gz
            variant, spec = variant.split("=", 1)
            models[variant] = latest_model(spec)
        counts = args.stock_processes if variant == "stock" else args.processes
        runs += [(variant, int(p)) for p in counts.split(",")]
    for variant, processes in runs:
        tmp = Path(tempfile.mkdtemp(prefix=f"bench_load_{variant}_"))
        rasa_env = {} if variant not in ("stock", "before") else {"HOTLINE_RASA_SPEEDUPS": "0"}
        if variant == "before" and args.before_overlay:
            rasa_env["PYTHONPATH"] = args.before_overlay
        stack = Stack(variant, models[variant], tmp, processes, action_workers=args.action_workers, rasa_env=rasa_env)
        print(f"{variant} x{processes}: starting ({stack.model.relative_to(ROOT)}) ...", flush=True)
        try:
            stack.start(args.start_timeout)
            print(f"  up; warm start {', '.join(f'{s:.1f}' for s in stack.warm_start_s)} s", flush=True)
            asyncio.run(run_load(stack, 4, 4, args.seed + 1, modes[0], args.max_turns, 120))  # warm-up
            loads = [(mode, asyncio.run(run_load(stack, args.conversations, args.concurrency, args.seed, mode,
                                                 args.max_turns, args.load_timeout))) for mode in modes]
            probes = {} if args.no_probe else asyncio.run(probe(stack))
            if args.turns_out:
                with args.turns_out.open("a") as f:
                    for mode, load in loads:
                        for t in load.turns:
                            f.write(json.dumps({"variant": variant, "processes": processes, "citizens": mode, **t},
                                               ensure_ascii=False) + "\n")
            for mode, load in loads:
                row = summarise(variant, stack, load, check_log(stack, load), probes, mode)
                rows.append(row)
                print("  " + json.dumps({k: v for k, v in row.items() if k != "by_flow"}, ensure_ascii=False),
                      flush=True)
        except Exception as exc:
            for name in ["rasa0", "actions", "web"]:
                print(f"--- {name} log ---\n{stack.log_tail(name)}", file=sys.stderr)
            raise SystemExit(f"{variant}: {exc}") from exc
        finally:
            stack.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    print(write_report(rows, args, args.out))


if __name__ == "__main__":
    main()
