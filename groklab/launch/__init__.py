"""Where runs execute: locally (groklab.run.execute, groklab.studies) or as SLURM jobs through submitit (here)."""


class SubmissionError(RuntimeError):
    """sbatch refused the jobs (the cluster did not answer, or a resource such as the partition is unknown)."""


class JobError(RuntimeError):
    """A SLURM job ended (failed, cancelled, out of time) before its run finished: the same command resubmits it."""
