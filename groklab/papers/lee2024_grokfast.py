"""Lee, Kang, Kim, Lee 2024: Grokfast, accelerated grokking by amplifying slow gradients."""

from groklab.claims import Arm, Claim, Ratio, StepsTo, at_least, within
from groklab.presets import Preset, ReportedOutcome, Study, merged

# Canonical: ironjr/grokfast main.py (README's algorithmic runs): x*y mod 97 at 50% training data, a 2-layer
# decoder (width 128, 4 heads, GELU MLP 4x, biases, learned positions, final LayerNorm) whose blocks add the
# attention output to the normalized input (x <- ln1(x) + attn(ln1(x)), as main.py's Block), Adam with
# weight decay as coupled L2, lr 1e-3, betas (0.9, 0.98), 10-step warmup, batch 512, 3e5-step budget, seed 0;
# the EMA filter with the README's alpha 0.98, lambda 2, weight decay 0.005. Version 3 also takes main.py's
# data and loop: y in 1..p-1, logits over all 99 tokens, LambdaLR warmup from 0, each epoch's last batch kept
# (tests/test_fidelity.py replays main.py's recorded run step by step).
ADAM = {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.98], "eps": 1e-8, "weight_decay": 0.0, "warmup_steps": 10,
        "warmup_start": 0.0}
CANONICAL = {
    "seed": 0,
    "task": {"name": "modular", "operation": "x*y", "p": 97, "train_frac": 0.5, "format": "x_op_y_eq",
             "nonzero_y": True, "outputs": "vocabulary"},
    "model": {
        "name": "transformer", "n_layers": 2, "d_model": 128, "n_heads": 4, "d_mlp": 512, "activation": "gelu",
        "norm": "pre_normalized_residual", "final_norm": True, "positions": "learned", "attn_bias": True,
        "mlp_bias": True,
        "init": "pytorch",
    },
    "optim": {**ADAM, "weight_decay": 0.005, "grad_filter": "ema"},  # alpha 0.98, lambda 2: the defaults
    "train": {"steps": 300_000, "batch_size": 512, "drop_last": False, "checkpoint_every": 5000,
              "stop_at_test_acc": 0.95},
    "eval": {"every": 100, "log_points": 60},
}

# The README's other two rows: the MA filter (window 100, lambda 5, weight decay 0.01) and the baseline
# (no filter, no weight decay), which needs 39,890 steps to 95%.
CANONICAL_MA = {**CANONICAL, "optim": {**ADAM, "weight_decay": 0.01, "grad_filter": "ma"}}  # window 100, lambda 5
CANONICAL_BASELINE = {**CANONICAL, "optim": ADAM}

# Quick: the canonical data, model and EMA filter with a 3000-step budget, stopping at 95% test accuracy.
# Measured (seed 0, one thread, preset version 3): with EMA, training accuracy reaches 99% at step 1200 and test
# accuracy 95% at 1320, too close behind to count as grokking (delay 1.1x < 2): the filter removes the wait
# (version 2: 750 and 1250); at version 2
# the unfiltered baseline (wd 0) memorizes by step 300 and stays at 24-47% test accuracy through step 3000.
# With standard pre-LN blocks instead (version 1), the baseline itself reached 86% by step 713 and the filter
# did not help: the block form matters.
QUICK = merged(CANONICAL, {"train": {"steps": 3000, "checkpoint_every": 500},
                           "eval": {"every": 50, "log_points": 40, "probes": ["representation"]}})
QUICK_BASELINE = {**QUICK, "optim": ADAM}

# Claims of Table 3 (the README's table: one run each on x*y mod 97, 50%, batch 512, Adam with L2 weight decay,
# iterations to 95% validation accuracy). A step count a table states exactly is held within 2x; a speed-up
# factor, the ratio of two such counts, within 3x.
EMA, MA, BASELINE = Arm("canonical"), Arm("canonical_ma"), Arm("canonical_baseline")
TO_95 = {name: StepsTo(name, 0.95) for name in ("ema", "ma", "baseline", "tuned_baseline")}
CLAIMS = (
    Claim(
        key="ema_steps_to_95",
        statement="Grokfast-EMA (alpha 0.98, lambda 2, weight decay 0.005) reaches 95% validation accuracy in 910 "
        "iterations",
        source="Table 3; README",
        paper="910 iterations",
        measure=TO_95["ema"],
        bound=within(910, 2.0),
        arms={"ema": EMA},
    ),
    Claim(
        key="ema_speedup",
        statement="Grokfast-EMA reaches 95% validation accuracy 43.8x sooner than the baseline (39,890 iterations)",
        source="Table 3; README",
        paper="x43.8 (39,890 / 910)",
        measure=Ratio(TO_95["baseline"], TO_95["ema"]),
        bound=within(43.8, 3.0),
        arms={"ema": EMA, "baseline": BASELINE},
    ),
    Claim(
        key="ma_speedup",
        statement="Grokfast-MA (window 100, lambda 5, weight decay 0.01) accelerates grokking more than 50x",
        source="abstract; Table 3 (x50.49: 39,890 / 790)",
        paper="x50.5 (39,890 / 790)",
        measure=Ratio(TO_95["baseline"], TO_95["ma"]),
        bound=within(50.5, 3.0),
        arms={"ma": MA, "baseline": BASELINE},
    ),
    Claim(
        key="ema_speedup_over_a_tuned_baseline",
        statement="the acceleration survives a baseline whose learning rate is tuned (4x: 4e-3), as users of the "
        "code asked (ironjr/grokfast#12)",
        source="not in the paper: its x43.8 is against an untuned baseline",
        paper="x43.8 against the untuned baseline",
        measure=Ratio(TO_95["tuned_baseline"], TO_95["ema"]),
        bound=at_least(43.8 / 3.0),
        arms={"ema": EMA, "tuned_baseline": Arm("canonical_baseline", ("optim.lr=4e-3",))},
        note="the bound is the paper's factor read as the ema_speedup row reads it (its lower end)",
    ),
)

