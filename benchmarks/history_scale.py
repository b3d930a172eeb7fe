"""`groklab analyze` on a history of 10^6 records: wall time and peak memory (run by hand).

    .venv/bin/python benchmarks/history_scale.py                          # 10^6 records of levi2023_linear quick
    .venv/bin/python benchmarks/history_scale.py --records 100000 --profile 25   # cProfile of the analysis

Writes a run folder as a finished run leaves it: config.yaml (the preset's quick scale with train.steps set so that
its evaluation schedule has --records evaluations: levi2023_linear evaluates every step and measures its
representation probe every 4th), status.json (completed) and history.jsonl. Each record has exactly the fields,
in the order, that the trainer writes: the core series at every evaluation, and the probe series (with probe_s and
probe_s/<name>) at the evaluations where eval.probe_every puts them. Field names and magnitudes are taken from a
real run of the same config trained for 8 steps first (a few seconds; --fields-from reuses a run folder), the
curves are synthetic: training accuracy rises early, test accuracy after a delay (a grokked run), losses fall,
with noise on every series. No checkpoints: the figures drawn from checkpoints do not depend on the history.

Then, --repeat times back to back: `groklab analyze RUN` as a whole process (wall time and the process's peak
resident memory), and in a process of its own each stage of the analysis (reading the history; events and outcome;
diagnosis; signature facts; analysis.json and training_history.json; figures). The peak memory of a process that
only imports groklab's analysis is measured too: what the history adds is the difference. Prints a table, saves
JSON in --out.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import machine, save_result

from groklab import api
from groklab.common.files import json_text
from groklab.common.run_folder import ANALYSIS_FILE, HISTORY_FILE, TRAINING_HISTORY_FILE, write_status
from groklab.config import config_to_dict, dump_config
from groklab.history import load_history, write_training_history
from groklab.history.reader import read_records
from groklab.probes import probes_due
from groklab.train.schedule import eval_steps

GROKLAB = Path(sys.executable).parent / "groklab"


def steps_for(cfg, records: int) -> int:
    """The smallest train.steps whose evaluation schedule has at least `records` evaluations."""
    low, high = 1, max(2, records * cfg.eval.every)
    while low < high:
        mid = (low + high) // 2
        low, high = (mid + 1, high) if len(eval_steps(mid, cfg.eval)) < records else (low, mid)
    return low


def field_templates(cfg, fields_from: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A record without probes and one with them (their keys in the trainer's order, their values as magnitudes),
    from a real run of `cfg` for 8 steps (or the run folder `fields_from`)."""
    with tempfile.TemporaryDirectory() as tmp:
        if fields_from is None:
            fields_from = Path(tmp) / "fields"
            small = ["train.steps=8", "train.keep_checkpoints_every=null", "device=cpu"]
            subprocess.run([str(GROKLAB), "run", cfg.preset, "--scale", cfg.scale, "--out", str(fields_from), *small],
                           check=True, capture_output=True)
        records, _ = read_records(fields_from / HISTORY_FILE)
    probed = [r for r in records if "probe_s" in r]
    plain = [r for r in records if "probe_s" not in r]
    return (plain or records)[-1], (probed or records)[-1]


def synthetic_columns(steps: np.ndarray, template: dict[str, Any], cfg, seed: int = 0) -> dict[str, np.ndarray]:
    """Values at every step for every field of `template`: grokking curves for accuracies and losses, the
    template's magnitudes with noise for the rest."""
    rng = np.random.default_rng(seed)
    n, total = len(steps), max(int(steps[-1]), 1)
    logs = np.log1p(steps)
    memorized, generalized = np.log1p(0.04 * total), np.log1p(0.10 * total)
    train_n = getattr(cfg.task, "n_train", None) or 1000
    test_n = getattr(cfg.task, "n_test", None) or 1000
    rise = {"train": 1 / (1 + np.exp(-(logs - memorized) * 6)), "test": 1 / (1 + np.exp(-(logs - generalized) * 8))}
    columns: dict[str, np.ndarray] = {}
    for name, value in template.items():
        if name in ("schema_version", "step"):
            continue
        noise = rng.normal(0, 1, n)
        if name in ("train_acc", "test_acc"):
            split = name.split("_")[0]
            count = train_n if split == "train" else test_n
            acc = np.clip(rise[split] + 0.004 * noise * (1 - rise[split]), 0, 1)
            columns[name] = np.round(acc * count) / count
        elif name in ("train_loss", "test_loss"):
            split = name.split("_")[0]
            start = abs(float(value or 1.0)) or 1.0
            columns[name] = start * np.exp(-12 * rise[split]) * np.exp(0.05 * noise) + 1e-14
        elif name == "epoch":
            per_step = float(template["epoch"]) / max(int(template["step"]), 1)
            columns[name] = steps * per_step
        elif name == "elapsed_s":
            per_step = float(value) / max(int(template["step"]), 1)
            columns[name] = np.round(steps * per_step, 3)
        elif name == "lr":
            columns[name] = np.full(n, float(value))
        elif name.startswith("probe_s"):
            columns[name] = np.round(np.abs(float(value) * (1 + 0.2 * noise)), 4)
        else:
            columns[name] = float(value or 1.0) * (1 + 0.01 * noise) * (1 + 0.3 * np.sin(logs))
    return columns


