"""`groklab scorecard`: every preset's headline claims (Preset.claims) measured on groklab runs over seeds.

The claims' arms, each over seeds 0..N-1, are one plan: trained here or on SLURM, resumed where they stopped, an
arm's seeds as one batched computation where they stack. Two claims reading the same arm read the same runs, in
`out`/<preset>/<arm>/seed<k>. Once the runs are there, each claim is decided (groklab.claims) and the scorecard is
written as scorecard.md and scorecard.json; a claim whose runs are not all finished is `pending`.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from groklab.claims import Arm, Claim, ClaimResult, decide
from groklab.common.files import json_text, make_folder, write_atomic
from groklab.common.run_folder import ANALYSIS_FILE, CONFIG_FILE, HISTORY_FILE, STATUS_FILE
from groklab.config import ConfigError
from groklab.launch.executor import Executor, Job, Local
from groklab.launch.plan import Plan, PlanResult, Stage, execute
from groklab.plots.thinning import thin_history
from groklab.presets import Preset, presets
from groklab.report.document import Heading, Paragraph, Table, to_markdown
from groklab.resolve import derive, get_preset, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.studies.tickets import ticket_stages

SCORECARD_MD, SCORECARD_JSON = "scorecard.md", "scorecard.json"
HEADER = ["paper", "claim", "the paper", "where", "groklab (median; range over seeds)", "agrees if", "status"]


def arm_folder(out: Path, preset: str, arm: Arm, seed: int) -> Path:
    return out / preset / arm.name / f"seed{seed}"


def chosen_claims(members: list[Preset], keys: list[str] | None = None) -> list[tuple[Preset, Claim]]:
    """The claims of `members`, or only those named PRESET:KEY or KEY in `keys`."""
    claims = [(p, c) for p in members for c in p.claims]
    if keys:
        wanted = set(keys)
        unknown = wanted - {c.key for _, c in claims} - {f"{p.id}:{c.key}" for p, c in claims}
        if unknown:
            raise ConfigError([f"no claim named {', '.join(sorted(unknown))}: `groklab scorecard --list` lists them"])
        claims = [(p, c) for p, c in claims if c.key in wanted or f"{p.id}:{c.key}" in wanted]
    return claims


def scorecard_stages(claims: list[tuple[Preset, Claim]], out: Path, seeds: int) -> list[Stage]:
    """Every run the claims read, once, as one stage (each arm's config per seed, validated here before any work;
    an arm's seeds stackable), and a second stage for the tickets built from the dense runs of the first."""
    jobs: dict[Path, Job] = {}
    tickets: dict[Path, Stage] = {}  # a ticket procedure's folder -> its stage built from the dense run
    for preset, claim in claims:
        for arm in claim.arms.values():
            base = resolve(preset.id, arm.scale, list(arm.overrides))
            for seed in range(seeds):
                folder = arm_folder(out, preset.id, arm, seed)
                if arm.tickets is None:
                    jobs.setdefault(folder, Job(derive(base, {"seed": seed}), folder, stackable=True))
                elif folder not in tickets:
                    dense, tickets[folder] = ticket_stages(preset.id, arm.scale, arm.tickets, folder,
                                                           [*arm.overrides, f"seed={seed}"])
                    jobs |= {job.run_dir: job for job in dense.jobs}
    then = list(tickets.values())
    stages = [Stage("runs", list(jobs.values()))]
    if then:
        stages.append(Stage("tickets", build=lambda: [job for stage in then for job in stage.resolved()]))
    return stages


def decide_claims(claims: list[tuple[Preset, Claim]], out: Path, seeds: int) -> list[ClaimResult]:
    """Each claim decided on the runs in `out` (nothing is trained): pending where a run is missing."""
    analyses: dict[Path, RunAnalysis | None] = {}

    def run_at(folder: Path) -> RunAnalysis | None:
        if folder not in analyses:
            analyses[folder] = analyze(folder, write=False) if (folder / CONFIG_FILE).is_file() else None
        return analyses[folder]

    def seed_runs(preset: Preset, claim: Claim, seed: int) -> dict[str, RunAnalysis | None]:
        runs = {}
        for name, arm in claim.arms.items():
            folder = arm_folder(out, preset.id, arm, seed)
            runs |= {run: run_at(folder / run.split("/", 1)[1] if "/" in run else folder) for run in arm.runs(name)}
        return runs

    return [decide(preset.id, claim, [seed_runs(preset, claim, seed) for seed in range(seeds)])
            for preset, claim in claims]


@dataclass(frozen=True)
class ScorecardResult:
    out: Path
    results: list[ClaimResult]
    plan: PlanResult | None  # None when nothing was trained (decided on the runs already there)
    files: tuple[Path, Path]


def scorecard(
    chosen: list[str] | None = None, out: Path = Path("runs/scorecard"), seeds: int = 3,
    keys: list[str] | None = None, executor: Executor | None = None, train: bool = True, wait: bool = False,
    report_line: Callable[[str], None] = print,
) -> ScorecardResult:
    """Train what the claims of the `chosen` presets (default: all) need into `out`, seeds 0..`seeds`-1 (`keys`:
    only these claims; `train` False: decide on the runs already there), then decide every claim and write
    `out`/scorecard.md and scorecard.json."""
    members = [get_preset(p) for p in chosen] if chosen else presets()
    claims = chosen_claims(members, keys)
    plan = None
    if train:
        stages = scorecard_stages(claims, out, seeds)
        report_line(f"scorecard: {len(claims)} claims of {len(members)} presets, {seeds} seed(s) each: "
                    f"{len(stages[0].jobs)} runs{', then the tickets built from them' if len(stages) > 1 else ''}, "
                    f"into {out}")
        plan = execute(Plan(f"scorecard {out}", stages), executor or Local(1), report_line, wait)
    results = decide_claims(claims, out, seeds)
    make_folder(out)
    files = (out / SCORECARD_MD, out / SCORECARD_JSON)
    claims_json = [r.to_dict() for r in results]
    write_atomic(files[0], to_markdown(scorecard_document(claims_json, seeds), lambda path: str(path)))
    write_atomic(files[1], json_text({"seeds": seeds, "claims": claims_json}))
    return ScorecardResult(out, results, plan, files)


def machine() -> str:
    """This machine in a line: CPU model, cores, Python and torch (the scorecard's provenance)."""
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() else \
        platform.processor()
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{cpu}, {os.cpu_count()} cores{gpu}; Python {platform.python_version()}, torch {torch.__version__}"


def export_evidence(result: ScorecardResult, dest: Path, command: str, commit: str) -> Path:
    """Compact evidence of the scorecard under `dest`, to commit: for every run a claim read, its config.yaml,
    status.json, analysis.json and its history thinned to a few thousand evaluations (history.jsonl), in the
    scorecard's layout; `dest`/scorecard.json, whose rows (merged with those already there, by preset and claim)
    each carry the command, commit, date and machine they were decided with; and `dest`/scorecard.md made from
    it, with `dest`/findings.md (written by hand: what each failing claim was found to be) appended. The claims
    were decided on the full histories (a thinned one may miss the exact step a threshold was crossed)."""
    for path in sorted({Path(run) for r in result.results for run in r.run_dirs}):
        target = dest / path.relative_to(result.out)
        make_folder(target)
        for name in (CONFIG_FILE, STATUS_FILE, ANALYSIS_FILE):
            if (path / name).is_file():
                write_atomic(target / name, (path / name).read_bytes())
        run = analyze(path, write=False)
        records = thin_history(run.history, run.analysis).records
        write_atomic(target / HISTORY_FILE, "".join(json_text(dict(r), indent=None) + "\n" for r in records))
    provenance = {"command": command, "commit": commit, "date": time.strftime("%Y-%m-%d"), "machine": machine(),
                  "seeds": json.loads(result.files[1].read_text())["seeds"]}
    rows = {(c["preset"], c["claim"]): c for c in _evidence_claims(dest)}
    for r in result.results:
        row = r.to_dict()
        row["runs"] = [str(Path(run).relative_to(result.out)) for run in row["runs"]]
        rows[(r.preset, r.claim.key)] = {**row, "provenance": provenance}
    order = {(p.id, c.key): i for i, (p, c) in enumerate(chosen_claims(presets()))}
    claims = sorted(rows.values(), key=lambda c: order.get((c["preset"], c["claim"]), len(order)))
    write_atomic(dest / SCORECARD_JSON, json_text({"claims": claims}))
    findings = dest / "findings.md"
    blocks = [*evidence_document(claims), *([Paragraph(findings.read_text())] if findings.is_file() else [])]
    write_atomic(dest / SCORECARD_MD, to_markdown(blocks, lambda path: str(path)))
    return dest / SCORECARD_JSON


def _evidence_claims(dest: Path) -> list[dict]:
    path = dest / SCORECARD_JSON
    return json.loads(path.read_text()).get("claims", []) if path.is_file() else []


def evidence_document(claims: list[dict]) -> list:
    """The committed scorecard: each row with the seeds, command, commit and date it was decided with."""
    machines = sorted({c["provenance"]["machine"] for c in claims})
    rows = [[*row, f"{c['provenance']['seeds']}", f"`{c['provenance']['command']}` at {c['provenance']['commit']}, "
             f"{c['provenance']['date']}"] for c, row in zip(claims, scorecard_rows(claims), strict=True)]
    return [Heading(1, "Replication scorecard"),
            Paragraph(f"{len(claims)} claims: {status_counts(claims)}. A claim is "
                      "decided on the median over its seeds; pending rows show the seeds finished so far. Each "
                      "run's config, status, analysis and thinned history are in docs/scorecard/. Machine: "
                      + "; ".join(machines) + "."),
            Table([*HEADER, "seeds", "decided by"], rows)]


def status_counts(claims: list[dict]) -> str:
    """'4 holds, 1 fails, 3 pending'."""
    return ", ".join(f"{sum(c['status'] == status for c in claims)} {status}"
                     for status in ("holds", "fails", "pending"))


def scorecard_rows(claims: list[dict]) -> list[list[str]]:
    """One row per claim (ClaimResult.to_dict, as scorecard.json holds them): HEADER's columns."""
    return [[c["preset"], c["statement"], c["paper"], c["source"], c["measured"], c["bound"],
             f"{c['status']}: {c['reason']}"] for c in claims]


def scorecard_document(claims: list[dict], seeds: int, level: int = 1) -> list:
    """The scorecard as document blocks under a heading of `level`: a summary line and the table."""
    return [Heading(level, "Replication scorecard"),
            Paragraph(f"{len(claims)} claims over {seeds} seed(s): {status_counts(claims)}. A claim is decided on "
                      "the median over its seeds; each row's measure and runs are in scorecard.json."),
            Table(HEADER, scorecard_rows(claims))]


def read_scorecard(path: Path, level: int = 2) -> list:
    """A scorecard.json written by `groklab scorecard` as document blocks (for the report): [] when there is
    none, a line naming the problem and the fix when it cannot be read."""
    if not path.is_file():
        return []
    try:
        card = json.loads(path.read_text())
        return scorecard_document(card["claims"], card["seeds"], level)
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [Heading(level, "Replication scorecard"),
                Paragraph(f"{path} cannot be read ({type(err).__name__}: {err}); `groklab scorecard --no-train "
                          f"--out {path.parent}` writes it again from its runs.")]
