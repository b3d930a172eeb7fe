"""Grokking accelerators: Grokfast filters, ⊥Grad, StableMax, the softmax-collapse measure and the speed-up table."""

import json
import shutil
from dataclasses import asdict

import pytest
import torch

from groklab import api
from groklab.common.run_folder import write_status
from groklab.config import ConfigError, validate_config
from groklab.config.schema import OptimCfg
from groklab.objective import log_stablemax
from groklab.probes.collapse import softmax_collapse
from groklab.resolve import validate_run_config
from groklab.studies.speedup import SpeedupSpec, load_speedup, run_speedup, speedup_rows
from groklab.tasks.base import TaskData
from groklab.train.gradients import GradientPipeline


def with_grad(values, grad):
    p = torch.nn.Parameter(torch.tensor(values, dtype=torch.float64))
    p.grad = torch.tensor(grad, dtype=torch.float64)
    return p


def test_ema_filter_adds_lambda_times_the_running_average():
    pipeline = GradientPipeline(OptimCfg(grad_filter="ema", grad_filter_alpha=0.5, grad_filter_lambda=2.0))
    p = with_grad([0.0, 0.0], [1.0, -2.0])
    pipeline.apply([("w", p)])  # h = g (first gradient); g + 2h = 3g
    assert p.grad.tolist() == [3.0, -6.0]
    p.grad = torch.tensor([3.0, 0.0], dtype=torch.float64)
    pipeline.apply([("w", p)])  # h = 0.5 [1, -2] + 0.5 [3, 0] = [2, -1]; g + 2h = [7, -2]
    assert p.grad.tolist() == [7.0, -2.0]


def test_ma_filter_waits_for_a_full_window_then_adds_lambda_times_its_mean():
    pipeline = GradientPipeline(OptimCfg(grad_filter="ma", grad_filter_window=3, grad_filter_lambda=1.0))
    seen = []
    for g in ([1.0], [2.0], [3.0], [10.0]):
        p = with_grad([0.0], g)
        pipeline.apply([("w", p)])
        seen.append(p.grad.item())
    assert seen == [1.0, 2.0, 3.0 + 2.0, 10.0 + 5.0]  # means of (1,2,3) and (2,3,10)


def test_orthogonal_gradient_is_perpendicular_to_the_weights_with_the_same_norm_per_seed():
    torch.manual_seed(0)
    w, g = torch.randn(3, 4, 5, dtype=torch.float64), torch.randn(3, 4, 5, dtype=torch.float64)
    stacked = torch.nn.Parameter(w.clone())
    stacked.grad = g.clone()
    GradientPipeline(OptimCfg(orthogonal=True), stacked=True).apply([("w", stacked)])
    for seed in range(3):
        single = torch.nn.Parameter(w[seed].clone())
        single.grad = g[seed].clone()
        GradientPipeline(OptimCfg(orthogonal=True)).apply([("w", single)])
        assert torch.allclose(stacked.grad[seed], single.grad)
        assert float((single.grad * w[seed]).sum()) == pytest.approx(0, abs=1e-10)
        assert float(single.grad.norm()) == pytest.approx(float(g[seed].norm()))
    # a gradient already orthogonal to w is left as it is
    p = with_grad([1.0, 0.0], [0.0, 2.0])
    GradientPipeline(OptimCfg(orthogonal=True)).apply([("w", p)])
    assert p.grad.tolist() == [0.0, 2.0]


def test_stablemax_is_a_distribution_by_the_papers_formula():
    logits = torch.tensor([[2.0, 0.0, -1.0]], dtype=torch.float64)
    s = torch.tensor([3.0, 1.0, 0.5])
    assert torch.allclose(log_stablemax(logits).exp()[0].float(), s / s.sum())


