"""Embedding geometry: effective rank, Fourier planes and circles, and the across-training figure."""

import math

import pytest
import torch

from groklab.config import ConfigError, validate_config
from groklab.probes.embedding import circle_score, effective_rank, fourier_plane, strongest_frequencies
from groklab.run.analysis import cka_to_final
from tests.conftest import groklab_cli

P = 23


def circle_embedding(p, frequency, d=16, seed=0):
    """Residue x at angle 2 pi k x / p in a random plane of R^d, plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    plane = torch.linalg.qr(torch.randn(d, 2, generator=g, dtype=torch.float64)).Q
    angle = 2 * math.pi * frequency * torch.arange(p, dtype=torch.float64) / p
    circle = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return 3 * circle @ plane.T + 0.01 * torch.randn(p, d, generator=g, dtype=torch.float64)


def test_effective_rank():
    assert effective_rank(torch.ones(10, 1) @ torch.ones(1, 8)) == pytest.approx(1.0)
    assert effective_rank(torch.eye(6)) == pytest.approx(6.0)


def test_a_circle_embedding_is_found_at_its_frequency_and_noise_is_not_a_circle():
    embedding = circle_embedding(P, 5)
    assert strongest_frequencies(embedding, 1) == [5]
    assert circle_score(fourier_plane(embedding, 5), 5) > 0.99
    assert effective_rank(embedding) < 2.5  # a plane, plus a little noise
    torch.manual_seed(0)
    noise = torch.randn(P, 16, dtype=torch.float64)
    assert circle_score(fourier_plane(noise, 5), 5) < 0.5


def test_kept_checkpoints_give_the_embedding_across_training(tmp_path, tiny):
    tiny["train"].update(steps=200, checkpoint_every=50, keep_checkpoints_every=50)
    tiny["eval"]["probes"] = ["embedding"]
    config = tmp_path / "tiny.yaml"
    import yaml

    config.write_text(yaml.safe_dump(tiny))
    run_dir = tmp_path / "run"
    groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--quiet", check=True)
    kept = sorted(p.name for p in (run_dir / "checkpoints").glob("step_*.pt"))
    assert kept == [f"step_{s:09d}.pt" for s in (50, 100, 150, 200)]
    assert (run_dir / "figures" / "embedding.png").is_file()
    records = [line for line in (run_dir / "history.jsonl").read_text().splitlines() if "embed_effective_rank" in line]
    assert records and "embed_top_frequency" in records[-1]
    proc = groklab_cli("plot", str(run_dir), "--measure", "embedding", check=True)
    assert proc.stdout.strip() == str(run_dir / "figures" / "embedding-across-training.png")
    assert (run_dir / "figures" / "embedding-across-training.png").stat().st_size > 10_000
    bad = groklab_cli("plot", str(run_dir), "--measure", "circles")
    assert bad.returncode == 2 and "unknown measure 'circles'" in bad.stderr

    steps, series = cka_to_final(run_dir)  # the representation's similarity to the final network
    assert steps == [50, 100, 150, 200]
    for values in series.values():
        assert values[-1] == pytest.approx(1.0) and all(0 <= v <= 1 + 1e-9 for v in values)
    assert min(series["rep_cka_final_train"]) < 0.999  # the representation moved while training
    proc = groklab_cli("plot", str(run_dir), "--measure", "cka_final", check=True)
    assert (run_dir / "figures" / "cka_final-across-training.png").stat().st_size > 10_000
    for path in sorted((run_dir / "checkpoints").glob("step_*.pt"))[:-1]:
        path.unlink()
    one = groklab_cli("plot", str(run_dir), "--measure", "cka_final")
    assert one.returncode == 2 and "needs at least two" in one.stderr


def test_kept_checkpoints_must_be_written_ones(tiny):
    tiny["train"].update(checkpoint_every=50, keep_checkpoints_every=75)
    with pytest.raises(ConfigError, match="multiple of train.checkpoint_every"):
        validate_config(tiny)
