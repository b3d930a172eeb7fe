"""Where runs execute: locally (groklab.sweep, groklab.api) or as SLURM jobs through submitit (here)."""
