"""Decoder-only transformer that scores only the last position.

Covers Power et al. 2022 (2 layers, post-LN, no biases, sinusoidal positions in openai/grok)
and Nanda et al. 2023 (1 layer, no LayerNorm, MLP biases, learned positions). Three shortcuts give the
same outputs with less work:
- the last block computes its attention query and MLP only where a prediction is scored: the last position,
  or with padding each sequence's last non-pad positions;
- the first block's attention input depends on (position, token) only, so its projections are computed on
  the position x vocabulary table (TokenTable);
- with causal attention the first block's output at position t depends on tokens 0..t only. In the task's
  leading positions where a single token varies (x and op of "x op y =", op being the same in every
  sequence), that output is computed once per vocabulary entry and gathered (`leading_single_token`).
  The model therefore expects the task's own sequences, as every caller passes.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from groklab.config.model import TransformerCfg
from groklab.models.activations import ACTIVATIONS
from groklab.models.base import MODELS
from groklab.tasks.base import TaskData


class TokenTable:
    """The first block's attention input as a function of (position, token) only: `rows` [T, V, D] holds it
    for every position and vocabulary entry, `tokens` [B, T] says which row each sample uses. A linear
    projection is then computed on the T x V rows and gathered, instead of on B x T rows (exact: the same
    rows, fewer of them whenever the vocabulary is smaller than the batch)."""

    def __init__(self, rows: torch.Tensor, tokens: torch.Tensor) -> None:
        self.rows, self.tokens = rows, tokens

    def project(self, layer: nn.Module, queries: int | torch.Tensor) -> torch.Tensor:
        """layer(input) at positions queries.. as [B, T - queries, D] (as [B, D] when only the last remains), or
        at each sample's positions `queries` [B, Tq] as [B, Tq, D]."""
        if isinstance(queries, torch.Tensor):
            flat = queries * self.rows.shape[1] + self.tokens.gather(1, queries)  # row of (position, token)
            return F.embedding(flat, layer(self.rows).flatten(0, 1))
        rows, tokens = self.rows[queries:], self.tokens[:, queries:]
        if len(rows) == 1:
            return F.embedding(tokens[:, 0], layer(rows[0]))
        flat = torch.arange(len(rows), device=tokens.device) * rows.shape[1] + tokens
        return F.embedding(flat, layer(rows).flatten(0, 1))  # embedding's backward is a fast scatter-add


def dropout(p: float) -> nn.Module:
    """nn.Dropout(p), or nothing at all when p is 0."""
    return nn.Dropout(p) if p else nn.Identity()


