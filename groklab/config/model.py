"""The model groups of a config: one class per model kind, chosen by `model.name`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Tag, model_validator

from groklab.config.base import Strict, named_union

Activation = Literal["relu", "gelu", "tanh", "quadratic"]


class TransformerCfg(Strict):
    """Decoder-only transformer predicting the answer at the last position."""

    name: Literal["transformer"] = "transformer"
    n_layers: int = Field(2, ge=1, le=48, description="Number of transformer blocks.")
    d_model: int = Field(128, ge=1, description="Residual stream width.")
    n_heads: int = Field(4, ge=1, description="Attention heads; must divide d_model.")
    d_mlp: int = Field(512, ge=1, description="Hidden width of each block's MLP.")
    activation: Literal["relu", "gelu", "gelu_tanh"] = Field(
        "relu", description="MLP activation; gelu_tanh: GELU's tanh approximation (GPT-2's gelu_new).")
    norm: Literal["pre", "post", "none", "pre_normalized_residual"] = Field(
        "post", description="LayerNorm placement in each block: post (Power), pre, none (Nanda), "
        "pre_normalized_residual (Grokfast's main.py: the normalized input is also the residual, "
        "x <- ln1(x) + attn(ln1(x)), then x + mlp(ln2(x)))."
    )
    final_norm: bool = Field(False, description="LayerNorm before the unembedding (pre-LN models, danielmamay).")
    positions: Literal["learned", "sinusoidal"] = Field("learned", description="Positional encoding.")
    attn_bias: bool = Field(False, description="Biases in the attention projections.")
    mlp_bias: bool = Field(False, description="Biases in the MLP layers.")
    init: Literal["pytorch", "nanda"] = Field(
        "pytorch",
        description="pytorch: library defaults; nanda: N(0, 1/d_model) weights, N(0, 1/d_vocab) unembedding, "
        "zero biases (progress-measures-paper/transformers.py).",
    )
    dropout: float = Field(
        0.0, ge=0, lt=1, description="Dropout while training, placed as GPT-2 places it (embd/attn/resid_pdrop): "
        "on the embeddings, the attention probabilities and each block's attention and MLP outputs.")

    @model_validator(mode="after")
    def _check(self) -> TransformerCfg:
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide d_model={self.d_model}")
        if self.final_norm and self.norm == "none":
            raise ValueError("final_norm=true needs norm=pre or norm=post (norm=none means no LayerNorm anywhere)")
        return self


class MLPCfg(Strict):
    """Fully connected network; token inputs are one-hot encoded and concatenated (Gromov 2023)."""

    name: Literal["mlp"] = "mlp"
    width: int = Field(256, ge=1, description="Width of every hidden layer.")
    depth: int = Field(2, ge=1, le=64, description="Number of Linear layers (2 = one hidden layer).")
    activation: Activation = Field("relu", description="Hidden activation; quadratic is z**2.")
    bias: bool = Field(True, description="Biases in the Linear layers.")
    init_std: float | None = Field(
        None, gt=0, description="Draw every weight from N(0, init_std^2) and start biases at 0 (d-doshi/Grokking: "
        "sqrt(0.25) / (2 width)^(1/3)); null keeps PyTorch's default uniform init.")
    init_scale: float = Field(1.0, gt=0, description="Multiplier on every initial parameter (Omnigrok's alpha).")


class ReprMLPCfg(Strict):
    """Learnable representations r_a, r_b decoded from r_a + r_b by an MLP (Liu et al. 2022's toy model).

    The representation parameters are named `embed*`, so optim.embedding_lr/embedding_weight_decay set
    their own optimizer group."""

    name: Literal["repr_mlp"] = "repr_mlp"
    repr_dim: int = Field(1, ge=1, description="Dimension of each learned representation.")
    repr_init_scale: float = Field(1.0, gt=0, description="Representations start as U(-1/2, 1/2) times this.")
    width: int = Field(200, ge=1, description="Decoder hidden width.")
    depth: int = Field(3, ge=1, le=64, description="Decoder Linear layers.")
    activation: Activation = Field("tanh", description="Decoder activation.")


class TokenSumMLPCfg(Strict):
    """Embed each token, project, sum over positions, ReLU, project back, unembed; no biases, weights
    N(0, 1/fan_in) (Minegishi et al. 2023's modular-addition MLP, model.py::OnlyMLP)."""

    name: Literal["token_sum_mlp"] = "token_sum_mlp"
    d_embed: int = Field(500, ge=1, description="Embedding (and unembedding) width.")
    width: int = Field(48, ge=1, description="Hidden width after the in-projection.")


class LinearCfg(Strict):
    """A linear student y = S x on real-valued inputs (Levi et al. 2024), no bias."""

    name: Literal["linear"] = "linear"
    init_scale: float = Field(
        0.0, ge=0, description="Initial weights are N(0, init_scale^2 / d_in); 0 starts from S = 0."
    )


ModelCfg = Annotated[
    Annotated[TransformerCfg, Tag("transformer")] | Annotated[MLPCfg, Tag("mlp")]
    | Annotated[ReprMLPCfg, Tag("repr_mlp")] | Annotated[LinearCfg, Tag("linear")]
    | Annotated[TokenSumMLPCfg, Tag("token_sum_mlp")],
    named_union("transformer"),
]

