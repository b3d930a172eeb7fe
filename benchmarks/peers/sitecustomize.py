"""Runs before a peer's unchanged script (benchmarks/peer_speed.py puts this folder first on PYTHONPATH).

- $PEER_SEED seeds torch's global generator (the danielmamay/grokking scripts set no seed), so that a benchmark
  seed fixes the peer's split, initial weights and batch order.
- $PEER_LIGHTNING: for openai/grok, which logs through pytorch-lightning rather than wandb, every metric its
  LightningModule logs is recorded in $PEER_LOG (JSON lines, as the wandb stand-in writes them), and the process
  ends as soon as a logged `val_accuracy` (percent) reaches $PEER_TARGET (a fraction).
"""

import os

if "PEER_SEED" in os.environ:
    import torch

    torch.manual_seed(int(os.environ["PEER_SEED"]))

if os.environ.get("PEER_LIGHTNING"):
    import json
    import time

    from pytorch_lightning import LightningModule

    _log, _started = open(os.environ["PEER_LOG"], "a"), float(os.environ["PEER_STARTED"])  # noqa: SIM115
    _target, _original_log = 100 * float(os.environ["PEER_TARGET"]), LightningModule.log

    def _watching_log(self, name, value, *args, **kwargs):
        number = float(value.item() if hasattr(value, "item") else value)
        record = {"step": self.global_step, "seconds": time.time() - _started, name: number}
        _log.write(json.dumps(record) + "\n")
        if name == "val_accuracy" and number >= _target:
            _log.write(json.dumps({"reached": _target / 100, "step": self.global_step,
                                   "seconds": record["seconds"]}) + "\n")
            _log.flush()
            os._exit(0)
        return _original_log(self, name, value, *args, **kwargs)

    LightningModule.log = _watching_log
