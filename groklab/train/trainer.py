"""The one training loop every preset uses."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from groklab.common.checkpoint import load_latest, save_checkpoint
from groklab.common.run_folder import CHECKPOINTS_DIR, HISTORY_FILE, State, write_status
from groklab.common.seeding import generator, substream
from groklab.config.schema import RunConfig
from groklab.history import HistoryWriter, keep_records_through, make_record
from groklab.history.mirror import TensorBoardMirror
from groklab.history.reader import read_records
from groklab.models import build_model
from groklab.objective import Objective
from groklab.optim import build_optimizer, lr_at
from groklab.probes import measure_probes
from groklab.tasks import TaskData, build_task
from groklab.train.cuda_graph import stepper
from groklab.train.gradients import GradientPipeline
from groklab.train.masks import apply_mask, build_mask
from groklab.train.preemption import Preemption
from groklab.train.progress_bar import ProgressReporter
from groklab.train.schedule import eval_steps
from groklab.train.stop_rules import NotLearningWatch

log = logging.getLogger(__name__)
EVAL_CHUNK = 8192


@dataclass(frozen=True)
class TrainResult:
    state: State  # "completed", "diverged", or "preempted" (a stop signal: resumable from `step`)
    step: int
    signal: str | None = None  # the stop signal's name, when preempted


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device=cuda was asked for but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


@torch.no_grad()
def measure(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, objective: Objective) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` on a whole split."""
    total_loss, correct = 0.0, 0
    for start in range(0, len(y), EVAL_CHUNK):
        outputs = model(x[start : start + EVAL_CHUNK])
        targets = y[start : start + EVAL_CHUNK]
        losses = objective.per_sample(outputs, targets)
        total_loss += losses.sum().item()
        correct += objective.correct(outputs, targets, losses).sum().item()
    return total_loss / len(y), correct / len(y)


def build_model_for(cfg: RunConfig, data: TaskData, objective: Objective) -> torch.nn.Module:
    """The configured model with as many outputs as the objective needs."""
    return build_model(cfg.model, replace(data, n_classes=objective.output_dim(data.n_classes)))


def initial_model(
    cfg: RunConfig, data: TaskData, objective: Objective, device: torch.device
) -> tuple[torch.nn.Module, dict[str, torch.Tensor] | None]:
    """The seeded initial model, rescaled to train.init_norm and masked by train.mask where set, and the mask."""
    torch.manual_seed(substream(cfg.seed, "init"))
    model = build_model_for(cfg, data, objective).to(device)
    if cfg.train.init_norm is not None:
        rescale_to_norm(model, cfg.train.init_norm)
    masks = build_mask(model, cfg.train.mask, cfg.seed, device) if cfg.train.mask else None
    if masks:
        apply_mask(model, masks)
    return model, masks


class BatchOrder:
    """Minibatches as a pure function of (seed, step): each epoch is a fresh seeded permutation."""

    def __init__(self, data: TaskData, batch_size: int | None, seed: int, drop_last: bool = True) -> None:
        self.x, self.y, self.seed = data.train_x, data.train_y, seed
        self.n = len(data.train_y)
        self.size = batch_size or self.n
        self.per_epoch = self.n // self.size if drop_last else -(-self.n // self.size)  # keep: a last partial batch
        self._epoch, self._perm = -1, None

    def epoch_of(self, step: int) -> float:
        return step / self.per_epoch

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.size == self.n:
            return self.x, self.y
        epoch, index = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._perm = torch.randperm(self.n, generator=generator(self.seed, f"order:{epoch}")).to(self.x.device)
        rows = self._perm[index * self.size : (index + 1) * self.size]
        return self.x[rows], self.y[rows]


