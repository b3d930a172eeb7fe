"""Running run folders as SLURM jobs through submitit.

A run folder is prepared here (config.yaml, status 'queued') and the job only resumes it, so a job that is
requeued (at its time limit, on preemption, or by `scontrol requeue`) continues the same folder from its
newest checkpoint. Each submitted folder gets slurm.json (job id, submitit's log folder) so that `groklab
status` and `groklab cancel` can find the job again.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from groklab.common.files import write_atomic
from groklab.common.run_folder import JOB_FILE
from groklab.config import ConfigError
from groklab.launch import SubmissionError

SAFETY_FACTOR = 1.5  # time limit = estimate x this + START_MARGIN_MIN, when no limit is given
START_MARGIN_MIN = 2  # interpreter start, imports and the analysis after training
ACTIVE_STATES = ("PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "SUSPENDED", "RESIZING")


class SlurmResources(BaseModel):
    """What each job asks the scheduler for. time_min None: set from the wall-time calibration."""

    model_config = ConfigDict(extra="forbid")

    partition: Optional[str] = None
    time_min: Optional[int] = Field(None, gt=0)
    cpus_per_task: int = Field(1, gt=0)
    gpus_per_node: int = Field(0, ge=0)
    mem_gb: Optional[float] = Field(None, gt=0)
    account: Optional[str] = None
    max_parallel: Optional[int] = Field(None, gt=0, description="array jobs running at once")
    signal_delay_s: int = Field(90, ge=10, description="seconds before the limit the job is told to requeue")


def slurm_resources(**options: Any) -> SlurmResources:
    """SlurmResources from command-line options, or a ConfigError naming each bad one."""
    try:
        return SlurmResources(**options)
    except ValidationError as err:
        raise ConfigError([f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]) from None


def require_scheduler() -> None:
    """Refuse before any work when the SLURM client commands are missing."""
    missing = [tool for tool in ("sbatch", "squeue", "sacct", "scancel") if shutil.which(tool) is None]
    if missing:
        raise ConfigError([f"--executor slurm needs the SLURM commands on PATH; missing: {', '.join(missing)}. "
                           "Run on a cluster login node (docs/slurm.md), or use --executor local"])


def time_limit_min(estimate_s: float, resources: SlurmResources, what: str) -> int:
    """The job time limit in minutes: the user's, if it covers the estimate, else estimate x 1.5 + 2 min."""
    needed = math.ceil(estimate_s * SAFETY_FACTOR / 60) + START_MARGIN_MIN
    if resources.time_min is None:
        return needed
    if resources.time_min * 60 < estimate_s + START_MARGIN_MIN * 60:
        raise ConfigError([f"--time {resources.time_min} min is shorter than {what} needs: the calibration "
                           f"estimates {estimate_s / 60:.1f} min of training; ask for at least {needed} min "
                           "(or leave --time out to have it set from the estimate)"])
    return resources.time_min


class RunJob:
    """The job: train the prepared run folder, resuming from its newest checkpoint. Having `checkpoint` (what
    submitit looks for), it is requeued (and resumes) when SLURM signals the time limit or a preemption."""

    def __call__(self, run_dir: str) -> str:
        import torch

        from groklab.run.execute import resume

        torch.set_num_threads(int(os.environ.get("SLURM_CPUS_PER_TASK", "1")))
        return resume(Path(run_dir), show_progress=False).result.analysis.outcome

    def checkpoint(self, run_dir: str) -> Any:
        """The same job again, for submitit to requeue (the folder's checkpoints hold the progress)."""
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self, run_dir)


def submit(run_dirs: list[Path], resources: SlurmResources, time_min: int, log_dir: Path, name: str) -> list[str]:
    """Submit one job per prepared run folder (a job array when there are several); returns the job ids."""
    import submitit  # only when submitting: every other command starts without it

    executor = submitit.AutoExecutor(folder=log_dir / "%j", cluster="slurm")
    extra = {"account": resources.account} if resources.account else {}
    executor.update_parameters(
        name=name, timeout_min=time_min, cpus_per_task=resources.cpus_per_task, tasks_per_node=1, nodes=1,
        gpus_per_node=resources.gpus_per_node, slurm_partition=resources.partition, mem_gb=resources.mem_gb,
        slurm_array_parallelism=resources.max_parallel or len(run_dirs),
        slurm_signal_delay_s=resources.signal_delay_s, slurm_additional_parameters=extra,
    )
    try:
        with executor.batch():
            jobs = [executor.submit(RunJob(), str(run_dir)) for run_dir in run_dirs]
    except submitit.core.utils.FailedJobError as err:
        lines = str(err).strip().splitlines() or ["no reason given"]
        reason = lines[-1].removeprefix("sbatch: error: ")
        raise SubmissionError(f"sbatch refused the submission: {reason}. Check that the cluster answers "
                              "(`sinfo`) and that the partition and account exist; nothing was submitted") from err
    for run_dir, job in zip(run_dirs, jobs, strict=True):
        write_atomic(run_dir / JOB_FILE, json.dumps({
            "job_id": job.job_id, "submitted_at": time.time(), "time_limit_min": time_min,
            "log_dir": str(log_dir / job.job_id), "resources": resources.model_dump(),
        }, indent=1))
    return [job.job_id for job in jobs]


def job_of(run_dir: Path) -> Optional[dict]:
    """slurm.json of a run submitted to SLURM, or None."""
    path = run_dir / JOB_FILE
    return json.loads(path.read_text()) if path.is_file() else None


@dataclass(frozen=True)
class JobState:
    job_id: str
    state: str  # SLURM's word (PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, FAILED, ...), or UNKNOWN

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def job_states(job_ids: list[str]) -> dict[str, JobState]:
    """The scheduler's view of `job_ids`: squeue for live jobs, sacct for the ones that ended."""
    states: dict[str, JobState] = {}
    if not job_ids or shutil.which("squeue") is None:
        return {j: JobState(j, "UNKNOWN") for j in job_ids}
    queue = _query(["squeue", "-h", "-r", "-o", "%i %T", "-j", ",".join(job_ids)])  # -r: one line per array task
    accounting = _query(["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", ",".join(job_ids)], sep="|")
    for job_id, state in [*accounting, *queue]:  # squeue last: it is the live view
        states[job_id] = JobState(job_id, state.split()[0] if state else "UNKNOWN")
    return {j: states.get(j, JobState(j, "UNKNOWN")) for j in job_ids}


def _query(command: list[str], sep: str = " ") -> list[tuple[str, str]]:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    rows = []
    for line in result.stdout.splitlines():
        job_id, _, state = line.strip().partition(sep)
        if job_id:
            rows.append((job_id, state.strip()))
    return rows


def cancel(job_ids: list[str]) -> None:
    """scancel the jobs (the run folders keep what they wrote; resume them later)."""
    if job_ids:
        subprocess.run(["scancel", *job_ids], check=True, capture_output=True, text=True)