# The quick scale (the canonical data, model and EMA filter, 3000 steps) shows Grokfast-EMA's step count; the
# speed-ups need the baselines' 40,000 steps (the scorecard's runs).
QUICK_CLAIMS = (CLAIMS[0].on({"ema": Arm("quick")}, "read on the quick run (3000 steps, stopping at 95%)"),)

PRESET = Preset(
    id="lee2024_grokfast",
    alias="11",
    title="Grokfast: accelerated grokking by amplifying slow gradients",
    citation="Lee, Kang, Kim, Lee. arXiv:2405.20233 (2024)",
    url="https://github.com/ironjr/grokfast",
    # 2: learned position table drawn N(0, 1) as an nn.Embedding (was N(0, 1/d_model)); 3: main.py's data and loop
    # (y = 0 left out, 99 outputs, warmup from 0, last batch kept), checked against its recorded run
    version=3,
    quick_seconds=64,  # training the quick scale, two runs side by side (make demo), 2026-11-30
    quick_outcome="generalized",
    scales={"canonical": CANONICAL, "canonical_ma": CANONICAL_MA, "canonical_baseline": CANONICAL_BASELINE,
            "quick": QUICK, "quick_baseline": QUICK_BASELINE},
    claims=CLAIMS,
    quick_claims=QUICK_CLAIMS,
    reported=ReportedOutcome(
        outcome="grokked",
        summary="x*y mod 97: the unfiltered baseline reaches 95% validation accuracy at 39,890 steps; Grokfast-EMA "
        "(alpha 0.98, lambda 2, wd 0.005) at 910 and Grokfast-MA (window 100, lambda 5, wd 0.01) at 790, about "
        "50x fewer (README table, GTX 1080 Ti)",
        generalization_step=910,
        step_factor=3.0,
    ),
    studies={
        "filter": Study(
            scale="quick", grid={"optim.grad_filter": ["none", "ema", "ma"]},
            question="Does amplifying slow gradients shorten the wait for generalization, at one weight decay?",
            fixed=["optim.weight_decay=0.005"],
        ),
    },
    notes=(
        "Code vs README vs paper: the filters follow grokfast.py (EMA: h starts at the first gradient, "
        "h <- alpha h + (1-alpha) g, g <- g + lambda h; MA: once 100 gradients are stored, g <- g + lambda x "
        "their mean). main.py's defaults (alpha 0.99, lambda 5) differ from the README's EMA row (0.98, 2); we "
        "take the README's rows, which are the reported numbers. The optimizer is torch Adam, so weight decay "
        "is coupled L2 as in main.py (not AdamW). The blocks follow main.py's Block, which adds the attention "
        "output to the normalized input (model.norm=pre_normalized_residual): with standard pre-LN blocks our "
        "unfiltered baseline generalizes by step ~1000 and the filter shows no gain. Since version 3 the data and "
        "loop are main.py's too (y in 1..p-1, 9312 equations; logits over all 99 tokens; LambdaLR warmup from 0; "
        "each epoch's last batch of 48 kept), and main.py's own run of the README's EMA command, recorded and "
        "replayed from its split and weights, agrees step by step (docs/fidelity.md); it reaches 95% at step "
        "910, the README's number. The only difference left: main.py's position table has a fifth row that no "
        "input uses. The README's MNIST command does not pass --filter and so runs no filter (issue #16): "
        "groklab refuses a grad_filter_alpha/lambda without optim.grad_filter. The filter study runs all three "
        "arms at weight decay 0.005 (the paper's baseline used 0), so it isolates the filter."
    ),
)
