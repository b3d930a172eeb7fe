"""Thilak, Littwin, Zhai, Saremi, Paiss, Susskind 2022: the Slingshot mechanism."""

from groklab.claims import Arm, Claim, Ratio, Slingshots, at_least, at_most
from groklab.papers.power2022 import CANONICAL as POWER
from groklab.presets import Preset, ReportedOutcome, Study, merged

# No public code exists. Canonical follows the paper's description (REFERENCE.md, unconfirmed details):
# the Power et al. setup (x/y mod 97, 50%, 2-layer width-128 transformer) trained by Adam *without*
# weight decay, lr 1e-3, betas (0.9, 0.98), eps 1e-8, for 10^5 steps, logging the last layer's norm.
# The model and loop are power2022's canonical (version 3: danielmamay/grokking's current main, which shares
# openai/grok's ReLU, bias-free blocks without a final LayerNorm).
CANONICAL = merged(POWER, {
    "optim": {"name": "adam", "weight_decay": 0.0, "eps": 1e-8},
    "eval": {"every": 20, "log_points": 60, "probes": ["last_layer_norm"]},
})

# Quick: a 1-layer width-64 transformer (Nanda's layout) on x+y mod 53 with 40% training data, full batch,
# float32 loss. Measured on 2 cores: the training loss reaches ~1e-7 by step 1200, then spikes about every
# 1200 steps (four cycles by step 6000) while the last-layer norm grows before each spike and stays flat
# after it; test accuracy stays near 10% without weight decay at this budget.
QUICK = {
    "seed": 0,
    "task": {"name": "modular", "operation": "x+y", "p": 53, "train_frac": 0.4, "format": "x_y_eq"},
    "model": {"name": "transformer", "n_layers": 1, "d_model": 64, "n_heads": 4, "d_mlp": 256, "activation": "relu",
              "norm": "none", "positions": "learned", "mlp_bias": True, "init": "nanda"},
    "optim": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.98], "eps": 1e-8, "weight_decay": 0.0,
              "warmup_steps": 10},
    "train": {"steps": 6000, "batch_size": None, "checkpoint_every": 1000},
    "eval": {"every": 20, "log_points": 20, "probes": ["last_layer_norm", "representation"]},
}

# Claims of Fig. 2 (Adam without weight decay on division mod p, 10^5-10^6 steps) and Fig. 4 (epsilon 1e-8, 1e-7,
# 1e-5 on division): read in the NeurIPS 2022 submission; p and the training fraction are in its appendix (not
# read), so the canonical keeps Power et al.'s x/y mod 97 at 50%.
CLAIMS = (
    Claim(
        key="slingshot_cycles_without_weight_decay",
        statement="Adam without weight decay trains in Slingshot cycles: the last-layer norm grows fast, the "
        "training loss spikes, the norm plateaus, again and again",
        source="Fig. 2; Sec. 3.1",
        paper="repeated cycles over 10^5 steps",
        measure=Slingshots("adam"),
        bound=at_least(2),
        arms={"adam": Arm("canonical")},
    ),
    Claim(
        key="grokking_at_a_slingshot_onset",
        statement="grokking (the rise of validation accuracy) happens at the onset of a Slingshot cycle and is absent "
        "without one",
        source="abstract; Sec. 1, observations 4-5; Fig. 2",
        paper="validation accuracy rises after 10^5 steps, at a cycle",
        measure=Slingshots("adam", at_test_jump=True),
        bound=at_least(1),
        arms={"adam": Arm("canonical")},
        note="a cycle counts when a test-accuracy transition overlaps it (groklab.analysis.slingshot)",
    ),
    Claim(
        key="larger_epsilon_fewer_cycles",
        statement="a larger Adam epsilon gives fewer Slingshot cycles (epsilon 1e-5: no generalization within 500K "
        "updates)",
        source="Sec. 3.1 'Varying epsilon', Fig. 4",
        paper="fewer cycles at 1e-5 than at 1e-8",
        measure=Ratio(Slingshots("epsilon_1e-5"), Slingshots("adam")),
        bound=at_most(0.99),
        arms={"adam": Arm("canonical"), "epsilon_1e-5": Arm("canonical", ("optim.eps=1e-5",))},
        note="over the canonical's 10^5 steps, not the figure's 500K updates",
    ),
)

PRESET = Preset(
    id="thilak2022_slingshot",
    alias="07",
    title="The Slingshot mechanism: an empirical study of adaptive optimizers and the grokking phenomenon",
    citation="Thilak, Littwin, Zhai, Saremi, Paiss, Susskind. NeurIPS 2022 HITY workshop. arXiv:2206.04817",
    url="https://arxiv.org/abs/2206.04817",
    version=3,  # 2: position table N(0, 1), as power2022 version 2; 3: power2022 version 3's canonical model
    quick_seconds=54,  # training the quick scale, two runs side by side (make demo), 2026-11-30
    scales={"canonical": CANONICAL, "quick": QUICK},
    claims=CLAIMS,
    quick_shows=("the quick scale's cycles are float32 rounding (its float64 control has none), so it shows none of "
                "the paper's claims; they need the canonical 10^5 steps (the scorecard's runs)"),
    reported=ReportedOutcome(
        outcome="grokked",
        summary="without weight decay, Adam's last-layer norm grows in cycles (norm growth, train-loss spike, "
        "plateau); grokking happens at the onset of a Slingshot; a larger Adam epsilon removes the cycles",
    ),
    quick_outcome="memorizing",
    studies={
        "epsilon": Study(scale="quick", grid={"optim.eps": ["1e-8", "1e-6", "1e-4"]},
                         question="how Adam's epsilon changes the Slingshot cycles"),
    },
    notes=(
        "The quick scale shows the cycles, not the late grokking: at 6000 steps without weight decay test "
        "accuracy has not risen (the paper needs order 10^5 steps). Its outcome is therefore 'memorizing' and "
        "its signature is the count of Slingshot cycles (analysis.slingshots). Which phenomenon those cycles are: "
        "they start from a training loss near 1e-8, below float32's resolution of a softmax, and the same 6000 "
        "steps with train.loss_dtype=float64 have none (measured, seed 0: 4 cycles in float32, peaks 7e-4 to "
        "0.10; in float64 the loss falls smoothly to 1.6e-10 with no spike above 5e-9 after step 1500). At this "
        "scale they are float32 softmax collapse (Prieto et al. 2025), which a float32 run of the paper's would "
        "share; whether the paper's own Slingshots are the same mechanism is not settled here. The paper's "
        "exact epsilon values were not retrieved; the sweep uses 1e-8 (default), 1e-6 and 1e-4."
    ),
)