class Attention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, bias: bool, attn_dropout: float = 0.0) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout(attn_dropout)
        self.q = nn.Linear(d_model, d_model, bias=bias)
        self.k = nn.Linear(d_model, d_model, bias=bias)
        self.v = nn.Linear(d_model, d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x: torch.Tensor | TokenTable, queries: int | torch.Tensor) -> torch.Tensor:
        """x: [B, T, D] (or a TokenTable) -> causal attention over all positions from the queries at positions
        queries.. ([B, T - queries, D]), or at each sample's positions `queries` [B, Tq] ([B, Tq, D])."""
        if isinstance(x, TokenTable):
            (batch, length), d_model = x.tokens.shape, x.rows.shape[-1]
            project = x.project
        else:
            batch, length, d_model = x.shape
            project = lambda layer, at: layer(at_positions(x, at))  # noqa: E731
        heads = lambda t: t.view(batch, -1, self.n_heads, d_model // self.n_heads).transpose(1, 2)  # noqa: E731
        q = heads(project(self.q, queries))
        k, v = heads(project(self.k, 0)), heads(project(self.v, 0))
        # Broadcast-multiply instead of matmul: for sequences of a few tokens this is about twice
        # as fast on CPU as batched matmuls of [B*H, T, 32] (measured, see docs/performance.md).
        scores = (q.unsqueeze(-2) * k.unsqueeze(-3)).sum(-1) / math.sqrt(k.shape[-1])  # [B, H, Tq, Tk]
        if isinstance(queries, torch.Tensor):  # key t is visible from query position s when t <= s
            visible = torch.arange(length, device=k.device) <= queries.unsqueeze(-1)  # [B, Tq, Tk]
            scores = scores.masked_fill(~visible.unsqueeze(1), float("-inf"))
        elif queries < length - 1:
            causal = torch.ones(length, length, dtype=torch.bool, device=k.device).tril()[queries:]
            scores = scores.masked_fill(~causal, float("-inf"))
        attended = (self.dropout(scores.softmax(dim=-1)).unsqueeze(-1) * v.unsqueeze(-3)).sum(-2)  # [B, H, Tq, dh]
        if isinstance(queries, int) and queries == length - 1:
            return self.out(attended.reshape(batch, d_model)).unsqueeze(1)
        return self.out(attended.transpose(1, 2).reshape(batch, -1, d_model))


def at_positions(x: torch.Tensor, queries: int | torch.Tensor) -> torch.Tensor:
    """x [B, T, D] at positions queries.. ([B, T - queries, D]), at each sample's positions `queries` [B, Tq]
    ([B, Tq, D]), or at the last position alone as a [B, D] matrix, not [B, 1, D]: under torch.func.vmap
    (batched seeds) a linear layer's weight gradient over [B, 1, D] becomes B outer products instead of one
    matmul."""
    if isinstance(queries, torch.Tensor):
        return x[torch.arange(len(x), device=x.device).unsqueeze(1), queries]
    return x[:, -1] if queries == x.shape[1] - 1 else x[:, queries:]


class Block(nn.Module):
    def __init__(self, cfg: TransformerCfg) -> None:
        super().__init__()
        self.norm = cfg.norm
        self.attn = Attention(cfg.d_model, cfg.n_heads, cfg.attn_bias, cfg.dropout)
        self.drop = dropout(cfg.dropout)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_mlp, bias=cfg.mlp_bias),
            ACTIVATIONS[cfg.activation](),
            nn.Linear(cfg.d_mlp, cfg.d_model, bias=cfg.mlp_bias),
        )
        make_norm = nn.LayerNorm if cfg.norm != "none" else nn.Identity
        self.ln1, self.ln2 = make_norm(cfg.d_model), make_norm(cfg.d_model)

    def forward(self, x: torch.Tensor, queries: int | torch.Tensor = 0, table: TokenTable | None = None
                ) -> torch.Tensor:
        """x: the residual stream [B, T, D] -> the block's output at positions queries.. [B, T - queries, D], or
        at each sample's positions `queries` [B, Tq] ([B, Tq, D]); `table`: the same x as a TokenTable (first
        block only)."""
        residual = x[:, queries:] if isinstance(queries, int) else at_positions(x, queries)
        if self.norm == "post":
            x = self.ln1(residual + self.drop(self.attn(table or x, queries)))
            return self.ln2(x + self.drop(self.mlp(x)))
        attn_in = TokenTable(self.ln1(table.rows), table.tokens) if table else self.ln1(x)
        if self.norm == "pre_normalized_residual":  # Grokfast's main.py: x <- ln1(x) + attn(ln1(x))
            residual = self.ln1(residual)
        x = residual + self.drop(self.attn(attn_in, queries))
        return x + self.drop(self.mlp(self.ln2(x)))


