"""Datasets groklab obtains, verifies and caches on the local machine (no network at training time)."""
