"""`groklab report` over 1000 run folders: wall time (run by hand).

    .venv/bin/python benchmarks/report_scale.py                     # 1000 runs of 4 presets' quick scales
    .venv/bin/python benchmarks/report_scale.py --runs 40 --profile 30

Writes --runs run folders under one directory, as finished runs leave them: config.yaml (a preset's quick scale,
its seed), history.jsonl (--records evaluations, with the fields the trainer writes for that preset, its probe's
included, from a real 8-step run of each preset trained first), status.json (completed), analysis.json (what
`groklab analyze` writes), and the run's figures (one set drawn, copied into every run: a finished run has them;
the report does not read them unless it reuses them). The presets, scales and seeds mix: --presets, each with
seeds 0, 1, ...; the synthetic curves differ by seed. Then times `groklab report DIR --out OUT` as a whole process,
--repeat times back to back, and with --profile prints cProfile's costliest functions of the report in this
process. Prints a table and saves JSON in --out.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import machine, save_result
from history_scale import GROKLAB, field_templates, synthetic_columns, write_history

from groklab import api
from groklab.common.files import json_text
from groklab.common.run_folder import ANALYSIS_FILE, FIGURES_DIR, HISTORY_FILE, write_status
from groklab.config import dump_config
from groklab.probes import probes_due
from groklab.run.analysis import analyze, draw_run_figures
from groklab.train.schedule import eval_steps

PRESETS = ("levi2023_linear", "power2022", "nanda2023", "liu2022_effective")


def make_runs(root: Path, presets: list[str], runs: int, records: int) -> None:
    """`runs` run folders under `root`/<preset>/<scale>-seed<seed>, the presets taking turns."""
    templates, figures = {}, {}
    for preset in presets:
        cfg = api.resolve(preset, "quick", ["device=cpu"])
        templates[preset] = field_templates(cfg, None)
    for index in range(runs):
        preset, seed = presets[index % len(presets)], index // len(presets)
        cfg = api.resolve(preset, "quick", ["device=cpu"], seed=seed)
        schedule = np.array(eval_steps(cfg.train.steps, cfg.eval), dtype=np.int64)
        steps = schedule[np.unique(np.linspace(0, len(schedule) - 1, records).round().astype(np.int64))]
        plain, probed = templates[preset]
        folder = root / preset / f"quick-seed{seed}"
        folder.mkdir(parents=True)
        dump_config(cfg, folder / "config.yaml")
        columns = synthetic_columns(steps, {**plain, **probed}, cfg, seed=seed)
        write_history(folder / HISTORY_FILE, steps, plain, probed, columns,
                      np.array([probes_due(int(s), cfg) for s in steps]))
        write_status(folder, "completed", step=int(steps[-1]), total_steps=cfg.train.steps, device="cpu",
                     train_acc=float(columns["train_acc"][-1]), test_acc=float(columns["test_acc"][-1]), eta_s=0.0)
        result = analyze(folder, write=False)
        (folder / ANALYSIS_FILE).write_text(json_text(result.to_dict()))
        if preset not in figures:  # one set of the run's figures per preset, copied into every run of it
            figures[preset] = draw_run_figures(result, f"{preset} (quick, seed {seed})", folder / FIGURES_DIR, "")
        else:
            (folder / FIGURES_DIR).mkdir()
            for figure in figures[preset]:
                shutil.copyfile(figure, folder / FIGURES_DIR / figure.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--records", type=int, default=300, help="evaluations in each run's history")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write the run folders here and keep them (default: temporary)")
    parser.add_argument("--profile", type=int, metavar="N", help="also print cProfile's N costliest functions")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    scratch = Path(tempfile.mkdtemp(prefix="report-scale-"))
    root = args.keep or scratch / "runs"
    try:
        if not root.is_dir():
            start = time.perf_counter()
            make_runs(root, args.presets, args.runs, args.records)
            print(f"wrote {args.runs} run folders under {root} in {time.perf_counter() - start:.0f} s")
        result = {"runs": args.runs, "records": args.records, "presets": args.presets, "seconds": []}
        for round_ in range(args.repeat):
            out = scratch / f"report-{round_}"
            start = time.perf_counter()
            done = subprocess.run([str(GROKLAB), "report", str(root), "--out", str(out)], capture_output=True,
                                  text=True)
            result["seconds"].append(time.perf_counter() - start)
            if done.returncode:
                raise RuntimeError(f"groklab report failed: {done.stderr[-2000:]}")
            result["report_html_mib"] = (out / "report.html").stat().st_size / 2**20
            print(f"round {round_ + 1}: {result['seconds'][-1]:.1f} s; report.html "
                  f"{result['report_html_mib']:.1f} MiB")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(api.report, root, scratch / "report-profiled")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
        result.update(machine=machine(torch.device("cpu")), date=time.strftime("%Y-%m-%d %H:%M"))
        times = " | ".join(f"{s:.1f} s" for s in result["seconds"])
        print(f"| `groklab report` over {args.runs} runs | {times} |")
        save_result(args.out, f"report_scale-{args.runs}", result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