def sinusoidal_positions(seq_len: int, d_model: int) -> torch.Tensor:
    """Fixed sin/cos positional encoding (Vaswani et al. 2017)."""
    position = torch.arange(seq_len).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10_000.0) / d_model))
    enc = torch.zeros(seq_len, d_model)
    enc[:, 0::2] = torch.sin(position * freq)
    enc[:, 1::2] = torch.cos(position * freq[: d_model // 2])
    return enc


def leading_single_token(sequences: torch.Tensor, vocab_size: int) -> tuple[torch.Tensor, int] | None:
    """The longest run of leading positions (all but the last) in which at most one position's token varies
    across `sequences` [N, T]: every sequence's first-block output there is that of one of the returned
    [vocab_size, k] sequences, the one whose `position` token is the same. None when there is no such run."""
    varying = (sequences != sequences[0]).any(0).nonzero().flatten().tolist()
    length = min(varying[1] if len(varying) > 1 else sequences.shape[1], sequences.shape[1] - 1)
    if length == 0:
        return None
    position = varying[0] if varying and varying[0] < length else 0
    head = sequences[0, :length].repeat(vocab_size, 1)
    head[:, position] = torch.arange(vocab_size, device=sequences.device)
    return head, position


class Transformer(nn.Module):
    def __init__(
        self, cfg: TransformerCfg, vocab_size: int, seq_len: int, n_classes: int, pad_token: int | None = None,
        sequences: torch.Tensor | None = None,
    ) -> None:
        """`sequences`: the task's inputs, from which the first block's single-token head is found (not used
        with padding or a single block)."""
        super().__init__()
        self.pad_token = pad_token
        self.embed = nn.Embedding(vocab_size, cfg.d_model)
        if cfg.positions == "learned":
            # N(0, 1) as an nn.Embedding's default, as the danielmamay and Grokfast models initialize their
            # position tables (init=nanda re-draws it below)
            self.pos = nn.Parameter(torch.randn(seq_len, cfg.d_model))
        else:
            self.register_buffer("pos", sinusoidal_positions(seq_len, cfg.d_model), persistent=False)
        self.embed_dropout = dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.final_norm = nn.LayerNorm(cfg.d_model) if cfg.final_norm else nn.Identity()
        self.unembed = nn.Linear(cfg.d_model, n_classes, bias=False)
        if cfg.init == "nanda":
            self._init_nanda(cfg.d_model, vocab_size)
        head = None
        if sequences is not None and pad_token is None and cfg.n_layers > 1:
            head = leading_single_token(sequences, vocab_size)
        self.register_buffer("head_tokens", head[0] if head else None, persistent=False)
        self.head_position = head[1] if head else None

    def _first_block_head(self, tokens: torch.Tensor) -> torch.Tensor:
        """The first block's output at the leading single-token positions, [B, k, D]: computed on the
        vocabulary's [V, k] sequences and gathered by each sample's varying token."""
        head = self.head_tokens
        outputs = self.blocks[0](self.embed(head) + self.pos[: head.shape[1]])  # [V, k, D]
        gathered = F.embedding(tokens[:, self.head_position], outputs.flatten(1))
        return gathered.view(len(tokens), head.shape[1], -1)

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
        one, or with a pad token the last non-pad one."""
        if self.pad_token is not None:
            return self.logits_before_pad(tokens, 1)[..., 0]
        return self.unembed(self.final_norm(self._hidden(tokens)[:, -1]))

    def logits_before_pad(self, tokens: torch.Tensor, count: int) -> torch.Tensor:
        """A padded model's logits at its last `count` non-pad positions, in order (the causal mask hides every
        later token from each): [B, n_classes, count], in one pass."""
        last = (tokens != self.pad_token).sum(1, keepdim=True) - 1
        # positions built on the device (no host list copied each step, so a CUDA graph can capture it)
        x = self._hidden(tokens, last + torch.arange(1 - count, 1, device=tokens.device))  # [B, count, D]
        # as [B * count, D]: one matmul per layer under torch.func.vmap too (see at_positions)
        logits = self.unembed(self.final_norm(x.flatten(0, 1)))
        return logits.view(len(tokens), count, -1).transpose(1, 2)

    def _hidden(self, tokens: torch.Tensor, read: torch.Tensor | None = None) -> torch.Tensor:
        """The last block's output at each sample's positions `read` [B, count] ([B, count, D]), or without
        them at the last position only ([B, 1, D])."""
        x = self.embed_dropout(self.embed(tokens) + self.pos)
        last = len(self.blocks) - 1
        table, head = None, 0
        dropping = self.training and isinstance(self.embed_dropout, nn.Dropout)  # its masks differ per sample
        if self.embed.num_embeddings < len(tokens) and not dropping:  # fewer table rows than samples: use tables
            table = TokenTable(self.embed.weight.unsqueeze(0) + self.pos.unsqueeze(1), tokens)
            head = 0 if self.head_tokens is None else self.head_tokens.shape[1]
        for i, block in enumerate(self.blocks):
            first_table = table if i == 0 else None
            if i == last:
                x = block(x, x.shape[1] - 1 if read is None else read, first_table)
            elif i == 0 and head:
                x = torch.cat([self._first_block_head(tokens), block(x, head, first_table)], dim=1)
            else:
                x = block(x, 0, first_table)
        return x


@MODELS.register("transformer")
def build_transformer(cfg: TransformerCfg, data: TaskData) -> Transformer:
    sequences = torch.cat([data.train_x, data.test_x])
    return Transformer(cfg, data.vocab_size, data.seq_len, data.n_classes, data.pad_token, sequences)
