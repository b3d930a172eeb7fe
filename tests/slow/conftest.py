"""Quick-scale runs shared by the slow tests: every preset's quick scale is trained once per session.

They are trained together on first use, two processes of one torch thread each (the longest first): these
small models use two threads poorly, so two runs side by side finish the set in about 60% of the time of
one after another at two threads. A failing run fails only the tests that use it.
"""

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from groklab import api
from groklab.sweep import _run_point

LONGEST_FIRST = ["wang2024_grokked_kg", "power2022", "prieto2025_stablemax", "humayun2024", "thilak2022_slingshot",
                 "lee2024_grokfast"]
# runs besides the presets' quick scales that signature tests compare with them: name -> (preset, overrides)
VARIANTS = {
    "prieto2025_stablemax:stablemax": ("prieto2025_stablemax", [
        "train.loss=stablemax", "train.loss_dtype=float64", "train.steps=2000", "eval.every=250"]),
}


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """quick_run(preset_id) -> RunHandle of that preset's quick scale (or of a named VARIANTS run)."""
    folder = tmp_path_factory.mktemp("quick")
    trained: dict[str, BaseException | None] = {}
    handles = {}

    def train_all() -> None:
        ids = LONGEST_FIRST + [p.id for p in api.presets() if p.id not in LONGEST_FIRST]
        # the two longest first, then the variants (minutes each), then the rest: no worker idles at the end
        configs = {i: api.resolve(i, "quick", overrides=["device=cpu"]) for i in ids[:2]}
        configs |= {name: api.resolve(preset, "quick", overrides=["device=cpu", *overrides])
                    for name, (preset, overrides) in VARIANTS.items()}
        configs |= {i: api.resolve(i, "quick", overrides=["device=cpu"]) for i in ids[2:]}
        with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
            futures = {i: pool.submit(_run_point, cfg, str(folder / i.replace(":", "-")), 1)
                       for i, cfg in configs.items()}
            for i, future in futures.items():
                trained[i] = future.exception()

    def get(preset_id: str):
        if not trained:
            train_all()
        if trained[preset_id] is not None:
            raise trained[preset_id]
        if preset_id not in handles:
            run_dir = folder / preset_id.replace(":", "-")
            result = api.analyze(run_dir)
            handles[preset_id] = api.RunHandle(run_dir, result.state, result)
        return handles[preset_id]

    return get