def write_history(path: Path, steps: np.ndarray, plain: dict[str, Any], probed: dict[str, Any],
                  columns: dict[str, np.ndarray], due: np.ndarray) -> None:
    """history.jsonl with the trainer's text for each record (json.dumps of the record, checked on the first)."""
    lists = {name: values.tolist() for name, values in columns.items()}
    formats = {}
    for kind, template in (("plain", plain), ("probed", probed)):
        keys = [k for k in template if k not in ("schema_version", "step")]
        text = "{" + ", ".join([f'"schema_version": {template.get("schema_version", 1)}', '"step": %d']
                               + [f"{json.dumps(k)}: %r" for k in keys]) + "}\n"
        formats[kind] = (text, keys)
    with open(path, "w", encoding="utf-8") as handle:
        lines = []
        for i, step in enumerate(steps.tolist()):
            text, keys = formats["probed" if due[i] else "plain"]
            lines.append(text % (step, *(lists[k][i] for k in keys)))
            if i == 0:
                record = {"schema_version": 1, "step": step, **{k: lists[k][i] for k in keys}}
                assert lines[0] == json.dumps(record, allow_nan=False) + "\n", "not the trainer's text"
            if len(lines) == 50_000:
                handle.write("".join(lines))
                lines = []
        handle.write("".join(lines))


def make_run(folder: Path, preset: str, scale: str, records: int, fields_from: Path | None) -> None:
    cfg = api.resolve(preset, scale, [])
    cfg = api.resolve(preset, scale, [f"train.steps={steps_for(cfg, records)}", "device=cpu"])
    steps = np.array(eval_steps(cfg.train.steps, cfg.eval)[:records], dtype=np.int64)
    plain, probed = field_templates(cfg, fields_from)
    columns = synthetic_columns(steps, {**plain, **probed}, cfg)
    due = np.array([probes_due(int(s), cfg) for s in steps])
    folder.mkdir(parents=True)
    dump_config(cfg, folder / "config.yaml")
    write_history(folder / HISTORY_FILE, steps, plain, probed, columns, due)
    write_status(folder, "completed", step=int(steps[-1]), total_steps=cfg.train.steps, device="cpu",
                 train_acc=float(columns["train_acc"][-1]), test_acc=float(columns["test_acc"][-1]), eta_s=0.0)


