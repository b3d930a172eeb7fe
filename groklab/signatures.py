"""Paper-specific facts about a finished run, computed from its config and history.

Which facts apply follows from the config (task, probes), not from the preset's name, so a user's own
variant of a paper gets them too. Written under `signature` in analysis.json and shown in reports.
"""

from __future__ import annotations

from typing import Any

from groklab.config import RunConfig
from groklab.history import History
from groklab.probes import probe_facts


def signature_facts(cfg: RunConfig, history: History) -> dict[str, Any]:
    """Facts that show a paper's phenomenon, for the parts of the config that have one."""
    facts: dict[str, Any] = {}
    last = history.records[-1]
    if cfg.task.name == "linear_teacher":
        from groklab.analysis.linear_theory import predict_events

        facts.update(predict_events(cfg, max(cfg.train.steps, int(history.steps[-1]))))
    if cfg.task.name == "knowledge_graph":
        splits = sorted(name for name in last if name.startswith("acc_"))
        facts.update({f"final_{name}": last.get(name) for name in splits})
        ood = last.get("acc_test_inferred_ood")
        facts["ood_chance"] = cfg.task.chance_accuracy
        facts["ood_generalizes"] = None if ood is None else ood >= cfg.analysis.generalization_threshold
    facts.update(probe_facts(cfg, history))
    return facts
