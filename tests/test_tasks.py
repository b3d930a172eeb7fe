import pytest
import torch

from groklab.config.task import ModularTaskCfg
from groklab.tasks import build_task
from groklab.tasks.modular import OPERATIONS, equations

P = 13


def reference(op: str, x: int, y: int, p: int) -> int:
    """Plain-integer definitions of Power et al.'s operations."""
    inv = pow(y, -1, p) if y % p else None
    table = {
        "x+y": x + y, "x-y": x - y, "x*y": x * y, "x/y": x * inv if inv else None,
        "x^2+y": x**2 + y, "x^3+y": x**3 + y, "x^2+y^2": x**2 + y**2, "x^2+xy+y^2": x**2 + x * y + y**2,
        "x^2+xy+y^2+x": x**2 + x * y + y**2 + x, "x^3+xy": x**3 + x * y, "x^3+xy^2+y": x**3 + x * y**2 + y,
        "mix_div_sub": (x * inv if y % 2 == 1 else x - y) if (y % 2 == 0 or inv) else None,
        "mix_add_mul": x + y if x % 2 == 0 else x * y, "mix_add_sub": x + y if x % 2 == 0 else x - y,
    }
    return table[op] % p


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_operations_match_integer_definitions(op):
    operands, c = equations(ModularTaskCfg(operation=op, p=P))
    x, y = operands.T
    for xi, yi, ci in zip(x.tolist(), y.tolist(), c.tolist(), strict=True):
        assert ci == reference(op, xi, yi, P)


def test_division_skips_zero_divisor():
    operands, _ = equations(ModularTaskCfg(operation="x/y", p=P))
    x, y = operands.T
    assert len(x) == P * (P - 1) and (y > 0).all()


def test_split_is_seeded_disjoint_and_complete():
    cfg = ModularTaskCfg(p=P, train_frac=0.3, format="x_y_eq")
    a, b, c = build_task(cfg, 0), build_task(cfg, 0), build_task(cfg, 1)
    assert torch.equal(a.train_x, b.train_x) and not torch.equal(a.train_x, c.train_x)
    assert len(a.train_y) == int(0.3 * P * P) and len(a.train_y) + len(a.test_y) == P * P
    rows = {tuple(r) for r in torch.cat([a.train_x, a.test_x]).tolist()}
    assert len(rows) == P * P


def test_token_formats():
    power = build_task(ModularTaskCfg(p=P, format="x_op_y_eq"), 0)
    nanda = build_task(ModularTaskCfg(p=P, format="x_y_eq"), 0)
    assert power.seq_len == 4 and power.vocab_size == P + 2 and (power.train_x[:, 1] == P).all()
    assert (power.train_x[:, 3] == P + 1).all()
    assert nanda.seq_len == 3 and nanda.vocab_size == P + 1 and (nanda.train_x[:, 2] == P).all()
    assert power.n_classes == nanda.n_classes == P


def test_multi_term_addition_covers_all_tuples():
    cfg = ModularTaskCfg(p=7, n_terms=3, train_frac=0.5, format="x_y")
    operands, c = equations(cfg)
    assert operands.shape == (343, 3) and torch.equal(c, operands.sum(1) % 7)
    data = build_task(cfg, 0)
    assert data.train_x.shape[1] == 3 and data.vocab_size == 7


def test_operand_formats_and_their_vocabularies():
    for fmt, length, vocab in (("x_op_y_eq", 4, P + 2), ("x_y_eq", 3, P + 1), ("x_y", 2, P)):
        data = build_task(ModularTaskCfg(p=P, format=fmt), 0)
        assert data.train_x.shape[1] == length and data.vocab_size == vocab and data.train_x.max() < vocab


def test_pair_sum_has_unordered_pairs_and_sum_classes():
    from groklab.config.task import PairSumTaskCfg

    data = build_task(PairSumTaskCfg(p=10, n_train=45), 0)
    x = torch.cat([data.train_x, data.test_x])
    assert len(x) == 55 and (x[:, 0] <= x[:, 1]).all() and len({tuple(r) for r in x.tolist()}) == 55
    assert torch.equal(data.train_y, data.train_x.sum(1)) and data.n_classes == 19


def test_linear_teacher_targets_are_one_linear_map_of_gaussian_inputs():
    from groklab.config.task import LinearTeacherTaskCfg

    data = build_task(LinearTeacherTaskCfg(d_in=20, d_out=3, n_train=100, n_test=50), 0)
    teacher = torch.linalg.lstsq(data.train_x, data.train_y).solution
    assert torch.allclose(data.test_x @ teacher, data.test_y, atol=1e-4)
    assert data.train_x.std().item() == pytest.approx(1.0, abs=0.1)


def test_nonzero_y_leaves_out_every_equation_with_y_zero():
    cfg = ModularTaskCfg(operation="x*y", p=7, nonzero_y=True)
    operands, answers = equations(cfg)
    assert len(operands) == cfg.n_examples == 7 * 6 and (operands[:, 1] > 0).all()
    assert torch.equal(answers, operands[:, 0] * operands[:, 1] % 7)
