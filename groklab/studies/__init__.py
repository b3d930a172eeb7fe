"""Studies over many runs: sweeps, ticket comparisons, the accelerator speed-up table and the suite."""
