"""Same split, same initial weights, same grokking step? (run by hand; results go to docs/fidelity.md)

    .venv/bin/python benchmarks/replay_to_threshold.py power2022/danielmamay --max-steps 4000
    .venv/bin/python benchmarks/replay_to_threshold.py power2022/openai-grok --max-steps 8000 \
        --variant original --variant own-order
    .venv/bin/python benchmarks/replay_to_threshold.py nanda2023/progress-measures-paper --max-steps 20000 \
        --variant original --variant preset

Trains groklab from a reference's recorded split and initial weights (tests/reference/KEY) until test accuracy
reaches --target, evaluating every --eval-every updates, and prints that step next to the original code's.
Variants: `original` (the preset with the original's choices, the replay the equivalence tests check; batches:
the recorded ones, then groklab's own seeded order), `own-order` (the same with groklab's order from step 0),
`preset` (the preset's own choices, e.g. a float64 loss, on the same split and weights). Also reports the first
update at which the test loss falls below --test-loss, the paper-style "test loss collapse".
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from common import machine

from groklab import fidelity
from groklab.replays import replay_keys, replays

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference"


def original_steps(ref: fidelity.Reference, target: float, test_loss: float) -> dict:
    """The original's own threshold steps, in updates done, from what its recorder kept."""
    a = ref.arrays
    if "step_test_acc" in a:  # grokking-squared: test accuracy of every step, from the outputs before its update
        reached = np.flatnonzero(a["step_test_acc"] >= target)
        return {"test_acc_step": int(reached[0]) if len(reached) else None, "eval_every": 1}
    if "epoch_val_acc" in a:  # grokfast: validation accuracy after each epoch (epoch_end_step updates)
        reached = np.flatnonzero(a["epoch_val_acc"] >= target)
        return {"test_acc_step": int(a["epoch_end_step"][reached[0]]) if len(reached) else None,
                "eval_every": "epoch (10 steps)"}
    if "eval_val_accuracy" in a:  # openai/grok: its validations (percent), `step` updates done
        reached = np.flatnonzero(a["eval_val_accuracy"] >= 100 * target)
        return {"test_acc_step": int(a["eval_step"][reached[0]]) if len(reached) else None,
                "eval_every": "once per evaluated epoch, growing 2% per evaluation"}
    if "eval_validation_accuracy" in a:  # danielmamay: evaluations after update `step` (step + 1 updates done)
        reached = np.flatnonzero(a["eval_validation_accuracy"] >= target)
        return {"test_acc_step": int(a["eval_step"][reached[0]]) + 1 if len(reached) else None,
                "eval_every": 100}
    reached = np.flatnonzero(a["acc_test"] >= target)  # progress-measures: accuracy every 100 steps, before it
    below = np.flatnonzero(a["step_test_loss"] < test_loss)
    return {"test_acc_step": int(a["acc_step"][reached[0]]) + 1 if len(reached) else None, "eval_every": 100,
            "test_loss_step": int(below[0]) if len(below) else None, "steps_recorded": len(a["step_test_loss"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("key", choices=replay_keys())
    parser.add_argument("--variant", action="append", choices=["original", "own-order", "preset"])
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--test-loss", type=float, default=1e-3)
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    opts = parser.parse_args()
    replay, ref = replays()[opts.key], fidelity.load_reference(REFERENCE / opts.key)
    result = {"key": opts.key, "machine": machine(torch.device("cpu")), "target": opts.target,
              "original": original_steps(ref, opts.target, opts.test_loss), "groklab": {}}
    print(f"{opts.key}: original {result['original']}")
    for variant in opts.variant or ["original"]:
        cfg = fidelity.replay_config(replay, original=variant != "preset")
        data, training = fidelity.replay_training(replay, ref, cfg, own_order=variant == "own-order")
        start = time.perf_counter()
        trajectory = fidelity.run_replay(data, training, opts.max_steps, range(0, opts.max_steps + 1, opts.eval_every))
        collapsed = next((s for s, _, _, loss in trajectory.evals if loss < opts.test_loss), None)
        evals = [[s, round(tr, 4), round(te, 4), float(f"{loss:.4g}")] for s, tr, te, loss in trajectory.evals]
        result["groklab"][variant] = {
            "test_acc_step": trajectory.first_step(opts.target), "test_loss_step": collapsed,
            "wall_s": round(time.perf_counter() - start, 1), "evals": evals,
        }
        print(f"  groklab {variant}: test accuracy {opts.target} at {trajectory.first_step(opts.target)}, "
              f"test loss < {opts.test_loss} at {collapsed}")
    opts.out.mkdir(parents=True, exist_ok=True)
    path = opts.out / f"replay-{opts.key.replace('/', '-')}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