@dataclass
class Training:
    """Everything one optimization step touches; `step(i)` trains on minibatch i."""

    cfg: RunConfig
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    objective: Objective
    order: BatchOrder
    masks: dict[str, torch.Tensor] | None
    initial_norm: float  # the norm train.fixed_weight_norm holds (the model at init, also on resume)
    gradients: GradientPipeline  # grad filter, ⊥Grad and clipping between backward and step

    def step(self, step: int) -> torch.Tensor:
        """One update on minibatch `step`; returns the minibatch loss computed before it (detached)."""
        self.set_lr(step)
        return self.update(*self.batch(step))

    def set_lr(self, step: int) -> None:
        """Every parameter group's learning rate for update `step` (written into a device tensor once the
        optimizer is capturable, so that a captured step reads it)."""
        lr = lr_at(step, self.cfg.train.steps, self.cfg.optim)
        for group in self.optimizer.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr * group["lr_scale"])
            else:
                group["lr"] = lr * group["lr_scale"]

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.order.batch(step)

    def update(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Forward, backward, gradient pipeline, optimizer step and mask on one minibatch: the work a CUDA graph
        captures (nothing here reads a value back to the host, except train.fixed_weight_norm's rescaling)."""
        model, optimizer = self.model, self.optimizer
        loss = self.objective.loss(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.gradients.apply(model.named_parameters())
        optimizer.step()
        if self.masks:
            apply_mask(model, self.masks)
        if self.cfg.train.fixed_weight_norm:
            rescale_to_norm(model, self.initial_norm)
        return loss.detach()

    def make_capturable(self) -> None:
        """Switch the optimizer to torch's capturable mode (its step counts and learning rates as device
        tensors), which a CUDA graph replays correctly; the updates are the same up to float rounding."""
        device = next(self.model.parameters()).device
        for group in self.optimizer.param_groups:
            group["capturable"] = True
            group["lr"] = torch.tensor(float(group["lr"]), device=device)
        for state in self.optimizer.state.values():
            if "step" in state:
                state["step"] = state["step"].to(device=device, dtype=torch.float32)


def portable_optimizer_state(optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer's state_dict in the form an eager optimizer on any device loads: a capturable optimizer's
    (train.cuda_graph) tensor learning rates become numbers and its step counts CPU tensors."""
    state = optimizer.state_dict()
    if not any(group.get("capturable") for group in state["param_groups"]):
        return state
    return {"state": {index: {**values, "step": values["step"].cpu()} if "step" in values else values
                      for index, values in state["state"].items()},
            "param_groups": [{**group, "lr": float(group["lr"]), "capturable": False}
                             for group in state["param_groups"]]}


def set_up(cfg: RunConfig, device: torch.device) -> tuple[TaskData, Training]:
    """The seeded task data and a fresh model, optimizer and batch order for `cfg`."""
    data = build_task(cfg.task, cfg.seed).to(device)
    objective = Objective(cfg, device)
    model, masks = initial_model(cfg, data, objective, device)
    optimizer = build_optimizer(model, cfg.optim)
    order = BatchOrder(data, cfg.train.batch_size, cfg.seed, cfg.train.drop_last)
    return data, Training(cfg, model, optimizer, objective, order, masks, param_norm(model),
                          GradientPipeline(cfg.optim))


class RunRecorder:
    """One run's bookkeeping around its optimization steps: the evaluations on the schedule (history, status,
    progress), checkpoints, and the stop rules (end of budget, train.stop_at_test_acc, non-finite loss).

    Created before the first step: it restores the newest checkpoint into `training` when resuming. A batched
    run passes `before_checkpoint`, which brings `training`'s optimizer and gradient-filter state up to date."""

    def __init__(self, cfg: RunConfig, run_dir: Path, data: TaskData, training: Training, resume: bool,
                 show_progress: bool, tensorboard: bool = False, label: str | None = None,
                 before_checkpoint: Callable[[], None] | None = None) -> None:
        self.cfg, self.run_dir, self.data, self.training = cfg, run_dir, data, training
        self.before_checkpoint = before_checkpoint
        self.total, self.start, self.elapsed_before = cfg.train.steps, 0, 0.0
        self.ckpt_dir, history_path = run_dir / CHECKPOINTS_DIR, run_dir / HISTORY_FILE
        device = next(training.model.parameters()).device
        checkpoint = load_latest(self.ckpt_dir, device) if resume else None
        self.resumed = checkpoint is not None
        if checkpoint is not None:
            training.model.load_state_dict(checkpoint["model"])
            training.optimizer.load_state_dict(checkpoint["optimizer"])
            training.gradients.load_state_dict(checkpoint.get("gradients", {}))
            torch.set_rng_state(checkpoint["torch_rng"])
            self.start, self.elapsed_before = checkpoint["step"], checkpoint["elapsed_s"]
        if resume:
            dropped = keep_records_through(history_path, self.start if checkpoint else -1)
            log.info("resuming %s at step %d (%d records after the checkpoint will be recomputed)",
                     run_dir, self.start, dropped)
        self.schedule = set(eval_steps(self.total, cfg.eval))
        earlier = read_records(history_path)[0] if resume and history_path.is_file() else []
        uninformed = training.objective.uninformed_loss(data.train_y, training.objective.output_dim(
            cfg.task.n_classes))
        self.not_learning = NotLearningWatch(cfg, uninformed, earlier)
        self.stopped_early: str | None = None
        self.progress = ProgressReporter(label or cfg.preset or "run", self.total, self.start, show_progress)
        self.state: str | None = None  # "completed", "diverged" or "preempted" once training stops
        self.t0 = time.monotonic()
        write_status(run_dir, "running", step=self.start, total_steps=self.total, device=str(device))
        mirrors = [TensorBoardMirror(run_dir / "tensorboard")] if tensorboard else []
        self.history = HistoryWriter(history_path, mirrors)

    def evaluates(self, step: int) -> bool:
        return step in self.schedule and not (self.resumed and step == self.start)

    def due(self, step: int) -> bool:
        """Whether `at(step)` reads the model (to evaluate or checkpoint it)."""
        return self.evaluates(step) or step == self.total or (
            step > self.start and step % self.cfg.train.checkpoint_every == 0)

    def at(self, step: int) -> bool:
        """Evaluate and checkpoint the model as it is before update `step`; True when the run is over."""
        cfg, training = self.cfg, self.training
        finished = step == self.total
        if self.evaluates(step):
            elapsed = self.elapsed_before + time.monotonic() - self.t0
            record = evaluate(training.model, self.data, cfg, training.objective, training.order, step, elapsed)
            self.history.write(record)
            self.progress.evaluated(record)
            eta = record["elapsed_s"] / max(step, 1) * (self.total - step)
            write_status(self.run_dir, "running", step=step, train_acc=record["train_acc"],
                         test_acc=record["test_acc"], eta_s=round(eta, 1))
            if record["train_loss"] is None or record["test_loss"] is None:
                log.warning("loss became non-finite at step %d: stopping the run as diverged", step)
                return self._end("diverged", step)
            stop = cfg.train.stop_at_test_acc
            if stop is not None and record["test_acc"] >= stop:
                log.info("test accuracy reached train.stop_at_test_acc=%s at step %d: stopping", stop, step)
                finished = True
            self.stopped_early = self.not_learning.observe(record)
            if self.stopped_early:
                log.warning("stopping early: %s", self.stopped_early)
                finished = True
        if step > self.start and (step % cfg.train.checkpoint_every == 0 or finished):
            self._checkpoint(step)
        return self._end("completed", step) if finished else False

    def _checkpoint(self, step: int) -> None:
        training = self.training
        if self.before_checkpoint:
            self.before_checkpoint()
        save_checkpoint(self.ckpt_dir, step, {
            "model": training.model.state_dict(), "optimizer": portable_optimizer_state(training.optimizer),
            "gradients": training.gradients.state_dict(),
            "torch_rng": torch.get_rng_state(), "elapsed_s": self.elapsed_before + time.monotonic() - self.t0,
        }, self.cfg.train.keep_checkpoints_every)

    def preempt(self, step: int, signal_name: str) -> None:
        """Stop at `step` (after `at(step)` returned False), on a stop signal: checkpoint this step unless `at`
        just did (a multiple of train.checkpoint_every), so that a resume continues from here; record it."""
        if step > self.start and step % self.cfg.train.checkpoint_every:
            self._checkpoint(step)
        self._end("preempted", step, signal=signal_name)
        log.warning("%s: preempted by %s at step %d, checkpoint written; `groklab run --resume %s` continues it",
                    self.run_dir, signal_name, step, self.run_dir)

    def _end(self, state: str, step: int, **fields: str) -> bool:
        self.state = state
        self.close()
        if self.stopped_early:
            fields["stopped_early"] = self.stopped_early
        write_status(self.run_dir, state, step=step, **fields)
        return True

    def close(self) -> None:
        """Close the history file and the progress display (also when training stops with an error)."""
        self.history.close()
        self.progress.close()


def train(
    cfg: RunConfig, run_dir: Path, resume: bool = False, show_progress: bool = True, tensorboard: bool = False
) -> TrainResult:
    """Train `cfg` into `run_dir` (which already holds config.yaml), resuming from its newest checkpoint.

    With `tensorboard`, every history record is mirrored to run_dir/tensorboard.
    """
    device = resolve_device(cfg.device)
    data, training = set_up(cfg, device)
    recorder = RunRecorder(cfg, run_dir, data, training, resume, show_progress, tensorboard)
    steps = stepper(training, cfg, device)  # after the recorder restored a checkpoint into `training`
    step = recorder.start
    with Preemption() as preemption:
        try:
            while not recorder.at(step):
                if preemption.signal:
                    recorder.preempt(step, preemption.name)
                    break
                steps.step(step)
                step += 1
                recorder.progress.step(step)
        finally:
            recorder.close()
    return TrainResult(state=recorder.state, step=step, signal=preemption.name)


def evaluate(
    model: torch.nn.Module, data: TaskData, cfg: RunConfig, objective: Objective, order: BatchOrder, step: int,
    elapsed: float,
) -> dict:
    """One history record: loss and accuracy on the whole train and test sets (and as loss_<split>,
    acc_<split> on the task's further evaluation splits), and the parameter norm."""
    model.eval()
    train_loss, train_acc = measure(model, data.train_x, data.train_y, objective)
    test_loss, test_acc = measure(model, data.test_x, data.test_y, objective)
    extra = measure_probes(model, data, cfg, step)
    for name, (x, y) in data.eval_splits.items():
        extra[f"loss_{name}"], extra[f"acc_{name}"] = measure(model, x, y, objective)
    model.train()
    total = cfg.train.steps
    return make_record(
        step, epoch=order.epoch_of(step), train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
        test_acc=test_acc, param_norm=param_norm(model), lr=lr_at(min(step, total - 1), total, cfg.optim),
        elapsed_s=round(elapsed, 3), **extra,
    )


@torch.no_grad()
def rescale_to_norm(model: torch.nn.Module, norm: float) -> None:
    """Multiply every parameter by norm / (current total L2 norm)."""
    factor = norm / param_norm(model)
    for param in model.parameters():
        param.mul_(factor)


@torch.no_grad()
def param_norm(model: torch.nn.Module) -> float:
    """L2 norm of all parameters together."""
    return math.sqrt(sum(float(p.pow(2).sum()) for p in model.parameters()))
