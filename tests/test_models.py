import math

import pytest
import torch

from groklab.config.schema import MLPCfg, ModularTaskCfg, TransformerCfg
from groklab.models import build_model
from groklab.tasks import build_task

DATA = build_task(ModularTaskCfg(p=11, format="x_op_y_eq"), 0)


def full_sequence_logits(model, tokens):
    """Reference forward pass computing every position in every layer, then reading the last."""
    x = model.embed(tokens) + model.pos
    for block in model.blocks:
        x = block(x, last_only=False)
    return model.unembed(model.final_norm(x))[:, -1]


@pytest.mark.parametrize("norm", ["pre", "post", "none", "pre_normalized_residual"])
@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_last_position_shortcut_equals_full_computation(norm, positions):
    torch.manual_seed(0)
    model = build_model(TransformerCfg(n_layers=2, d_model=32, n_heads=4, d_mlp=64, norm=norm, positions=positions,
                                       attn_bias=True, mlp_bias=True), DATA)
    x = DATA.train_x[:50]  # 50 samples > 13 tokens: the first block projects the token table
    assert model.embed.num_embeddings < len(x)
    reference = full_sequence_logits(model, x)
    torch.testing.assert_close(model(x), reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model(x[:5]), reference[:5], rtol=1e-5, atol=1e-5)  # fewer samples: no table


def test_attention_is_causal():
    torch.manual_seed(0)
    model = build_model(TransformerCfg(n_layers=2, d_model=32, n_heads=2, d_mlp=64, norm="none"), DATA)
    x = DATA.train_x[:4].clone()
    y = x.clone()
    y[:, -1] = 0  # change only the last token
    first = model.blocks[0]
    h_x, h_y = (first(model.embed(t) + model.pos, last_only=False) for t in (x, y))
    torch.testing.assert_close(h_x[:, :-1], h_y[:, :-1])  # earlier positions cannot see the change


def test_nanda_init_scales():
    torch.manual_seed(0)
    model = build_model(TransformerCfg(d_model=128, d_mlp=512, n_layers=1, norm="none", mlp_bias=True, init="nanda"),
                        build_task(ModularTaskCfg(p=113, format="x_y_eq", train_frac=0.3), 0))
    assert abs(model.embed.weight.std().item() - 1 / math.sqrt(128)) < 0.005
    assert abs(model.unembed.weight.std().item() - 1 / math.sqrt(114)) < 0.01
    assert model.blocks[0].mlp[0].bias.abs().max().item() == 0


def test_mlp_one_hot_input_and_init_scale():
    torch.manual_seed(0)
    small = build_model(MLPCfg(width=16, depth=3, activation="quadratic", bias=False), DATA)
    torch.manual_seed(0)
    large = build_model(MLPCfg(width=16, depth=3, activation="quadratic", bias=False, init_scale=8.0), DATA)
    assert small.net[0].in_features == DATA.seq_len * DATA.vocab_size
    assert sum(isinstance(m, torch.nn.Linear) for m in small.net) == 3
    torch.testing.assert_close(large.net[0].weight, 8 * small.net[0].weight)
    assert small(DATA.train_x[:5]).shape == (5, DATA.n_classes)


@pytest.mark.parametrize("bias", [True, False])
def test_mlp_on_tokens_equals_the_dense_product_with_concatenated_one_hots(bias):
    model = build_model(MLPCfg(width=16, depth=3, bias=bias), DATA)
    one_hots = torch.nn.functional.one_hot(DATA.train_x[:20], DATA.vocab_size).flatten(1).float()
    torch.testing.assert_close(model(DATA.train_x[:20]), model.net(one_hots))
