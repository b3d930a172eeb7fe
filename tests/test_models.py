import math

import pytest
import torch

from groklab.config.model import MLPCfg, TransformerCfg
from groklab.config.task import ModularTaskCfg
from groklab.models import build_model
from groklab.models.transformer import leading_single_token
from groklab.tasks import build_task

DATA = build_task(ModularTaskCfg(p=11, format="x_op_y_eq"), 0)


def every_position(model, tokens):
    """Reference forward pass: every block computing every position, [B, T, D]."""
    x = model.embed(tokens) + model.pos
    for block in model.blocks:
        x = block(x)
    return x


def full_sequence_logits(model, tokens):
    """The reference forward pass's logits at the last position."""
    return model.unembed(model.final_norm(every_position(model, tokens)))[:, -1]


@pytest.mark.parametrize("norm", ["pre", "post", "none", "pre_normalized_residual"])
@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_last_position_shortcut_equals_full_computation(norm, positions):
    torch.manual_seed(0)
    model = build_model(TransformerCfg(n_layers=2, d_model=32, n_heads=4, d_mlp=64, norm=norm, positions=positions,
                                       attn_bias=True, mlp_bias=True), DATA)
    x = DATA.train_x[:50]  # 50 samples > 13 tokens: the first block projects the token table
    assert model.embed.num_embeddings < len(x)
    assert model.head_tokens.shape == (13, 2) and model.head_position == 0  # x and op: one varying token
    reference = full_sequence_logits(model, x)
    torch.testing.assert_close(model(x), reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model(x[:5]), reference[:5], rtol=1e-5, atol=1e-5)  # fewer samples: no table
    shortcut_grads = torch.autograd.grad(model(x).square().sum(), list(model.parameters()))
    reference_grads = torch.autograd.grad(full_sequence_logits(model, x).square().sum(), list(model.parameters()))
    for got, want in zip(shortcut_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def padded_sequences(n: int, length: int, vocab: int, pad: int) -> torch.Tensor:
    """n random sequences of 2..length tokens, padded with `pad` at the end."""
    tokens = torch.randint(0, vocab, (n, length))
    return tokens.masked_fill(torch.arange(length) >= torch.randint(2, length + 1, (n, 1)), pad)


@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("norm", ["pre", "post"])
def test_padded_shortcut_computes_the_last_block_only_where_it_is_read(n_layers, norm):
    """With padding, the last block attends and runs its MLP only at each sequence's read positions (its last
    `count` non-pad ones): the logits and gradients of every block computing every position."""
    from groklab.models.transformer import Transformer

    torch.manual_seed(0)
    model = Transformer(TransformerCfg(n_layers=n_layers, d_model=32, n_heads=4, d_mlp=64, norm=norm), 12, 5, 9,
                        pad_token=11)
    tokens = padded_sequences(40, 5, 11, 11)  # 40 samples > 12 tokens: the first block projects the token table

    def full(tokens):
        last = (tokens != 11).sum(1, keepdim=True) - 1
        read = every_position(model, tokens)[torch.arange(len(tokens)).unsqueeze(1), last + torch.arange(-1, 1)]
        return model.unembed(model.final_norm(read)).transpose(1, 2)

    torch.testing.assert_close(model.logits_before_pad(tokens, 2), full(tokens), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model(tokens[:5]), full(tokens[:5])[..., -1], rtol=1e-5, atol=1e-5)  # no table
    got = torch.autograd.grad(model.logits_before_pad(tokens, 2).square().sum(), list(model.parameters()))
    want = torch.autograd.grad(full(tokens).square().sum(), list(model.parameters()))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("sequences", "head", "position"), [
    ([[0, 9, 1, 10], [2, 9, 3, 10]], [[0, 9], [1, 9], [2, 9]], 0),  # x op y =: x and op
    ([[0, 1, 10], [2, 3, 10]], [[0], [1], [2]], 0),  # x y =: x alone
    ([[7, 0, 1], [7, 2, 3]], [[7, 0], [7, 1], [7, 2]], 1),  # a start token, then x
    ([[0, 1], [0, 1]], [[0], [1], [2]], 0),  # nothing varies: all but the last position
])
def test_leading_single_token_finds_the_positions_that_depend_on_one_token(sequences, head, position):
    tokens, expected = leading_single_token(torch.tensor(sequences), vocab_size=3)
    assert tokens.tolist() == head and expected == position


def test_first_block_head_under_vmap_equals_each_seeds_model():
    """Batched seeds run the model through torch.func.vmap: the gathered head must stay per seed."""
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        models.append(build_model(TransformerCfg(n_layers=2, d_model=32, n_heads=4, d_mlp=64), DATA))
    stacked = {name: torch.stack([dict(m.named_parameters())[name] for m in models]) for name, _ in
               models[0].named_parameters()}
    inputs = torch.stack([DATA.train_x[:40], DATA.train_x[20:60]])
    call = lambda params, x: torch.func.functional_call(models[0], params, (x,))  # noqa: E731
    batched = torch.func.vmap(call)(stacked, inputs)
    for seed, model in enumerate(models):
        torch.testing.assert_close(batched[seed], full_sequence_logits(model, inputs[seed]), rtol=1e-5, atol=1e-5)


