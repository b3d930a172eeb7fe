"""Utilities every layer may use: seeded random streams, checkpoint files and a run's status file."""
