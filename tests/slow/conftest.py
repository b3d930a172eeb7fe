"""Runs shared by the slow tests: every preset's quick scale, and the variants the signature tests compare with
them, are trained once per session.

They are trained together on first use, two processes of one torch thread each, longest first: these small
models use two threads poorly, so two runs side by side finish the set in about 60% of the time of one after
another at two threads. A failing run fails only the tests that use it.
"""

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from groklab import api
from groklab.sweep import _run_point

# runs besides the presets' quick scales: name -> (preset, scale, overrides)
VARIANTS = {
    "prieto2025_stablemax:stablemax": ("prieto2025_stablemax", "quick", [
        "train.loss=stablemax", "train.loss_dtype=float64", "eval.every=250"]),
    "prieto2025_stablemax:orthogonal": ("prieto2025_stablemax", "canonical_orthogonal", []),
    "liu2022_omnigrok:constrained": ("liu2022_omnigrok", "constrained", []),
    "humayun2024:large_init": ("humayun2024", "large_init", ["train.steps=5000", "eval.probes=[local_complexity]"]),
    # the rest of Liu et al.'s phase diagram around the quick scale (lr 1e-4, weight decay 7: grokking)
    "liu2022_effective:comprehension": ("liu2022_effective", "quick", ["optim.weight_decay=10"]),
    "liu2022_effective:memorization": ("liu2022_effective", "quick", ["optim.lr=3e-4"]),
    "liu2022_effective:confusion": ("liu2022_effective", "quick", ["optim.lr=3e-4", "optim.weight_decay=10"]),
}
# measured minutes at one thread, longest first (the rest are shorter): no worker idles at the end
LONGEST_FIRST = ["wang2024_grokked_kg", "power2022", "lee2024_grokfast", "prieto2025_stablemax:stablemax",
                 "prieto2025_stablemax", "humayun2024", "thilak2022_slingshot", "liu2022_omnigrok:constrained",
                 "liu2022_omnigrok", "minegishi2023_tickets", "nanda2023", "humayun2024:large_init"]


def configs_longest_first() -> dict:
    """Every shared run's resolved config, in the order the pool starts them."""
    runs = {p.id: (p.id, "quick", []) for p in api.presets()} | VARIANTS
    order = LONGEST_FIRST + [name for name in runs if name not in LONGEST_FIRST]
    return {name: api.resolve(runs[name][0], runs[name][1], overrides=["device=cpu", *runs[name][2]])
            for name in order}


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """quick_run(name) -> RunHandle of that preset's quick scale, or of a named VARIANTS run."""
    folder = tmp_path_factory.mktemp("quick")
    trained: dict[str, BaseException | None] = {}
    handles = {}

    def train_all() -> None:
        with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
            futures = {name: pool.submit(_run_point, cfg, str(folder / name.replace(":", "-")), 1)
                       for name, cfg in configs_longest_first().items()}
            for name, future in futures.items():
                trained[name] = future.exception()

    def get(name: str):
        if not trained:
            train_all()
        if trained[name] is not None:
            raise trained[name]
        if name not in handles:
            run_dir = folder / name.replace(":", "-")
            result = api.analyze(run_dir)
            handles[name] = api.RunHandle(run_dir, result.state, result)
        return handles[name]

    return get
