"""The one training loop, batched seeds, the gradient pipeline, masks and wall-time calibration."""
