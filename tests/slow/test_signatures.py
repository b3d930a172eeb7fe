"""Each small-model paper's quick scale shows its phenomenon, measured (not just that it ran)."""

import shutil

import pytest

from groklab import api

pytestmark = pytest.mark.slow


def test_slingshot_cycles_are_counted_and_need_the_float32_loss(quick_run, tmp_path):
    handle = quick_run("thilak2022_slingshot")
    a = handle.result.analysis
    assert a.slingshots is not None and len(a.slingshots) >= 2, a.slingshots
    assert all(c["norm_growth"] > 0 and c["peak_loss"] >= 100 * c["baseline_loss"] for c in a.slingshots)
    assert sum(c["plateau"] for c in a.slingshots) >= len(a.slingshots) - 1
    # the same run with a float64 loss has none over the steps in which this one has its first two: at this
    # scale they are float32 softmax collapse
    float64 = quick_run("thilak2022_slingshot:float64").result.analysis
    assert sum(c["spike_step"] <= float64.final["step"] for c in a.slingshots) >= 2, (a.slingshots, float64.final)
    assert float64.slingshots == []
    markdown, _ = api.report(handle.run_dir, tmp_path / "report")
    assert "slingshot caveat" in markdown.read_text()


def test_quadratic_mlp_groks_towards_the_analytic_fourier_solution(quick_run):
    result = quick_run("doshi2024_polynomials").result
    facts = result.signature
    assert result.analysis.outcome == "grokked"
    # MSE (version 2, d-doshi/Grokking's loss and init) does not sit at the constant mean prediction's loss
    # (1/97)(1 - 1/97), where the seeds' run stayed
    assert result.analysis.final["train_loss"] < 0.2 * (1 / 97) * (1 - 1 / 97)
    # the trained weights have the analytic solution's structure: a neuron's x, y and output weights share a frequency
    assert facts["final_neuron_frequency_agreement"] >= 0.9, facts
    assert facts["final_neuron_ipr"] > 2 * facts["initial_neuron_ipr"]  # neurons concentrate on few frequencies
    assert (result.run_dir / "figures" / "neurons.png").is_file()


def test_linear_estimator_grokking_time_matches_the_prediction_over_lambda(shared_sweep):
    result = shared_sweep("linear_lambda")  # task.n_train=250,340,500,1000
    assert result.agreement is not None and result.agreement["points"] == 4
    assert result.agreement["median_relative_error"] < 0.15, result.agreement
    outcomes = [r.analysis.outcome for _, r in result.points]
    assert outcomes[0] == "grokked" and outcomes[-1] == "generalized"  # the delay grows as lambda -> 1
    # the paper's own closed form (Eq. 12/13, gradient flow) gets the delay within a factor 2 at every lambda
    delays = [(r.analysis.generalization_step - r.analysis.memorization_step) / r.signature["paper_predicted_delay"]
              for _, r in result.points]
    assert all(0.5 <= d <= 2 for d in delays), delays
    assert any(f.name.endswith("-predicted.png") for f in result.figures)


def test_liu_phase_diagram_has_all_four_phases(quick_run):
    # one point in each region of the measured phase diagram (docs/presets.md), decoder (lr, weight decay):
    # grokking (1e-4, 7) is the quick scale, comprehension (1e-4, 10), memorization (3e-4, 7), confusion (3e-4, 10)
    names = ["liu2022_effective"] + [f"liu2022_effective:{phase}" for phase in ("comprehension", "memorization",
                                                                                  "confusion")]
    labels = api.get_preset("02").outcome_labels
    phases = [labels[quick_run(name).result.analysis.outcome] for name in names]
    assert phases == ["grokking", "comprehension", "memorization", "confusion"], phases


def test_omnigrok_constrained_norm_generalizes_without_the_delay(quick_run, shared_sweep):
    grokked = quick_run("liu2022_omnigrok").result.analysis
    # the constrained scale at its own norm (alpha 1) from the LU sweep, 3000 steps
    constrained = next(r for point, r in shared_sweep("omnigrok_lu").points
                       if point.value("model.init_scale") == "1").analysis
    assert grokked.outcome == "grokked"
    assert constrained.outcome == "generalized" and constrained.generalization_step < grokked.memorization_step
    assert constrained.final["test_acc"] >= grokked.final["test_acc"] - 0.01


