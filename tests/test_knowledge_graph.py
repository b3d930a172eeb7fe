"""Wang et al. 2024's knowledge bases: construction, splits, padding-aware answers, per-split history."""

import json

import pytest
import torch

from groklab import api
from groklab.config import ConfigError, validate_config
from groklab.tasks import build_task

COMPOSITION = {"name": "knowledge_graph", "kind": "composition", "n_entities": 100, "n_relations": 20,
               "out_degree": 10, "phi": 5.0, "test_frac": 0.05}
COMPARISON = {"name": "knowledge_graph", "kind": "comparison", "n_entities": 60, "n_attributes": 4,
              "n_values": 10, "phi": 5.0}
MODEL = {"name": "transformer", "n_layers": 2, "d_model": 32, "n_heads": 2, "d_mlp": 64, "norm": "pre"}


def config(task: dict, **train):
    return validate_config({"task": task, "model": MODEL, "train": {"batch_size": 64, **train}})


def facts_table(data, n_entities):
    """(head, relation token) -> tail, read from the atomic training facts."""
    atomic = data.train_x[:, 2] == data.pad_token
    return {(int(h), int(r)): int(t) for (h, r, _), t in zip(data.train_x[atomic], data.train_y[atomic],
                                                            strict=True)}


def test_composition_answers_are_two_hops_and_ood_facts_never_train_a_query():
    cfg = config(COMPOSITION).task
    data = build_task(cfg, 0)
    table = facts_table(data, cfg.n_entities)
    assert len(table) == 100 * 10 and len(data.train_y) == cfg.n_train
    inferred = data.train_x[:, 2] != data.pad_token
    for (h, r1, r2), t in zip(data.train_x[inferred].tolist(), data.train_y[inferred].tolist(), strict=True):
        assert table[(table[(h, r1)], r2)] == t
    ood_x, _ = data.eval_splits["ood_atomic"]
    ood_facts = {(int(h), int(r)) for h, r, _ in ood_x}
    assert len(ood_facts) == 50  # 5% of 1000 atomic facts
    train_queries = {tuple(row) for row in data.train_x[inferred].tolist()}
    for h, r1, r2 in data.eval_splits["test_inferred_ood"][0].tolist():
        assert (h, r1) in ood_facts and (table[(h, r1)], r2) in ood_facts
    for row in data.train_x[inferred].tolist():
        assert (row[0], row[1]) not in ood_facts
    assert not train_queries & {tuple(row) for row in data.test_x.tolist()}


def test_comparison_labels_follow_the_attribute_values_and_splits_are_disjoint():
    cfg = config(COMPARISON).task
    data = build_task(cfg, 0)
    atomic = data.train_x[:, 2] == data.pad_token
    value = {(int(e), int(a)): int(v) for (e, a, *_), v in zip(data.train_x[atomic], data.train_y[atomic],
                                                              strict=True)}
    label0 = data.pad_token - 3
    queries = data.train_x[~atomic]
    for (a, _, e1, _, e2), y in zip(queries.tolist(), data.train_y[~atomic].tolist(), strict=True):
        v1, v2 = value[(e1, a)], value[(e2, a)]
        assert y - label0 == (v1 > v2) - (v1 < v2) + 1
    train_queries = {tuple(row) for row in queries.tolist()}
    assert not train_queries & {tuple(row) for row in data.test_x.tolist()}
    assert not train_queries & {tuple(row) for row in data.eval_splits["test_inferred_ood"][0].tolist()}


def test_same_seed_same_knowledge_base_other_seed_other():
    cfg = config(COMPOSITION).task
    assert torch.equal(build_task(cfg, 3).train_x, build_task(cfg, 3).train_x)
    assert not torch.equal(build_task(cfg, 3).train_y, build_task(cfg, 4).train_y)


def test_kind_defaults_are_the_papers_and_impossible_phi_is_a_config_error():
    comparison = validate_config({"task": {"name": "knowledge_graph", "kind": "comparison"}}).task
    assert (comparison.n_entities, comparison.ood_frac, comparison.test_frac) == (1000, 0.1, 0.1)
    with pytest.raises(ConfigError, match="lower phi or raise out_degree"):
        config({**COMPOSITION, "phi": 12.0})
    with pytest.raises(ConfigError, match="exceeds n_relations"):
        config({**COMPOSITION, "out_degree": 30})


def test_transformer_reads_the_answer_at_the_last_non_pad_position():
    from groklab.models import build_model

    cfg = config(COMPOSITION)
    data = build_task(cfg.task, 0)
    model = build_model(cfg.model, data).eval()
    tokens = data.train_x[:8]  # atomic facts: <h><r><pad>
    with torch.no_grad():
        x = model.embed(tokens) + model.pos
        for block in model.blocks:
            x = block(x)
        expected = model.unembed(model.final_norm(x[:, 1]))
        assert torch.allclose(model(tokens), expected, atol=1e-6)


def test_history_records_every_evaluation_split(tmp_path):
    cfg = config(COMPOSITION, steps=20, checkpoint_every=10)
    handle = api.run(cfg, tmp_path / "kg", show_progress=False)
    record = json.loads((tmp_path / "kg" / "history.jsonl").read_text().splitlines()[-1])
    for split in ("id_atomic", "ood_atomic", "train_inferred", "test_inferred_ood"):
        assert 0 <= record[f"acc_{split}"] <= 1 and record[f"loss_{split}"] > 0
    assert handle.result.signature["ood_chance"] == pytest.approx(0.01)
    assert "final_acc_test_inferred_ood" in handle.result.signature
