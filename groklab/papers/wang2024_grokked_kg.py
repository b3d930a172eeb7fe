"""Wang, Yue, Su, Sun 2024: grokked transformers are implicit reasoners (knowledge-graph composition and
comparison)."""

from groklab.claims import YES, Arm, Claim, Fact, Final, Outcome, at_most
from groklab.presets import Preset, ReportedOutcome, Study, merged

# Canonical: OSU-NLP-Group/GrokkedTransformer (read at the source per REFERENCE.md). Data: composition.ipynb
# (2000 entities, 200 relations, out-degree 20, 5% OOD atomic facts, 0.5% of ID inferred facts held out, phi 18)
# and comparison.ipynb (1000 entities, 20 attributes, values 0..19, 10% OOD entities per attribute, 10% of ID
# queries held out). Model: GPT-2 freshly initialized with 8 layers (the paper's main setting), d 768, 12 heads,
# MLP 3072, GPT-2's tanh-approximated GELU (gelu_new), pre-LayerNorm and a final LayerNorm, learned positions.
# Training (README command and the bundled simpletransformers): AdamW lr 1e-4, betas (0.9, 0.999), eps 1e-8,
# weight decay 0.1 on matrices only (its no_decay list exempts biases and LayerNorm gains), gradient norm
# clipped at 1, 2000 linear warmup steps from 0 (the first step at lr 0) then constant, batch 512, 1.5M steps.
# Loss on the answer token only.
# Dropout 0.1 on the embeddings, attention probabilities and residual branches (version 3): the README's
# command (checked at 734ca65) keeps GPT-2's attn/embd/resid_pdrop of 0.1, since seq2seq_model.py zeroes them
# only under main.py's --no_dropout, which the command does not pass.
# Replayed against the code at the quick scale's sizes (tests/reference/wang2024_grokked_kg, docs/fidelity.md):
# same split, initial weights and batches give the same 300 losses to 4e-7 once the output layer is tied to the
# embedding and </a> is scored too. That replay found the choices version 4 adopts: gelu_tanh (exact GELU
# strays 7x further over 300 steps), no decay on biases and LayerNorm gains (1.7e-3 apart by step 300) and
# Hugging Face's warmup from lr 0.
# Deviations: PyTorch's default initialization, N(0, 1) token and position tables (GPT-2 draws both from
# N(0, 0.02); version 1 drew positions from N(0, 1/d)), fp32 instead of fp16, the answer read from
# a separate classifier over the vocabulary at the last non-pad position (GPT-2 ties it to the embedding), and
# the `</a>` end token is not predicted (it is always the same token).
GPT2_8L = {"name": "transformer", "n_layers": 8, "d_model": 768, "n_heads": 12, "d_mlp": 3072,
           "activation": "gelu_tanh", "norm": "pre", "final_norm": True, "positions": "learned",
           "attn_bias": True, "mlp_bias": True, "dropout": 0.1}
CANONICAL = {
    "seed": 42,
    "task": {"name": "knowledge_graph", "kind": "composition"},
    "model": GPT2_8L,
    "optim": {"name": "adamw", "lr": 1e-4, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1,
              "weight_decay_vectors": False, "warmup_steps": 2000, "warmup_start": 0, "grad_clip": 1.0},
    "train": {"steps": 1_500_000, "batch_size": 512, "checkpoint_every": 50_000},
    "eval": {"every": 20_000, "log_points": 60},
    "analysis": {"memorization_threshold": 0.99, "generalization_threshold": 0.9, "min_delay_ratio": 2.0},
}
COMPARISON = merged(CANONICAL, {"task": {"kind": "comparison"}})

