"""Decoder-only transformer that scores only the last position.

Covers Power et al. 2022 (2 layers, post-LN, no biases, sinusoidal positions in openai/grok)
and Nanda et al. 2023 (1 layer, no LayerNorm, MLP biases, learned positions). The last block
computes its attention query and MLP at the last position only, since only that position's
prediction is scored: same outputs, less work.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from groklab.config.schema import TransformerCfg
from groklab.models import MODELS
from groklab.models.activations import ACTIVATIONS
from groklab.tasks.base import TaskData


class TokenTable:
    """The first block's attention input as a function of (position, token) only: `rows` [T, V, D] holds it
    for every position and vocabulary entry, `tokens` [B, T] says which row each sample uses. A linear
    projection is then computed on the T x V rows and gathered, instead of on B x T rows (exact: the same
    rows, fewer of them whenever the vocabulary is smaller than the batch)."""

    def __init__(self, rows: torch.Tensor, tokens: torch.Tensor) -> None:
        self.rows, self.tokens = rows, tokens

    def project(self, layer: nn.Module, last_only: bool) -> torch.Tensor:
        """layer(input) as [B, D] at the last position (last_only) or [B, T, D]."""
        if last_only:
            return F.embedding(self.tokens[:, -1], layer(self.rows[-1]))
        length, vocab, _ = self.rows.shape
        flat = torch.arange(length, device=self.tokens.device) * vocab + self.tokens  # row of (position, token)
        return F.embedding(flat, layer(self.rows).flatten(0, 1))  # embedding's backward is a fast scatter-add


class Attention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, bias: bool) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q = nn.Linear(d_model, d_model, bias=bias)
        self.k = nn.Linear(d_model, d_model, bias=bias)
        self.v = nn.Linear(d_model, d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x: torch.Tensor | TokenTable, last_only: bool) -> torch.Tensor:
        """x: [B, T, D] (or a TokenTable) -> [B, T', D] with T' = 1 if last_only else T (causal)."""
        if isinstance(x, TokenTable):
            batch, d_model = x.tokens.shape[0], x.rows.shape[-1]
            project = lambda layer, last: x.project(layer, last)  # noqa: E731
        else:
            batch, d_model = x.shape[0], x.shape[-1]
            # The last position as a [B, D] matrix, not [B, 1, D]: under torch.func.vmap (batched seeds) a
            # linear layer's weight gradient over [B, 1, D] becomes B outer products instead of one matmul.
            project = lambda layer, last: layer(x[:, -1] if last else x)  # noqa: E731
        heads = lambda t: t.view(batch, -1, self.n_heads, d_model // self.n_heads).transpose(1, 2)  # noqa: E731
        q = heads(project(self.q, last_only))
        k, v = heads(project(self.k, False)), heads(project(self.v, False))
        # Broadcast-multiply instead of matmul: for sequences of a few tokens this is about twice
        # as fast on CPU as batched matmuls of [B*H, T, 32] (measured, see docs/performance.md).
        scores = (q.unsqueeze(-2) * k.unsqueeze(-3)).sum(-1) / math.sqrt(k.shape[-1])  # [B, H, Tq, Tk]
        if not last_only:
            length = k.shape[2]
            causal = torch.ones(length, length, dtype=torch.bool, device=k.device).tril()
            scores = scores.masked_fill(~causal, float("-inf"))
        attended = (scores.softmax(dim=-1).unsqueeze(-1) * v.unsqueeze(-3)).sum(-2)  # [B, H, Tq, dh]
        if last_only:
            return self.out(attended.reshape(batch, d_model)).unsqueeze(1)
        return self.out(attended.transpose(1, 2).reshape(batch, -1, d_model))


class Block(nn.Module):
    def __init__(self, cfg: TransformerCfg) -> None:
        super().__init__()
        self.norm = cfg.norm
        self.attn = Attention(cfg.d_model, cfg.n_heads, cfg.attn_bias)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_mlp, bias=cfg.mlp_bias),
            ACTIVATIONS[cfg.activation](),
            nn.Linear(cfg.d_mlp, cfg.d_model, bias=cfg.mlp_bias),
        )
        make_norm = nn.LayerNorm if cfg.norm != "none" else nn.Identity
        self.ln1, self.ln2 = make_norm(cfg.d_model), make_norm(cfg.d_model)

    def forward(self, x: torch.Tensor, last_only: bool, table: TokenTable | None = None) -> torch.Tensor:
        """x: the residual stream [B, T, D]; `table`: the same x as a TokenTable (first block only)."""
        residual = x[:, -1:] if last_only else x
        if self.norm == "post":
            x = self.ln1(residual + self.attn(table or x, last_only))
            return self.ln2(x + self.mlp(x))
        attn_in = TokenTable(self.ln1(table.rows), table.tokens) if table else self.ln1(x)
        if self.norm == "pre_normalized_residual":  # Grokfast's main.py: x <- ln1(x) + attn(ln1(x))
            normalized = self.ln1(x)
            residual = normalized[:, -1:] if last_only else normalized
        x = residual + self.attn(attn_in, last_only)
        return x + self.mlp(self.ln2(x))


def sinusoidal_positions(seq_len: int, d_model: int) -> torch.Tensor:
    """Fixed sin/cos positional encoding (Vaswani et al. 2017)."""
    position = torch.arange(seq_len).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10_000.0) / d_model))
    enc = torch.zeros(seq_len, d_model)
    enc[:, 0::2] = torch.sin(position * freq)
    enc[:, 1::2] = torch.cos(position * freq[: d_model // 2])
    return enc


class Transformer(nn.Module):
    def __init__(
        self, cfg: TransformerCfg, vocab_size: int, seq_len: int, n_classes: int, pad_token: int | None = None
    ) -> None:
        super().__init__()
        self.pad_token = pad_token
        self.embed = nn.Embedding(vocab_size, cfg.d_model)
        if cfg.positions == "learned":
            self.pos = nn.Parameter(torch.randn(seq_len, cfg.d_model) / math.sqrt(cfg.d_model))
        else:
            self.register_buffer("pos", sinusoidal_positions(seq_len, cfg.d_model), persistent=False)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.final_norm = nn.LayerNorm(cfg.d_model) if cfg.final_norm else nn.Identity()
        self.unembed = nn.Linear(cfg.d_model, n_classes, bias=False)
        if cfg.init == "nanda":
            self._init_nanda(cfg.d_model, vocab_size)

    def _init_nanda(self, d_model: int, vocab_size: int) -> None:
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name.startswith("unembed"):
                    param.normal_(0, 1 / math.sqrt(vocab_size))
                elif name.endswith("bias"):
                    param.zero_()
                elif param.dim() > 1 or name == "pos":
                    param.normal_(0, 1 / math.sqrt(d_model))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, T] -> logits at the answer position: [B, n_classes]. The answer position is the last
        one, or with a pad token the last non-pad one (every block then computes all positions)."""
        x = self.embed(tokens) + self.pos
        padded = self.pad_token is not None
        table = None
        if self.embed.num_embeddings < tokens.shape[0]:  # fewer table rows than sample rows: project the table
            table = TokenTable(self.embed.weight.unsqueeze(0) + self.pos.unsqueeze(1), tokens)
        for i, block in enumerate(self.blocks):
            x = block(x, last_only=not padded and i == len(self.blocks) - 1, table=table if i == 0 else None)
        if padded:
            answer = (tokens != self.pad_token).sum(1) - 1
            x = x[torch.arange(len(tokens), device=tokens.device), answer].unsqueeze(1)
        return self.unembed(self.final_norm(x[:, -1]))


@MODELS.register("transformer")
def build_transformer(cfg: TransformerCfg, data: TaskData) -> Transformer:
    return Transformer(cfg, data.vocab_size, data.seq_len, data.n_classes, data.pad_token)
