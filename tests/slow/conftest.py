"""Quick-scale runs shared by the slow tests: each preset's quick scale is trained once per session."""

import pytest

from groklab import api


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """quick_run(preset_id) -> RunHandle of that preset's quick scale (trained on first use)."""
    handles = {}

    def get(preset_id: str):
        if preset_id not in handles:
            cfg = api.resolve(preset_id, "quick", overrides=["device=cpu"])
            handles[preset_id] = api.run(cfg, tmp_path_factory.mktemp("quick") / preset_id, show_progress=False)
        return handles[preset_id]

    return get
