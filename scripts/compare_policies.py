"""Do the dialogue policies earn their cost? Train config.yml's pipeline with each policy set, then compare (issue 13).

    .venv/bin/python scripts/compare_policies.py                  # every set below
    .venv/bin/python scripts/compare_policies.py --sets no_ted --skip-train

For each set it writes a copy of config.yml with only the `policies` section replaced, trains it into
models/speed/<set>.tar.gz (training time measured; the NLU part comes from Rasa's cache after the first), runs the
conversation tests exactly as the Makefile does (`rasa test core ... --fail-on-prediction-errors`) and times, on a
private stack, one wage claim played turn by turn and `POST /conversations/{id}/predict` mid-form
(scripts/bench_load.py's probe). Prints a table; `--out` writes it as Markdown.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_load  # noqa: E402

RULES = {"name": "RulePolicy", "core_fallback_threshold": 0.3, "core_fallback_action_name": "action_default_fallback",
         "enable_fallback_prediction": True, "restrict_rules": True, "check_for_contradictions": True}
SETS: dict[str, list[dict]] = {
    "with_ted": [{"name": "MemoizationPolicy", "max_history": 5}, RULES,
                 {"name": "TEDPolicy", "max_history": 5, "epochs": 40, "constrain_similarities": True}],
    "no_ted": [{"name": "MemoizationPolicy", "max_history": 5}, RULES],
    "rules_only": [RULES],
}


def config_with(policies: list[dict], path: Path) -> None:
    """config.yml's text up to `policies:`, then the given policies (the pipeline's comments stay)."""
    head = (ROOT / "config.yml").read_text().split("\npolicies:")[0]
    path.write_text(head + "\n" + yaml.safe_dump({"policies": policies}, allow_unicode=True, sort_keys=False))


def run(cmd: list[str], log: Path, timeout: float, env: dict[str, str] | None = None) -> tuple[int, float]:
    env = {**(env or os.environ), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    t = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
    return rc, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--skip-train", action="store_true", help="use models/speed/<set>.tar.gz as they are")
    parser.add_argument("--core-only", action="store_true",
                        help="train the dialogue policies alone (`rasa train core`): conversation tests, no text probe")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rasa = str(ROOT / ".venv-rasa" / "bin" / "rasa")
    out_dir = ROOT / "models" / "speed"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.sets.split(","):
        tmp = Path(tempfile.mkdtemp(prefix=f"policies_{name}_"))
        try:
            cfg = tmp / "config.yml"
            config_with(SETS[name], cfg)
            model = out_dir / f"{name}.tar.gz"
            train_s = float("nan")
            if not args.skip_train:
                what = (["train", "core", "--stories", "data"] if args.core_only
                        else ["train", "--data", "data", "--num-threads", "2"])
                rc, train_s = run([rasa, *what, "--config", str(cfg), "--domain", "domain", "--out", str(out_dir),
                                   "--fixed-model-name", name], tmp / "train.log", 1800)
                if rc:
                    raise SystemExit(f"{name}: training failed:\n{(tmp / 'train.log').read_text()[-3000:]}")
            # The conversation tests need the action server, as in `make test`.
            stack = bench_load.Stack(name, model, tmp, 1)
            try:
                stack.start(300)
                probes = {} if args.core_only else asyncio.run(bench_load.probe(stack))
                rc, _test_s = run([rasa, "test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
                                  "--endpoints", "endpoints.yml", "--fail-on-prediction-errors",
                                  "--out", str(tmp / "results")], tmp / "test.log", 1200, stack.env())
                failed = (tmp / "results" / "failed_test_stories.yml")
                failures = failed.read_text().count("- story:") if failed.exists() else 0
            finally:
                stack.stop()
            rows.append({"set": name, "policies": ", ".join(p["name"] for p in SETS[name]),
                         "train_s": round(train_s), "test_core": "pass" if rc == 0 else f"FAIL ({failures} stories)",
                         "warm_start_s": round(stack.warm_start_s[0], 1), "size_mb": round(model.stat().st_size / 1e6, 1),
                         **{k: round(v, 1) for k, v in probes.items()}})
            print(rows[-1], flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    cols = list(rows[0])
    table = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    table += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    text = "\n".join(table)
    print(text)
    if args.out:
        args.out.write_text(f"# Policy sets compared\n\n`{' '.join(sys.argv)}`, "
                            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{text}\n")


if __name__ == "__main__":
    main()
