"""Record OSU-NLP-Group/GrokkedTransformer (Wang et al. 2024) on two-hop composition at groklab's quick scale:
the data its notebook draws, its tokenization, initial weights, batch order and per-step training loss.

Run outside the repository, in a venv with torch 2.13.0, numpy<2, tokenizers<0.19, huggingface-hub 0.20.3,
datasets 2.16.1, pyarrow<17, pandas, tensorboard, scipy, scikit-learn, sentencepiece, safetensors, regex, pyyaml,
with the repository's bundled transformers (4.37.0.dev0, its src/) and simpletransformers on the path:

    git archive of OSU-NLP-Group/GrokkedTransformer at 734ca65 -> SRC
    PYTHONHASHSEED=0 PYTHONPATH=SRC/transformers/src:SRC/simpletransformers:SRC VENV/bin/python \
        scripts/reference/record_grokked_transformer.py --src SRC \
        --out tests/reference/wang2024_grokked_kg/grokked-transformer

Data: composition.ipynb's code cells 1-5 run unchanged except their sizes, which take groklab's quick scale
(NUM_ENTITY_IN 2000 -> 50, NUM_RELATION 200 -> 20, the phi loop [18.0, ..., 3.6] -> [15.0]; out-degree 20 and
its 5% OOD atomic facts and 0.5% held-out ID inferred facts as written), after np.random.seed(--seed): the
notebook draws unseeded. Training: its main.py with the README command's flags at the quick scale's sizes
(--n_layer 2 --n_head 4 --n_inner 256, batch 256, lr 1e-3, 100 warmup steps then constant, weight decay 0.1)
and --no_dropout (the quick scale trains without dropout; the code's own flag). Its --model_name_or_path is a
local folder this script writes: GPT2Config with n_embd 64 (GPT-2's values otherwise) and a byte-level BPE
tokenizer whose base vocabulary is only <|endoftext|>. Every token of the data is one of those main.py adds
from vocab.json (<e_i>, <r_j>, </a>), so the base vocabulary only adds output rows: with GPT-2's own 50257 the
tied embedding alone would take 155 MB per recording, and the Hugging Face hub is not reachable here. Run on
the CPU: Seq2SeqModel is built with use_cuda=False (its default True raises without CUDA, which also turns its
fp16 off).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from recording import StopTraining, base_parser, save_reference

COMMIT = "734ca654ec7a71dd6737d640407fac14491d538c"
QUICK_SIZES = {"NUM_ENTITY_IN = 2000": "NUM_ENTITY_IN = 50", "NUM_RELATION = 200": "NUM_RELATION = 20",
               "[18.0,12.6,9.0,7.2,5.4,3.6]": "[15.0]"}
DATASET = "composition.50.20.15.0"
BATCH = 256  # the quick scale's batch


def draw_data(src: Path, workdir: Path, seed: int) -> Path:
    """Run composition.ipynb's code cells (sizes replaced by QUICK_SIZES) in `workdir`; returns the data folder."""
    cells = [c for c in json.loads((src / "composition.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    np.random.seed(seed)
    scope: dict = {}
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        for cell in cells[:6]:
            code = "".join(cell["source"])
            for old, new in QUICK_SIZES.items():
                code = code.replace(old, new)
            exec(compile(code, "composition.ipynb", "exec"), scope)
    finally:
        os.chdir(cwd)
    return workdir / "data" / DATASET


def write_model_folder(folder: Path) -> None:
    """A GPT-2 folder for --model_name_or_path: GPT-2's config at width 64 and a one-token base vocabulary."""
    from transformers import GPT2Config, GPT2LMHeadModel

    folder.mkdir(parents=True)
    config = GPT2Config(vocab_size=1, n_embd=64, n_head=4, n_layer=2, n_inner=256)
    GPT2LMHeadModel(config).save_pretrained(folder)  # loaded, then replaced by main.py's --init_weights
    (folder / "vocab.json").write_text(json.dumps({"<|endoftext|>": 0}))
    (folder / "merges.txt").write_text("#version: 0.2\n")


def main() -> None:
    parser = base_parser(seed=0, threads=2)
    parser.add_argument("--steps", type=int, default=300)
    opts = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":
        sys.exit("run with PYTHONHASHSEED=0: the notebook lists its ID atomic facts from a set of string tuples, "
                 "whose order follows Python's per-process string hashing")
    command = " ".join(["PYTHONHASHSEED=0 record_grokked_transformer.py", *sys.argv[1:]])

    sys.path.insert(0, str(opts.src))
    import main as grokked_main  # the original main.py, unchanged
    import torch
    from simpletransformers.seq2seq import seq2seq_model

    torch.set_num_threads(opts.threads)
    workdir = Path(tempfile.mkdtemp(prefix="grokked-transformer-"))
    data_dir = draw_data(opts.src, workdir, opts.seed)
    write_model_folder(workdir / "gpt2-d64")

    model_class = seq2seq_model.Seq2SeqModel
    seen: dict = {"loss": [], "order": []}
    original_init, original_train_model = model_class.__init__, model_class.train_model
    original_forward = seq2seq_model.Seq2SeqModule.forward
    original_sampler_iter = torch.utils.data.RandomSampler.__iter__

    def init(self, *args, **kwargs):
        original_init(self, *args, **{**kwargs, "use_cuda": False})

    def train_model(self, train_data, *args, **kwargs):
        seen["init"] = {n: v.detach().clone() for n, v in self.model.state_dict().items()}
        seen["train"] = self.load_and_cache_examples(train_data, verbose=False)
        seen["tokenizer"] = self.lm_tokenizer
        return original_train_model(self, train_data, *args, **kwargs)

    def forward(self, target_ids=None, lm_labels=None):
        loss = original_forward(self, target_ids, lm_labels)
        if self.training:
            if len(seen["loss"]) == opts.steps:
                raise StopTraining
            seen["loss"].append(loss.item())
        return loss

    def sampler_iter(self):
        rows = list(original_sampler_iter(self))
        seen["order"].extend(rows)
        return iter(rows)

    model_class.__init__, model_class.train_model = init, train_model
    seq2seq_model.Seq2SeqModule.forward = forward
    torch.utils.data.RandomSampler.__iter__ = sampler_iter
    argv = [
        "--data_dir", str(data_dir), "--model_name_or_path", str(workdir / "gpt2-d64"), "--weight_decay", "0.1",
        "--output_dir", str(workdir / "out"), "--max_seq_length", "10", "--max_length", "10", "--block_size", "10",
        "--train_batch_size", str(BATCH), "--eval_batch_size", str(BATCH), "--learning_rate", "1e-3",
        "--gradient_accumulation_steps", "1", "--max_steps", str(opts.steps + 1), "--do_train",
        "--scheduler", "constant_schedule_with_warmup", "--warmup_steps", "100", "--init_weights", "--add_tokens",
        "--n_layer", "2", "--n_head", "4", "--n_inner", "256", "--no_dropout", "--evaluate_during_training",
        "--predict_during_training",
    ]
    sys.argv = ["main.py", *argv]
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        grokked_main.main()
    wall = time.perf_counter() - t0

    tokenizer = seen["tokenizer"]
    probes = json.loads((data_dir / "test.json").read_text())
    test_iid = [p["target_text"] for p in probes if p["type"] == "test_inferred_iid"]
    test_tokens = tokenizer(test_iid, max_length=10, padding="max_length", return_tensors="pt")["input_ids"]
    train = seen["train"].examples
    arrays = {
        "train_tokens": torch.stack([e["target_ids"] for e in train]).numpy().astype(np.int16),
        "train_labels": torch.stack([e["lm_labels"] for e in train]).numpy().astype(np.int16),
        "test_tokens": test_tokens.numpy().astype(np.int16),
        "step_loss": np.array(seen["loss"]),
        **{f"init/{n}": v.numpy() for n, v in seen["init"].items()
           if not n.endswith((".attn.bias", ".attn.masked_bias"))},  # GPT-2's causal-mask buffers
    }
    epoch_sizes = [BATCH] * (len(train) // BATCH) + ([len(train) % BATCH] if len(train) % BATCH else [])
    steps = len(seen["loss"])
    sizes = (epoch_sizes * (steps // len(epoch_sizes) + 1))[:steps]
    arrays["batch_sizes"] = np.array(sizes, dtype=np.int64)
    arrays["batch_rows"] = np.array(seen["order"][: sum(sizes)], dtype=np.int16)
    save_reference(opts.out, arrays, {
        "repository": "OSU-NLP-Group/GrokkedTransformer", "commit": COMMIT,
        "command": command, "main_py_argv": argv,
        "seed": opts.seed, "threads": opts.threads, "data_sizes": QUICK_SIZES,
        "vocabulary": tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))),
        "steps_run": steps, "wall_s": round(wall, 1),
        "recorded": "the training rows (target_ids: the whole fact, padded with <|endoftext|> to 10 tokens, and "
                    "lm_labels: -100 but on the answer and </a>) in the code's order, the held-out ID inferred "
                    "facts (test.json's test_inferred_iid) tokenized alike, the initial state_dict (embedding "
                    "padded to a multiple of 8 rows, tied to lm_head), the sampler's row order and the training "
                    "loss of every step",
    })


if __name__ == "__main__":
    main()