def test_omnigrok_lu_picture_test_loss_is_u_shaped_over_the_weight_norm(shared_sweep):
    result = shared_sweep("omnigrok_lu")  # constrained scale, model.init_scale=0.25,1,8, 3000 steps
    test_loss = [r.analysis.final["test_loss"] for _, r in result.points]
    train_loss = [r.analysis.final["train_loss"] for _, r in result.points]
    assert test_loss[1] < test_loss[0] and test_loss[1] < test_loss[2]  # U
    assert train_loss[0] > 10 * train_loss[1]  # L: a small norm cannot fit the training set
    assert any(f.name.endswith("-final.png") for f in result.figures)


def test_grokking_ticket_generalizes_long_before_dense_and_controls(quick_run, tmp_path):
    # the dense run is the quick run (it generalizes near step 2800), reused as a finished run; the ticket and
    # the controls retrain for 600 steps: the ticket generalizes near step 100, the norm-matched dense (3600)
    # and the random mask (never) must not have by then
    shutil.copytree(quick_run("minegishi2023_tickets").run_dir, tmp_path / "tickets" / "dense")
    result = api.tickets("minegishi2023_tickets", density=0.4, out=tmp_path / "tickets", show_progress=False,
                         retrain_steps=600)
    steps = result.to_dict()["generalization_steps"]
    assert steps["ticket"] is not None and 2 * steps["ticket"] <= steps["dense"], steps
    assert steps["random_mask"] is None and steps["dense_matched_norm"] is None, steps


def test_humayun_adversarial_accuracy_rises_after_clean_accuracy_settles(quick_run):
    handle = quick_run("humayun2024")
    facts = handle.result.signature
    assert facts["late_adversarial_step"] is not None, facts
    assert facts["late_adversarial_step"] > 10 * facts["clean_settled_step"], facts
    assert facts["late_adversarial_gain"] >= 0.2 and facts["lc_fall"] >= 0.3, facts  # regions leave the data
    assert (handle.run_dir / "figures" / "probes.png").stat().st_size > 0


def test_humayun_local_complexity_rises_while_memorizing_then_falls(quick_run):
    # init scale 8: the last hidden layer's boundaries crowd near the training images while the network
    # memorizes (peak near step 300-1000), then migrate away as test accuracy rises late
    facts = quick_run("humayun2024:large_init").result.signature
    assert facts["lc_rise_and_fall"] and facts["lc_peak_step"] < 2000, facts


def test_wang_composition_groks_on_the_id_split_and_ood_stays_near_chance(quick_run):
    handle = quick_run("wang2024_grokked_kg")
    a, facts = handle.result.analysis, handle.result.signature
    assert a.outcome == "grokked" and a.delay_ratio >= 2, a.to_dict()
    assert facts["final_acc_test_inferred_ood"] < 0.1 and facts["ood_generalizes"] is False, facts


def test_nanda_progress_measures_show_the_three_phases(quick_run):
    handle = quick_run("nanda2023")
    facts = handle.result.signature
    assert 1 <= len(facts["key_freqs"]) <= 6, facts["key_freqs"]  # a few key frequencies, as in the paper
    assert facts["restricted_falls_first"] and facts["excluded_rises_in_formation"] and facts["weight_falls_in_cleanup"]
    start, end = facts["cleanup_phase"]
    assert facts["circuit_formation_phase"] == [handle.result.analysis.memorization_step, start] and start < end
    assert (handle.run_dir / "figures" / "probes.png").is_file()


def test_grokfast_ema_reaches_the_threshold_within_a_few_times_the_papers_step(quick_run):
    a = quick_run("lee2024_grokfast").result.analysis
    assert a.generalization_step is not None and a.generalization_step <= 3 * 910  # the baseline needs 39,890


def test_prieto_softmax_collapses_stablemax_does_not_and_orthogonal_adamw_has_no_delay(quick_run):
    softmax = quick_run("prieto2025_stablemax").result
    assert softmax.analysis.final["test_acc"] < 0.02  # memorized, test at chance
    assert softmax.signature["max_sc_frac"] >= 0.25  # a share of the training samples has collapsed
    stablemax = quick_run("prieto2025_stablemax:stablemax").result  # the same 2000 steps with StableMax
    assert stablemax.signature["max_sc_frac"] == 0 and stablemax.signature["final_zero_grad_frac"] == 0
    orthogonal = quick_run("prieto2025_stablemax:orthogonal").result.analysis
    assert orthogonal.outcome == "generalized" and orthogonal.generalization_step <= 300
