"""Seeds torch's global generator from $PEER_SEED before a peer's unchanged script runs (the danielmamay/grokking
scripts set no seed), so that a benchmark seed fixes the peer's split, initial weights and batch order."""

import os

if "PEER_SEED" in os.environ:
    import torch

    torch.manual_seed(int(os.environ["PEER_SEED"]))
