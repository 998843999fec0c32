"""The supervisor of `make run` (scripts/run.sh): starts each service, restarts what dies, and backs off alone a
service that keeps dying while the others keep serving — systemd's per-unit restart limits, not "stop everything".

    python3 scripts/supervise.py --state var/supervisor.json --log var/supervisor.log \
        --unit actions0 http://127.0.0.1:5055/health '.venv/bin/python -m actions.server -p 5055' ...

Each unit runs in its own process group (a restart reaches its children too), its output appended to
`<log dir>/<name>.log`. Policy (`next_delay`): a death is restarted after RESTART_S; the START_LIMIT_BURST-th death
within START_LIMIT_S puts the unit in back-off, BACKOFF_FIRST_S doubling to BACKOFF_MAX_S per further death, and a
unit that has stayed up STABLE_S is forgiven its past. While the services first start, a death is a configuration
error: everything stops (exit 1). The state (each unit's pid, readiness, restarts, back-off) is written to
`--state` as JSON every tick; the web app shows it on /healthz and /metrics (bot/supervision.py).
Standard library only: it runs before any environment is trusted.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

RESTART_S = 0.2
START_LIMIT_BURST = 5
START_LIMIT_S = 60.0
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 60.0
STABLE_S = 60.0
TICK_S = 0.25
HEALTH_EVERY_S = 1.0


def next_delay(deaths: list[float], now: float, backoff_level: int) -> tuple[float, int]:
    """How long to wait before restarting a unit that died at `now` (its deaths, this one included, in `deaths`),
    and its new back-off level (0: not backing off)."""
    recent = [t for t in deaths if now - t < START_LIMIT_S]
    if len(recent) < START_LIMIT_BURST:
        return RESTART_S, 0
    level = backoff_level + 1
    return min(BACKOFF_FIRST_S * 2 ** (level - 1), BACKOFF_MAX_S), level


@dataclass
class Unit:
    name: str
    health: str | None
    command: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    state: str = "stopped"  # starting | running | backoff | stopped
    ready: bool = False
    started_at: float = 0.0
    ready_at: float | None = None
    deaths: list[float] = field(default_factory=list)
    restarts: int = 0
    backoff_level: int = 0
    next_start: float | None = None
    last_exit: int | None = None
    checked_at: float = 0.0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(["bash", "-c", f"exec {self.command}"], stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.state, self.ready, self.ready_at = "starting", False, None
        self.started_at, self.next_start = time.monotonic(), None

    def kill_group(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    def check_health(self, now: float) -> None:
        if self.proc is None or now - self.checked_at < (HEALTH_EVERY_S if self.ready else TICK_S):
            return
        self.checked_at = now
        if self.health is None:
            self.ready = True
        else:
            try:
                with urllib.request.urlopen(self.health, timeout=1.0) as resp:
                    self.ready = resp.status == 200
            except Exception:  # refused, time-out, 5xx: not ready
                self.ready = False
        if self.ready and self.state == "starting":
            self.state, self.ready_at = "running", now
        if self.ready_at is not None and now - self.ready_at >= STABLE_S and (self.deaths or self.backoff_level):
            self.deaths, self.backoff_level = [], 0  # it has stayed up: a later death starts afresh

    def to_json(self, now: float) -> dict[str, object]:
        return {"state": self.state, "pid": self.proc.pid if self.proc else None, "ready": self.ready,
                "restarts": self.restarts, "deaths_last_minute": len([t for t in self.deaths
                                                                      if now - t < START_LIMIT_S]),
                "backoff_level": self.backoff_level, "last_exit": self.last_exit,
                "next_start_in": round(max(0.0, self.next_start - now), 1) if self.next_start else None,
                "up_for": round(now - self.started_at, 1) if self.proc else None}


class Supervisor:
    def __init__(self, units: list[Unit], state: Path, log: Path) -> None:
        self.units, self.state, self.log_path = units, state, log
        self.stopping = False

    def say(self, line: str) -> None:
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {line}"
        print(line, flush=True)
        with self.log_path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def write_state(self, now: float) -> None:
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "updated": time.time(),
                                   "units": {u.name: u.to_json(now) for u in self.units}}, ensure_ascii=False))
        tmp.replace(self.state)

    def stop_all(self) -> None:
        for u in self.units:
            u.kill_group(signal.SIGTERM)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(u.proc and u.proc.poll() is None for u in self.units):
            time.sleep(0.1)
        for u in self.units:
            u.kill_group(signal.SIGKILL)
            u.state, u.ready = "stopped", False
        self.write_state(time.monotonic())

    def reap(self, u: Unit, now: float, starting_up: bool) -> bool:
        """Handle a unit whose process ended; False when the whole service must stop (a death while starting)."""
        assert u.proc is not None
        u.last_exit = u.proc.returncode
        u.kill_group(signal.SIGKILL)  # the whole group: no orphaned worker keeps the port
        u.proc, u.ready, u.ready_at = None, False, None
        if starting_up:
            self.say(f"{u.name} died while starting ({u.last_exit}); stopping. See {u.log}")
            return False
        u.deaths.append(now)
        delay, level = next_delay(u.deaths, now, u.backoff_level)
        u.next_start, u.backoff_level = now + delay, level
        if level:
            u.state = "backoff"
            self.say(f"{u.name} exited ({u.last_exit}), {len(u.deaths)} deaths within a minute: backing off "
                     f"{delay:.0f} s before the next start; the other services keep serving")
        else:
            u.state = "starting"
        return True

    def run(self, *, wait_ready: float) -> int:
        for u in self.units:
            u.start()
            self.say(f"started {u.name} (pid {u.proc.pid if u.proc else '?'}, log {u.log})")
        started = time.monotonic()
        starting_up = True
        while not self.stopping:
            now = time.monotonic()
            for u in self.units:
                if u.proc is not None and u.proc.poll() is not None:
                    if not self.reap(u, now, starting_up):
                        self.stop_all()
                        return 1
                if u.proc is None and u.next_start is not None and now >= u.next_start:
                    u.restarts += 1
                    u.start()
                    self.say(f"{u.name} restarted as pid {u.proc.pid if u.proc else '?'}")
                u.check_health(now)
            if starting_up and all(u.ready for u in self.units):
                starting_up = False
                self.say("all services ready")
            elif starting_up and now - started > wait_ready:
                late = [u.name for u in self.units if not u.ready]
                self.say(f"{', '.join(late)} did not answer within {wait_ready:.0f} s; stopping. See {late[0]}'s log")
                self.stop_all()
                return 1
            self.write_state(now)
            time.sleep(TICK_S)
        self.stop_all()
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="start, restart and back off the assistant's services")
    parser.add_argument("--state", type=Path, required=True, help="JSON state file (read by /healthz, /metrics)")
    parser.add_argument("--log", type=Path, required=True, help="the supervisor's own log")
    parser.add_argument("--wait-ready", type=float, default=240.0, help="seconds every unit has to answer at first")
    parser.add_argument("--unit", nargs=3, action="append", metavar=("NAME", "HEALTH_URL", "COMMAND"), default=[],
                        help="a service: its name, its health URL ('-' for none) and its command line")
    args = parser.parse_args(argv)
    units = [Unit(name, None if health == "-" else health, command, args.log.parent / f"{name}.log")
             for name, health, command in args.unit]
    for u in units:
        u.log.write_bytes(b"")
    sup = Supervisor(units, args.state, args.log)

    def stop(signum: int, _frame: object) -> None:
        sup.stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    return sup.run(wait_ready=args.wait_ready)


if __name__ == "__main__":
    sys.exit(main())
