"""Time-to-grok of a plain PyTorch loop computed the way the public danielmamay/grokking loop computes it,
on this machine, for issue 7's comparison with `groklab run power2022 --scale canonical` (run by hand).

    .venv/bin/python benchmarks/reference_loop.py --seeds 0 1 2

Not that repository's code (it is not vendored here): the same computation, written from its description
(commit 3cec83d, grokking/model.py and training.py): x/y mod 97 on [x, op, y, =] at 50% training data; two
post-LN decoder blocks of width 128 built from nn.MultiheadAttention (sequence-first, causal mask) and a GELU
MLP of width 512, a final LayerNorm and logits over all p + 2 tokens at every position, the loss read at the
last one; AdamW (lr 1e-3, betas 0.9/0.98, weight decay 1) with a 10-step linear warm-up from 0.1x; a shuffled
DataLoader of batch 512 and a full validation pass after every epoch. Its per-step logging to Weights &
Biases is left out, which can only make this loop faster than the original. The data split is groklab's
(seeded), so the two loops see the same training set for a seed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from common import machine
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from groklab.config.task import ModularTaskCfg
from groklab.tasks import build_task


class PostNormBlock(nn.Module):
    """Causal self-attention and a GELU MLP, each followed by a residual add and a LayerNorm."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(width, heads)
        self.attention_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.mlp_norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [T, B, D] (sequence first, as nn.MultiheadAttention's default layout)."""
        length = len(x)
        mask = torch.full((length, length), float("-inf"), dtype=x.dtype).triu(diagonal=1)
        x = self.attention_norm(x + self.attention(x, x, x, attn_mask=mask)[0])
        return self.mlp_norm(x + self.mlp(x))


class FullSequenceTransformer(nn.Module):
    """Every position computed in every block and projected to logits; the caller reads the last."""

    def __init__(self, vocab: int, length: int, width: int = 128, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, width), nn.Embedding(length, width)
        self.net = nn.Sequential(*(PostNormBlock(width, heads) for _ in range(layers)), nn.LayerNorm(width),
                                 nn.Linear(width, vocab))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self.tokens(inputs) + self.positions(torch.arange(inputs.shape[1]))
        return self.net(x.transpose(0, 1))  # [T, B, vocab]


def time_to_grok(seed: int, target: float, max_steps: int) -> dict:
    """Train until validation accuracy reaches `target` (checked after every epoch, as the loop does)."""
    data = build_task(ModularTaskCfg(operation="x/y", p=97, train_frac=0.5, format="x_op_y_eq"), seed)
    torch.manual_seed(seed)
    model = FullSequenceTransformer(data.vocab_size, data.seq_len)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=9)
    train = DataLoader(TensorDataset(data.train_x, data.train_y), batch_size=512, shuffle=True)
    test = DataLoader(TensorDataset(data.test_x, data.test_y), batch_size=512)
    loss_fn = nn.CrossEntropyLoss()
    step, step_seconds, start = 0, [], time.perf_counter()
    while step < max_steps:
        model.train()
        for inputs, labels in train:
            t0 = time.perf_counter()
            optimizer.zero_grad()
            loss = loss_fn(model(inputs)[-1], labels)
            loss.backward()
            optimizer.step()
            warmup.step()
            step += 1
            step_seconds.append(time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(inputs)[-1].argmax(-1) == labels).sum()) for inputs, labels in test)
        accuracy = correct / len(data.test_y)
        if accuracy >= target:
            break
    return {"seed": seed, "step_at_target": step if accuracy >= target else None, "test_acc": accuracy,
            "seconds": time.perf_counter() - start, "median_step_ms": 1000 * statistics.median(step_seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--target", type=float, default=0.99, help="validation accuracy that counts as grokked")
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/reference_loop.json"))
    args = parser.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    print(f"machine: {machine(torch.device('cpu'))}")
    print("| seed | median step (ms) | step at target | time-to-grok (s) |\n|---|---|---|---|")
    results = []
    for seed in args.seeds:
        result = time_to_grok(seed, args.target, args.max_steps)
        results.append(result)
        print(f"| {seed} | {result['median_step_ms']:.1f} | {result['step_at_target']} | {result['seconds']:.0f} |",
              flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(torch.device("cpu")), "results": results}, indent=2))


if __name__ == "__main__":
    main()
