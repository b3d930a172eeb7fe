"""Wall time to 99% validation accuracy: the real danielmamay/grokking and openai/grok code, unchanged, against
groklab's power2022 canonical preset, seed by seed, back to back on this machine (run by hand).

    .venv/bin/python benchmarks/peer_speed.py --seeds 0 1 2

What it does, per seed, one process at a time:
1. Each peer: `git archive` of the commit from a fetched copy of the repository (--mirror, a git directory; the
   `fetch` tool puts one under /work/.mirror/danielmamay+grokking/repo) into a temporary folder, then its own
   `grokking/cli.py` with its default arguments (x/y mod 97, 50% training, 2 layers, width 128, 4 heads, batch
   512, AdamW lr 1e-3 wd 1, betas (0.9, 0.98), 10-step warm-up) in a separate venv (--venv; created with
   torch==2.13.0, einops, numpy and tqdm when missing: the torch groklab uses). Two files from
   benchmarks/peers/ go first on its PYTHONPATH: `wandb.py`, which records what the script logs and ends the
   process when a validation accuracy reaches the target (no network here; real wandb would only add cost),
   and `sitecustomize.py`, which seeds torch from the benchmark seed (the scripts set none). Not one line of
   theirs is changed or committed.
   openai/grok (the paper's own code) runs its `scripts/train.py` with the paper's text where its defaults
   differ (`--math_operator / --train_data_pct 50 --weight_decay 1`, its own `--random_seed`, `--gpu -1`) in a
   venv of its own: its 2021 code needs pytorch-lightning 1.2.10 (the last that lets a module assign
   `self.hparams`), numpy<2 and setuptools<70 beside torch 2.13.0. It logs through Lightning, so
   sitecustomize.py watches its logged `val_accuracy` instead (it validates once per evaluated epoch, on a
   schedule that grows 2% per evaluation).
2. groklab: `groklab run power2022 --scale canonical --seed S train.stop_at_test_acc=0.99` as a whole process
   (start-up, training, evaluations, history, checkpoints, analysis and figures): the canonical computes what
   the current main computes (ReLU, no biases, no final LayerNorm); scale gelu_2022 computes the classic commit's
   model.
The wall time is the whole process, from launch to exit, for every row. Results: a Markdown table (medians per
implementation) and benchmarks/results/peer_speed-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import torch  # noqa: E402
from common import machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MIRRORS = Path("/work/.mirror")  # where the `fetch` tool puts a repository's git directory


@dataclass(frozen=True)
class Peer:
    """A peer's unchanged code: which repository and commit, its command (seeded by {seed}), its venv's packages
    and how its metrics are watched."""

    repository: str
    commit: str
    workdir: str  # inside the archive
    command: tuple[str, ...]
    installs: tuple[tuple[str, ...], ...]  # pip installs, one after another
    lightning: bool = False

    def mirror(self, root: Path) -> Path:
        return root / self.repository.replace("/", "+") / "repo"


DANIELMAMAY_PACKAGES = (("torch==2.13.0", "einops", "numpy", "tqdm"),)
# setuptools<70 goes second: torch 2.13 declares setuptools>=77, which one pip resolve cannot square with it, but
# pytorch-lightning 1.2 imports pkg_resources, which newer setuptools no longer carries
OPENAI_GROK_PACKAGES = (("torch==2.13.0", "pytorch-lightning==1.2.10", "numpy<2", "blobfile", "mod", "sympy", "scipy",
                         "matplotlib", "tqdm"), ("setuptools<70",))
PEERS = {
    # GELU, biases, final LayerNorm; validates every epoch
    "danielmamay classic": Peer("danielmamay/grokking", "27bd524", "grokking", ("cli.py",), DANIELMAMAY_PACKAGES),
    # ReLU, no biases, no final LayerNorm; validates every 100 steps
    "danielmamay main": Peer("danielmamay/grokking", "9988f8d", "grokking", ("cli.py",), DANIELMAMAY_PACKAGES),
    # the paper's code: ReLU, no biases, sinusoidal positions, answer and <eos> scored over 239 tokens
    "openai/grok": Peer("openai/grok", "3d64b1d", ".", (
        "scripts/train.py", "--random_seed", "{seed}", "--gpu", "-1", "--math_operator", "/", "--train_data_pct", "50",
        "--weight_decay", "1"), OPENAI_GROK_PACKAGES, lightning=True),
}
GROKLAB = {  # name: power2022 scale
    "groklab power2022 canonical (main's model)": "canonical",
    "groklab power2022 gelu_2022 (classic's model)": "gelu_2022",
}


def peer_venv(root: Path, peer: Peer) -> Path:
    """A peer repository's own environment with its packages (created on first use)."""
    venv = root / f"groklab-peer-{peer.repository.replace('/', '+')}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for packages in peer.installs:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def time_peer(peer: Peer, python: Path, mirrors: Path, seed: int, target: float, timeout: int) -> dict:
    """Run the peer's unchanged command until its validation accuracy reaches `target`."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        archive = subprocess.run(["git", "--git-dir", str(peer.mirror(mirrors)), "archive", peer.commit],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        log = Path(tmp) / "log.jsonl"
        started = time.time()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent / "peers"), str(source)]),
               "PEER_TARGET": str(target), "PEER_LOG": str(log), "PEER_STARTED": repr(started),
               **({"PEER_LIGHTNING": "1", "GROK_LOGDIR": tmp} if peer.lightning else {"PEER_SEED": str(seed)})}
        command = [arg.format(seed=seed) for arg in peer.command]
        proc = subprocess.run([str(python), *command], cwd=source / peer.workdir, env=env, capture_output=True,
                              text=True, timeout=timeout)
        wall = time.time() - started
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    reached = next((r for r in records if "reached" in r), None)
    if proc.returncode != 0 or reached is None:
        raise RuntimeError(f"{peer.repository} {peer.commit} seed {seed} ended without reaching {target}: "
                           f"{proc.stderr[-2000:]}")
    return {"step": reached["step"], "wall_s": round(wall, 1)}


def time_groklab(seed: int, scale: str, target: float) -> dict:
    """A whole `groklab run` process stopping at `target` test accuracy."""
    from groklab.history import load_history

    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        subprocess.run([str(REPO / ".venv" / "bin" / "groklab"), "run", "power2022", "--scale", scale, "--seed",
                        str(seed), "--out", f"{tmp}/run", "--quiet", f"train.stop_at_test_acc={target}"], check=True,
                       capture_output=True)
        wall = time.time() - started
        history = load_history(Path(tmp) / "run")
    step = next(r["step"] for r in history.records if (r.get("test_acc") or 0.0) >= target)
    return {"step": step, "wall_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS, help="the fetched repositories' folder")
    parser.add_argument("--venvs", type=Path, default=Path(tempfile.gettempdir()), help="where the peers' venvs go")
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one peer run may take")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    pythons = {name: peer_venv(args.venvs, PEERS[name]) for name in args.peers}

    rows = []
    for seed in args.seeds:
        for name in args.peers:
            rows.append({"implementation": name, "seed": seed,
                         **time_peer(PEERS[name], pythons[name], args.mirrors, seed, args.target, args.timeout)})
            print(json.dumps(rows[-1]), flush=True)
        for name, scale in GROKLAB.items():
            rows.append({"implementation": name, "seed": seed, **time_groklab(seed, scale, args.target)})
            print(json.dumps(rows[-1]), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine(torch.device("cpu")), "rows": rows,
              "peers": {name: f"{PEERS[name].repository}@{PEERS[name].commit}" for name in args.peers}}
    (args.out / f"peer_speed-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(record, indent=1))
    print(f"\nmachine: {record['machine']}\n")
    print(f"| implementation | seeds | steps to {args.target:.0%} (each) | wall time, s (each) | median (s) |")
    print("|---|---|---|---|---|")
    for name in [*args.peers, *GROKLAB]:
        mine = [r for r in rows if r["implementation"] == name]
        print(f"| {name} | {len(mine)} | {', '.join(str(r['step']) for r in mine)} | "
              f"{', '.join(str(r['wall_s']) for r in mine)} | {statistics.median(r['wall_s'] for r in mine):.0f} |")


if __name__ == "__main__":
    main()
