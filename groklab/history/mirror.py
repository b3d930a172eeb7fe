"""Optional mirrors of the history records into tools people already watch. The JSONL stays the source of truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TensorBoardMirror:
    """Writes every numeric field of each history record as a TensorBoard scalar at the record's step."""

    def __init__(self, log_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # torch's writer needs the tensorboard package
            raise RuntimeError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
        self._writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, record: dict[str, Any]) -> None:
        for name, value in record.items():
            if name not in ("step", "schema_version") and isinstance(value, (int, float)):
                self._writer.add_scalar(name, value, record["step"])
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
