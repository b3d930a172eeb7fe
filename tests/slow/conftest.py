"""Runs shared by the slow tests: every preset's quick scale, and the variants and small sweeps the signature
tests compare with them, are trained once per session.

They are trained together on first use through groklab's own launcher (launch.executor.Local): two processes
of one torch thread each, longest first, and the runs whose configs stack (the sweeps' points, Liu et al.'s phase
points) as one batched computation each. These small models use two threads poorly, so two runs side by side
finish the set in about 60% of the time of one after another at two threads. A failing run fails only the tests
that use it.
"""

from pathlib import Path

import pytest

from groklab import api
from groklab.config import RunConfig
from groklab.launch.executor import Job, Local
from groklab.studies.base import claim_study
from groklab.studies.sweeps import SWEEP, resolve_points

# runs besides the presets' quick scales: name -> (preset, scale, overrides)
VARIANTS = {
    "prieto2025_stablemax:stablemax": ("prieto2025_stablemax", "quick", [
        "train.loss=stablemax", "train.loss_dtype=float64", "eval.every=250"]),
    "prieto2025_stablemax:orthogonal": ("prieto2025_stablemax", "canonical_orthogonal", []),
    # the Slingshot quick run with its loss in float64, over the steps in which the float32 run has its first two
    # cycles (near steps 1400 and 2500): do they survive?
    "thilak2022_slingshot:float64": ("thilak2022_slingshot", "quick", ["train.loss_dtype=float64",
                                                                       "train.steps=3000"]),
    "humayun2024:large_init": ("humayun2024", "large_init", ["train.steps=5000", "eval.probes=[local_complexity]"]),
    # the rest of Liu et al.'s phase diagram around the quick scale (lr 1e-4, weight decay 7: grokking)
    "liu2022_effective:comprehension": ("liu2022_effective", "quick", ["optim.weight_decay=10"]),
    "liu2022_effective:memorization": ("liu2022_effective", "quick", ["optim.lr=3e-4"]),
    "liu2022_effective:confusion": ("liu2022_effective", "quick", ["optim.lr=3e-4", "optim.weight_decay=10"]),
}
# sweeps whose points train in the same pool: name -> (preset, scale, sweep arguments); the tests analyze the folder
SWEEPS = {
    "omnigrok_lu": ("liu2022_omnigrok", "constrained", ["model.init_scale=0.25,1,8", "train.steps=3000"]),
    "linear_lambda": ("levi2023_linear", "quick", ["task.n_train=250,340,500,1000"]),
}
# measured minutes at one thread, longest first (the rest are shorter): no worker idles at the end
LONGEST_FIRST = ["wang2024_grokked_kg", "power2022", "lee2024_grokfast", "prieto2025_stablemax:stablemax",
                 "prieto2025_stablemax", "humayun2024", "thilak2022_slingshot", "liu2022_omnigrok",
                 "minegishi2023_tickets", "nanda2023", "liu2022_effective", "humayun2024:large_init",
                 "thilak2022_slingshot:float64"]


def configs_longest_first(folder: Path) -> dict[Path, RunConfig]:
    """Every shared run's folder and resolved config, in the order the pool starts them; claims the sweep
    folders."""
    runs = {p.id: (p.id, "quick", []) for p in api.presets()} | VARIANTS
    order = LONGEST_FIRST + [name for name in runs if name not in LONGEST_FIRST]
    configs = {folder / name.replace(":", "-"): api.resolve(runs[name][0], runs[name][1],
                                                           overrides=["device=cpu", *runs[name][2]])
               for name in order}
    for name, (preset, scale, arguments) in SWEEPS.items():
        spec = api.sweep_spec(preset, [*arguments, "device=cpu"], scale)
        claim_study(folder / name, SWEEP, spec.to_dict())
        configs |= {folder / name / point: cfg for cfg, point in resolve_points(spec)}
    return configs


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory):
    """folder_of(name) -> the trained folder of a shared run or sweep. Trains them all on first use; asking for
    one whose training failed raises that failure."""
    folder = tmp_path_factory.mktemp("quick")
    results: dict[Path, str | Exception] = {}

    def folder_of(name: str) -> Path:
        if not results:
            jobs = [Job(cfg, run_dir, stackable=True) for run_dir, cfg in configs_longest_first(folder).items()]
            results.update(Local(workers=2).launch(jobs, "shared quick runs", print))
        path = folder / name.replace(":", "-")
        for run_dir, result in results.items():
            if isinstance(result, Exception) and (run_dir == path or path in run_dir.parents):
                raise result
        return path

    return folder_of


@pytest.fixture(scope="session")
def quick_run(shared_runs):
    """quick_run(name) -> RunHandle of that preset's quick scale, or of a named VARIANTS run."""
    handles = {}

    def get(name: str):
        if name not in handles:
            run_dir = shared_runs(name)
            result = api.analyze(run_dir, write=False)  # the run wrote its analysis and figures when it ended
            handles[name] = api.RunHandle(run_dir, result.state, result)
        return handles[name]

    return get


@pytest.fixture(scope="session")
def shared_sweep(shared_runs):
    """shared_sweep(name) -> SweepAnalysis of that SWEEPS entry, its points trained with the shared runs."""
    return lambda name: api.analyze_sweep(shared_runs(name))


@pytest.fixture(scope="session")
def shared_arm(shared_runs):
    """shared_arm(preset, arm) -> RunAnalysis of the shared run (or sweep point) that is a run of that claim arm
    (groklab.run.claims_verdict.is_arm), None when the pool has none."""
    from groklab.config import load_config
    from groklab.run.claims_verdict import is_arm

    root = shared_runs("levi2023_linear").parent  # trains the pool on first use
    folders = {path.parent: load_config(path) for path in sorted(root.rglob("config.yaml"))}

    def get(preset: str, arm):
        found = [folder for folder, cfg in folders.items() if is_arm(cfg, preset, arm)]
        return api.analyze(found[0], write=False) if found else None

    return get