def test_attention_is_causal():
    torch.manual_seed(0)
    model = build_model(TransformerCfg(n_layers=2, d_model=32, n_heads=2, d_mlp=64, norm="none"), DATA)
    x = DATA.train_x[:4].clone()
    y = x.clone()
    y[:, -1] = 0  # change only the last token
    first = model.blocks[0]
    h_x, h_y = (first(model.embed(t) + model.pos) for t in (x, y))
    torch.testing.assert_close(h_x[:, :-1], h_y[:, :-1])  # earlier positions cannot see the change


def test_nanda_init_scales():
    torch.manual_seed(0)
    model = build_model(TransformerCfg(d_model=128, d_mlp=512, n_layers=1, norm="none", mlp_bias=True, init="nanda"),
                        build_task(ModularTaskCfg(p=113, format="x_y_eq", train_frac=0.3), 0))
    assert abs(model.embed.weight.std().item() - 1 / math.sqrt(128)) < 0.005
    assert abs(model.unembed.weight.std().item() - 1 / math.sqrt(114)) < 0.01
    assert model.blocks[0].mlp[0].bias.abs().max().item() == 0


def test_pytorch_init_draws_learned_positions_as_an_embedding_table():
    """N(0, 1) like nn.Embedding, as danielmamay/grokking and Grokfast's main.py build their position tables
    (an N(0, 1/d) table made the power2022 preset grok about 1.6x later than a loop built like theirs)."""
    torch.manual_seed(0)
    model = build_model(TransformerCfg(d_model=128, init="pytorch"), DATA)
    assert abs(model.pos.std().item() - 1) < 0.1 and abs(model.embed.weight.std().item() - 1) < 0.1


def test_mlp_one_hot_input_and_init_scale():
    torch.manual_seed(0)
    small = build_model(MLPCfg(width=16, depth=3, activation="quadratic", bias=False), DATA)
    torch.manual_seed(0)
    large = build_model(MLPCfg(width=16, depth=3, activation="quadratic", bias=False, init_scale=8.0), DATA)
    assert small.net[0].in_features == DATA.seq_len * DATA.vocab_size
    assert sum(isinstance(m, torch.nn.Linear) for m in small.net) == 3
    torch.testing.assert_close(large.net[0].weight, 8 * small.net[0].weight)
    assert small(DATA.train_x[:5]).shape == (5, DATA.n_classes)


def test_mlp_init_std_draws_normal_weights_and_zero_biases():
    """d-doshi/Grokking's init: every weight N(0, std^2); groklab starts any biases at 0."""
    torch.manual_seed(0)
    model = build_model(MLPCfg(width=400, depth=3, init_std=0.05), DATA)
    weights = [m.weight for m in model.net if isinstance(m, torch.nn.Linear)]
    assert all(abs(w.std().item() - 0.05) < 0.005 and abs(w.mean().item()) < 0.005 for w in weights)
    assert all((m.bias == 0).all() for m in model.net if isinstance(m, torch.nn.Linear))


@pytest.mark.parametrize("bias", [True, False])
def test_mlp_on_tokens_equals_the_dense_product_with_concatenated_one_hots(bias):
    model = build_model(MLPCfg(width=16, depth=3, bias=bias), DATA)
    one_hots = torch.nn.functional.one_hot(DATA.train_x[:20], DATA.vocab_size).flatten(1).float()
    torch.testing.assert_close(model(DATA.train_x[:20]), model.net(one_hots))


def test_dropout_acts_only_while_training_and_draws_a_mask_per_sample():
    """GPT-2-placed dropout (wang2024_grokked_kg's README command trains with 0.1): evaluation equals the same
    weights without dropout; training draws per-sample masks even where the token-table shortcut would share
    one computation between samples with the same tokens."""
    torch.manual_seed(0)
    cfg = dict(n_layers=2, d_model=32, n_heads=4, d_mlp=64, norm="pre", attn_bias=True, mlp_bias=True)
    plain, dropping = build_model(TransformerCfg(**cfg), DATA), build_model(TransformerCfg(**cfg, dropout=0.1), DATA)
    dropping.load_state_dict(plain.state_dict(), strict=True)  # dropout adds no parameters
    x = DATA.train_x[:1].repeat(50, 1)  # 50 copies of one sample: more samples than table rows
    dropping.eval()
    torch.testing.assert_close(dropping(x), plain(x))
    dropping.train()
    outputs = dropping(x)
    assert not torch.allclose(outputs[0], outputs[1])  # each copy has its own mask
    assert (outputs - plain(x)).abs().mean() > 1e-3


def test_gelu_tanh_is_gpt2s_gelu_new():
    """model.activation=gelu_tanh computes GPT-2's gelu_new, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
    which differs from the exact GELU by up to about 5e-4."""
    from groklab.models.activations import ACTIVATIONS

    x = torch.linspace(-6, 6, 1001, dtype=torch.float64)
    gelu_new = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    torch.testing.assert_close(ACTIVATIONS["gelu_tanh"]()(x), gelu_new, rtol=0, atol=1e-12)
    assert (ACTIVATIONS["gelu"]()(x) - gelu_new).abs().max() > 1e-4