class Fixed(torch.nn.Module):
    """A 'model' that returns fixed logits for sample indices (to test measures with a known answer)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(logits)

    def forward(self, x):
        return self.logits[x[:, 0]]


def test_softmax_collapse_counts_samples_whose_loss_and_gradient_round_to_zero(tiny):
    # sample 0: a gap of 200 (float32: softmax rounds to one-hot and every exp underflows); sample 1: a gap of 2
    logits = torch.tensor([[200.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    data = TaskData(train_x=torch.tensor([[0], [1]]), train_y=torch.tensor([0, 0]), test_x=torch.tensor([[0]]),
                    test_y=torch.tensor([0]), vocab_size=3, seq_len=1, n_classes=3)
    cfg = validate_config(tiny)
    assert softmax_collapse(Fixed(logits), data, cfg) == {"sc_frac": 0.5, "zero_grad_frac": 0.5}
    # float64 still rounds the loss to 0, but the gradient, about exp(-200), is representable: it still trains
    tiny["train"]["loss_dtype"] = "float64"
    assert softmax_collapse(Fixed(logits), data, validate_config(tiny)) == {"sc_frac": 0.5, "zero_grad_frac": 0.0}
    tiny["train"]["loss"] = "stablemax"  # StableMax's probability of 201/(201 + 2) is far from 1: no collapse
    assert softmax_collapse(Fixed(logits), data, validate_config(tiny)) == {"sc_frac": 0.0, "zero_grad_frac": 0.0}


def test_a_filter_setting_without_its_filter_is_refused(tiny):
    tiny["optim"].update(grad_filter_alpha=0.8, grad_filter_lambda=0.1)  # the Grokfast README's MNIST command
    with pytest.raises(ConfigError, match="optim.grad_filter=ema"):
        validate_config(tiny)
    tiny["optim"]["grad_filter"] = "ema"
    assert validate_config(tiny).optim.filter_lambda == 0.1
    tiny["eval"]["probes"] = ["softmax_collapse"]
    tiny["train"]["loss"] = "mse"
    with pytest.raises(ConfigError, match="softmax_collapse"):
        validate_run_config(tiny)


@pytest.mark.parametrize("grad_filter", ["ema", "ma"])
def test_resume_restores_the_filter_memory(tmp_path, tiny, grad_filter):
    tiny["optim"].update(grad_filter=grad_filter, orthogonal=True)
    if grad_filter == "ma":
        tiny["optim"]["grad_filter_window"] = 5
    tiny["train"].update(steps=100, checkpoint_every=50)
    cfg = validate_config(tiny)
    whole = api.run(cfg, tmp_path / "whole", show_progress=False).run_dir
    cut = tmp_path / "cut"
    shutil.copytree(whole, cut)
    (cut / "checkpoints" / "step_000000100.pt").unlink()
    write_status(cut, "stopped", step=50)
    api.resume(cut, show_progress=False)
    first, second = [[json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
                     for run in (whole, cut)]
    assert [r["step"] for r in first] == [r["step"] for r in second]
    for a, b in zip(first, second, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5), a["step"]


def test_grokfast_ema_generalizes_where_the_same_adam_run_without_it_has_not(tmp_path, tiny):
    # Grokfast's setting on the tiny task: Adam with coupled L2 0.01; the filter fits the training set and
    # generalizes well before the plain run does
    tiny["optim"].update(name="adam", lr=3e-3, weight_decay=0.01)
    tiny["train"].update(steps=600, checkpoint_every=1000)
    tiny["eval"]["every"] = 50
    final = {}
    for name, change in {"plain": {}, "ema": {"grad_filter": "ema"}}.items():
        cfg = validate_config({**tiny, "optim": {**tiny["optim"], **change}})
        final[name] = api.run(cfg, tmp_path / name, show_progress=False).result.analysis.final
    assert final["ema"]["test_acc"] > final["plain"]["test_acc"] + 0.3, final


def test_speedup_table_runs_every_arm_reuses_finished_runs_and_reaches_the_report(tmp_path):
    spec = SpeedupSpec(presets=["nanda2023", "levi2023_linear"], accelerators=["orthogonal", "stablemax"], seeds=2,
                       fixed=["train.steps=30", "eval.every=10", "eval.log_points=0", "eval.probes=[]"])
    arms = run_speedup(spec, tmp_path / "speedup", show_progress=False)
    by_name = {(a.preset, a.accelerator): a for a in arms}
    assert set(by_name) == {(p, a) for p in spec.presets for a in ("baseline", "orthogonal", "stablemax")}
    assert by_name[("levi2023_linear", "stablemax")].skipped.startswith("needs cross-entropy")
    assert len(by_name[("nanda2023", "orthogonal")].steps) == 2
    histories = sorted((tmp_path / "speedup").rglob("history.jsonl"))
    assert len(histories) == 2 * 3 + 2 * 2  # levi has no StableMax arm
    stamps = [h.stat().st_mtime_ns for h in histories]
    again = run_speedup(spec, tmp_path / "speedup", workers=2, show_progress=False, report=lambda line: None)
    assert [h.stat().st_mtime_ns for h in histories] == stamps  # nothing trained twice
    changed = SpeedupSpec(**{**asdict(spec), "fixed": [f.replace("every=10", "every=20") for f in spec.fixed]})
    with pytest.raises(FileExistsError, match=r"nanda2023/baseline/s0 was trained with a different config "
                                              r"\(eval.every: 10 -> 20\)"):
        run_speedup(changed, tmp_path / "speedup", show_progress=False)  # refused before anything trains
    assert [h.stat().st_mtime_ns for h in histories] == stamps
    rows, findings = speedup_rows(again)
    assert rows[5][:3] == ["levi2023_linear", "stablemax", "n/a"] and len(rows) == 6
    assert load_speedup(tmp_path / "speedup")[1].steps == by_name[("nanda2023", "orthogonal")].steps
    md, _ = api.report(tmp_path, tmp_path / "report")
    text = md.read_text()
    assert "## Accelerators speedup:" in text and "speedup-speedup.png" in text
    assert "### speedup/nanda2023" not in text  # its runs are in the table, not listed one by one