def child_peak(code: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{code[:3]} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def stages(run: Path, figures: Path) -> dict[str, float]:
    """Seconds of each stage of analyze(run) in this process, in the order analyze runs them."""
    from groklab.analysis import analyze_history, diagnose
    from groklab.common.run_folder import read_status, run_state
    from groklab.run.analysis import RunAnalysis, analysis_spec, draw_run_figures, run_facts, score
    from groklab.run.folder import load_run
    from groklab.signatures import signature_facts

    times, start = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal start
        times[name] = time.perf_counter() - start
        start = time.perf_counter()

    cfg, source = load_run(run)
    state = run_state(run).state
    history = load_history(run)
    lap("read history")
    analysis = analyze_history(history, analysis_spec(cfg, state))
    lap("events and outcome")
    diagnosis = diagnose(analysis, history, run_facts(cfg, (read_status(run) or {}).get("stopped_early")))
    scored = score(analysis, cfg)
    lap("diagnosis and verdict")
    facts = signature_facts(cfg, history)
    lap("signature facts")
    result = RunAnalysis(run, cfg, source, state, analysis, diagnosis, scored, history, facts)
    (figures / ANALYSIS_FILE).write_text(json_text(result.to_dict()))
    write_training_history(history, figures / TRAINING_HISTORY_FILE, {"config": config_to_dict(cfg), "state": state})
    lap("analysis.json and training_history.json")
    draw_run_figures(result, f"{cfg.preset} ({cfg.scale})", figures / "figures", "")
    lap("figures")
    times["total"] = sum(times.values())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="levi2023_linear")
    parser.add_argument("--scale", default="quick")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="time everything this many times back to back")
    parser.add_argument("--fields-from", type=Path, help="a run folder of the preset whose records give the fields")
    parser.add_argument("--keep", type=Path, help="write the run folder here and keep it (default: a temporary one)")
    parser.add_argument("--profile", type=int, metavar="N", help="also print cProfile's N costliest functions")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--stages-of", nargs=2, type=Path, help=argparse.SUPPRESS)  # RUN SCRATCH: print stages_s
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.stages_of:  # in a process of its own, so that this one stays small for the memory of its children
        print(json.dumps(stages(*args.stages_of)))
        return
    root = Path(tempfile.mkdtemp(prefix="history-scale-"))
    run = args.keep or root / "run"
    try:
        if not (run / HISTORY_FILE).is_file():
            start = time.perf_counter()
            make_run(run, args.preset, args.scale, args.records, args.fields_from)
            print(f"wrote {run} in {time.perf_counter() - start:.1f} s: "
                  f"{(run / HISTORY_FILE).stat().st_size / 2**20:.0f} MiB of history.jsonl")
        result: dict[str, Any] = {"preset": args.preset, "scale": args.scale, "records": args.records,
                                  "history_mib": (run / HISTORY_FILE).stat().st_size / 2**20, "rounds": []}
        imports = [sys.executable, "-c", "import groklab.run.analysis, groklab.cli"]
        alone = [sys.executable, "-c", "import sys; from pathlib import Path; from groklab.run.analysis import "
                 "analyze; analyze(Path(sys.argv[1]), write=False)", str(run)]
        for _ in range(args.repeat):
            round_: dict[str, Any] = {}
            round_["import_s"], round_["import_mib"] = child_peak(imports)
            round_["analysis_alone_s"], round_["analysis_alone_mib"] = child_peak(alone)
            round_["command_s"], round_["command_mib"] = child_peak([str(GROKLAB), "analyze", str(run)])
            scratch = root / "stages"
            (scratch / "figures").mkdir(parents=True, exist_ok=True)
            done = subprocess.run([sys.executable, __file__, "--stages-of", str(run), str(scratch)], check=True,
                                  capture_output=True, text=True)
            round_["stages_s"] = json.loads(done.stdout.strip().splitlines()[-1])
            result["rounds"].append(round_)
            print(json.dumps(round_, indent=1))
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(stages, run, root / "stages")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
        result.update(machine=machine(torch.device("cpu")), date=time.strftime("%Y-%m-%d %H:%M"))
        print(f"| {args.records} records | " + " | ".join(f"round {i + 1}" for i in range(args.repeat)) + " |")
        print("|---|" + "---|" * args.repeat)
        rows = [("`groklab analyze` (s)", "command_s", "{:.1f}"), ("its peak RSS (MiB)", "command_mib", "{:.0f}"),
                ("analysis alone, a process (s)", "analysis_alone_s", "{:.1f}"),
                ("its peak RSS (MiB)", "analysis_alone_mib", "{:.0f}"),
                ("a process that only imports (MiB)", "import_mib", "{:.0f}")]
        for label, key, form in rows:
            print(f"| {label} | " + " | ".join(form.format(r[key]) for r in result["rounds"]) + " |")
        for stage in result["rounds"][0]["stages_s"]:
            print(f"| in process: {stage} (s) | " + " | ".join(f"{r['stages_s'][stage]:.2f}" for r in result["rounds"])
                  + " |")
        save_result(args.out, f"history_scale-{args.preset}-{args.records}", result)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