# Quick: a knowledge base of 50 entities, 20 relations, out-degree 20 (1000 atomic facts), phi 15 (14250
# inferred training facts), 5% of ID inferred facts held out; 2-layer d64 transformer; AdamW lr 1e-3 (10x the
# paper's), weight decay 0.1, batch 256. Why it keeps the phenomenon: phi, the quantity the paper finds to
# set the speed of grokking, stays near the paper's largest values, and composition needs at least two
# layers. Measured, seed 0, version 4: train accuracy passes 97% at step 4000 and then hovers at 98-99%
# (minibatch noise at lr 1e-3, hence a memorization threshold of 97%); test-ID accuracy is 27% at step 4000 and
# rises late to 91% at step 13000 (grokked, delay 3.2x). Version 3 (exact GELU, decay on every parameter): 16%
# at step 4000, 88% at 15000; version 2: test-ID 90% at 11000. OOD inferred accuracy stays at 0-10%.
# A smaller knowledge base (100 entities,
# out-degree 10, phi 7.2) had not grokked after 9500 steps; weight decay 0.3 made test accuracy follow train
# accuracy (no delay) and 1.0 prevented memorization. The quick run stops once test-ID accuracy reaches 90%
# (train.stop_at_test_acc, time to grok); raise or drop it to watch what follows. Tried as cheaper quick scales
# (version 4, seed 0, 2026-12-07), each shrinking the delay below the 2x that grokking needs: weight decay 0.3
# (train 97% at step 4000, test-ID 91% at 6000: generalized), lr 2e-3 (train 95% at 2000, test-ID 73% at
# 3000 and rising), batch 128 (train 97% at 8000, test-ID 72% at 9000 and rising).
# Phi study, measured with version 3 (seed 0, 18k steps): final test-ID accuracy 5.8% at phi 5.4, 11.2% at
# phi 10.8 and 23.9% at phi 12.6 (all still memorizing), 94% at step 17000 at phi 15: the order of the
# paper, but only phi 15 groks in this budget. With weight decay 0.2 everything is about twice as fast (phi 15:
# 90.8% at step 9000; phi 10.8: 32% at 18000) but the delay after memorization shrinks to about 2x, so the quick
# scale keeps 0.1. Phi 18 is not feasible at out-degree 20 with 5% of ID inferred facts held out (at most about 18.1).
# No dropout at this scale: with the command's 0.1 the small model generalizes without a delay (measured, seed
# 0: train 97% at step 7000, test-ID 95% at 8000, outcome generalized), a regularizer strong enough here to
# remove the phenomenon the quick scale exists to show.
QUICK = merged(CANONICAL, {
    "seed": 0,
    "task": {"n_entities": 50, "n_relations": 20, "out_degree": 20, "phi": 15.0, "test_frac": 0.05},
    "model": {"n_layers": 2, "d_model": 64, "n_heads": 4, "d_mlp": 256, "dropout": 0.0},
    "optim": {"lr": 1e-3, "warmup_steps": 100},
    "train": {"steps": 18_000, "batch_size": 256, "checkpoint_every": 2000, "stop_at_test_acc": 0.9},
    "eval": {"every": 1000, "log_points": 10, "probes": ["representation"]},
    "analysis": {"memorization_threshold": 0.97},
})
# Comparison quick: 100 entities, 5 attributes with values 0..19, phi 7.2, the quick model and optimizer.
# Measured, seed 0: train accuracy 100% by step 1000; test-ID accuracy 79% at step 1000 creeping to 85% at
# 10000; OOD 38-43%, below the 47.5% of always answering "below" (ties are 1 in 20): no grokking and no OOD
# generalization at this budget. Also tried (8000 steps): phi 12.6 (test-ID 89%, OOD 40%), phi 18 (test-ID 90%
# at step 1000, together with training accuracy: the comparisons alone order the entities), weight decay 0.3
# (85%, OOD 45%), 4 layers (84%, OOD 40% at 4000). The paper's OOD comparison result needs its scale.
COMPARISON_QUICK = merged(QUICK, {"task": {"kind": "comparison", "n_entities": 100, "n_attributes": 5,
                                           "n_values": 20, "phi": 7.2, "test_frac": 0.1},
                                  "train": {"steps": 6000}})

# Claims of the abstract (composition fails to generalize out of distribution, comparison succeeds); its step
# counts were not read. The canonical (2000 entities, 1.5M steps) needs a GPU.
CLAIMS = (
    Claim(
        key="composition_groks_in_distribution",
        statement="on two-hop composition the transformer generalizes to in-distribution inferred facts, long after "
        "fitting the training set: it groks",
        source="abstract; Sec. 3",
        paper="grokking (test-ID accuracy near 100%)",
        measure=Outcome("composition", "grokked"),
        bound=YES,
        arms={"composition": Arm("canonical")},
    ),
    Claim(
        key="composition_fails_out_of_distribution",
        statement="out-of-distribution composition stays near chance",
        source="abstract ('fail to systematically generalize for composition'); Sec. 3",
        paper="near 0%",
        measure=Final("composition", "acc_test_inferred_ood"),
        bound=at_most(0.1),
        arms={"composition": Arm("canonical")},
    ),
    Claim(
        key="comparison_generalizes_out_of_distribution",
        statement="on comparison the transformer generalizes out of distribution too",
        source="abstract ('succeed for comparison'); Sec. 4",
        paper="OOD accuracy high",
        measure=Fact("comparison", "ood_generalizes"),
        bound=YES,
        arms={"comparison": Arm("comparison")},
    ),
)

# The quick scale (a smaller graph) shows composition grokking in distribution and failing out of distribution.
QUICK_CLAIMS = tuple(c.on({"composition": Arm("quick")}, "read on the quick run (a smaller graph)")
                     for c in CLAIMS[:2])

PRESET = Preset(
    id="wang2024_grokked_kg",
    alias="04",
    title="Grokked transformers are implicit reasoners: composition and comparison",
    citation="Wang, Yue, Su, Sun. NeurIPS 2024. arXiv:2405.15071",
    url="https://github.com/OSU-NLP-Group/GrokkedTransformer",
    # 2: learned position table drawn N(0, 1) as an nn.Embedding (was N(0, 1/d_model)); 3: canonical dropout 0.1;
    # 4: GPT-2's gelu_new, no weight decay on biases and LayerNorm gains, warmup from lr 0 (found by the replay)
    version=4,
    quick_seconds=170,  # training the quick scale, two runs side by side (make demo), 2026-11-30
    scales={"canonical": CANONICAL, "quick": QUICK, "comparison": COMPARISON, "comparison_quick": COMPARISON_QUICK},
    claims=CLAIMS,
    quick_claims=QUICK_CLAIMS,
    reported=ReportedOutcome(
        outcome="grokked",
        summary="test-inferred-ID accuracy of two-hop composition and of comparison reaches ~100% long after "
        "training accuracy saturates; a larger inferred/atomic ratio phi groks faster; OOD composition stays "
        "near chance while OOD comparison generalizes",
    ),
    studies={
        "phi": Study(
            scale="quick",
            grid={"task.phi": [5.4, 10.8, 15.0]},
            question="does a larger ratio of inferred to atomic facts (phi) make test-ID accuracy grok sooner?",
        ),
        "comparison": Study(
            scale="comparison_quick",
            grid={"task.phi": [3.6, 7.2]},
            question="comparison: does test-ID accuracy grok, and does OOD comparison generalize?",
        ),
    },
    notes=(
        "test = test_inferred_id; the other splits are recorded as acc_<split> (id_atomic, ood_atomic, "
        "train_inferred, test_inferred_ood). The signature line states the final OOD accuracy against chance."
    ),
)
