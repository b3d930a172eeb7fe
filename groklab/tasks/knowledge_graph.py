"""Wang et al. 2024's synthetic knowledge bases: two-hop composition and attribute comparison.

Each example is a short token sequence whose answer is one token, predicted at the last non-pad position
(sequences are right-padded, so an atomic fact <h><r> and the first hop of <h><r1><r2> share positions, as
in the paper's GPT-2 format). Besides train and test (= test_inferred_id) the task carries the paper's
evaluation splits: id_atomic, ood_atomic, train_inferred and test_inferred_ood.
"""

from __future__ import annotations

import torch

from groklab.common.seeding import generator
from groklab.config.task import KnowledgeGraphTaskCfg
from groklab.tasks.base import TASKS, TaskData


def choose(count: int, n: int, g: torch.Generator) -> torch.Tensor:
    """`min(count, n)` distinct indices out of n, seeded."""
    return torch.randperm(n, generator=g)[: min(count, n)]


def exact_share(n: int, share: float, g: torch.Generator) -> torch.Tensor:
    """A boolean mask over n items with exactly round(share * n) True, at seeded places."""
    mask = torch.zeros(n, dtype=torch.bool)
    mask[choose(round(share * n), n, g)] = True
    return mask


def sample_inferred(candidates: torch.Tensor, count: int, g: torch.Generator) -> torch.Tensor:
    """`count` of the candidate indices, or an error naming the shortfall."""
    if count > len(candidates):
        raise ValueError(f"phi asks for {count} inferred training facts but only {len(candidates)} exist: "
                         "lower task.phi or enlarge the knowledge base")
    return candidates[choose(count, len(candidates), g)]


def composition(cfg: KnowledgeGraphTaskCfg, seed: int) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], int]:
    """Splits of the composition task: atomic (h, r) -> t and inferred (h, r1, r2) -> r2(r1(h))."""
    g = generator(seed, "knowledge-graph")
    n_e, degree = cfg.n_entities, cfg.out_degree
    pad = n_e + cfg.n_relations
    relations = torch.rand(n_e, cfg.n_relations, generator=g).argsort(1)[:, :degree].flatten()
    tails = torch.randint(n_e, (n_e * degree,), generator=g)
    heads = torch.arange(n_e).repeat_interleave(degree)
    ood = exact_share(n_e * degree, cfg.ood_frac, g)
    # inferred facts: atomic fact i = (h, r1, b) followed by each of b's facts j = (b, r2, t)
    first = torch.arange(n_e * degree).repeat_interleave(degree)
    second = tails[first] * degree + torch.arange(degree).repeat(n_e * degree)
    n_ood = ood[first].int() + ood[second].int()  # facts with exactly one OOD hop are dropped
    id_inferred = torch.flatten(torch.nonzero(n_ood == 0))
    held_out = exact_share(len(id_inferred), cfg.test_frac, g)
    n_id_atomic = int((~ood).sum())
    train_inferred = sample_inferred(id_inferred[~held_out], round(cfg.phi * n_id_atomic), g)

    def atomic(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.stack([heads[rows], n_e + relations[rows], torch.full_like(rows, pad)], 1)
        return tokens, tails[rows]

    def inferred(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = first[rows], second[rows]
        return torch.stack([heads[a], n_e + relations[a], n_e + relations[b]], 1), tails[b]

    atomic_x, atomic_y = atomic(torch.arange(n_e * degree))
    inferred_x, inferred_y = inferred(train_inferred)
    probe = cfg.probe_size
    id_rows, ood_rows = torch.nonzero(~ood).flatten(), torch.nonzero(ood).flatten()
    splits = {
        "train": (torch.cat([atomic_x, inferred_x]), torch.cat([atomic_y, inferred_y])),
        "test": inferred(id_inferred[held_out][choose(probe, int(held_out.sum()), g)]),
        "id_atomic": atomic(id_rows[choose(probe, len(id_rows), g)]),
        "ood_atomic": atomic(ood_rows[choose(probe, len(ood_rows), g)]),
        "train_inferred": inferred(train_inferred[choose(probe, len(train_inferred), g)]),
        "test_inferred_ood": inferred(torch.nonzero(n_ood == 2).flatten()[choose(probe, int((n_ood == 2).sum()), g)]),
    }
    return splits, pad


def comparison(cfg: KnowledgeGraphTaskCfg, seed: int) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], int]:
    """Splits of the comparison task: atomic (e, attribute) -> value and (attribute, <q>, e1, <mask>, e2) ->
    one of three labels (value of e1 below, equal to, above that of e2)."""
    g = generator(seed, "knowledge-graph")
    n_e, n_a = cfg.n_entities, cfg.n_attributes
    attr0 = n_e
    value0 = attr0 + n_a
    q, mask = value0 + cfg.n_values, value0 + cfg.n_values + 1
    label0, pad = mask + 1, mask + 4
    values = torch.randint(cfg.n_values, (n_e, n_a), generator=g)
    ood = torch.stack([exact_share(n_e, cfg.ood_frac, g) for _ in range(n_a)], 1)  # [entity, attribute]

    def atomic(entity: torch.Tensor, attribute: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fill = torch.full_like(entity, pad)
        return torch.stack([entity, attr0 + attribute, fill, fill, fill], 1), value0 + values[entity, attribute]

    def queries(attribute: torch.Tensor, e1: torch.Tensor, e2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.stack([attr0 + attribute, torch.full_like(e1, q), e1, torch.full_like(e1, mask), e2], 1)
        order = torch.sign(values[e1, attribute] - values[e2, attribute]) + 1  # 0: below, 1: equal, 2: above
        return tokens, label0 + order

    pairs = {"train": [], "test": [], "test_inferred_ood": []}
    for a in range(n_a):
        for name, members in (("id", torch.nonzero(~ood[:, a]).flatten()), ("ood", torch.nonzero(ood[:, a]).flatten())):
            e1, e2 = members.repeat_interleave(len(members)), members.repeat(len(members))
            keep = e1 != e2
            e1, e2 = e1[keep], e2[keep]
            triples = torch.stack([torch.full_like(e1, a), e1, e2], 1)
            if name == "ood":
                pairs["test_inferred_ood"].append(triples)
                continue
            held_out = exact_share(len(triples), cfg.test_frac, g)
            pairs["test"].append(triples[held_out])
            pairs["train"].append(triples[~held_out])
    candidates = torch.cat(pairs["train"])
    id_entity, id_attribute = torch.nonzero(~ood, as_tuple=True)
    chosen = candidates[sample_inferred(torch.arange(len(candidates)), round(cfg.phi * len(id_entity)), g)]
    all_entity, all_attribute = torch.nonzero(torch.ones_like(ood), as_tuple=True)
    atomic_x, atomic_y = atomic(all_entity, all_attribute)
    inferred_x, inferred_y = queries(chosen[:, 0], chosen[:, 1], chosen[:, 2])
    probe = cfg.probe_size

    def sample_queries(triples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        picked = triples[choose(probe, len(triples), g)]
        return queries(picked[:, 0], picked[:, 1], picked[:, 2])

    ood_entity, ood_attribute = torch.nonzero(ood, as_tuple=True)
    id_pick, ood_pick = choose(probe, len(id_entity), g), choose(probe, len(ood_entity), g)
    splits = {
        "train": (torch.cat([atomic_x, inferred_x]), torch.cat([atomic_y, inferred_y])),
        "test": sample_queries(torch.cat(pairs["test"])),
        "id_atomic": atomic(id_entity[id_pick], id_attribute[id_pick]),
        "ood_atomic": atomic(ood_entity[ood_pick], ood_attribute[ood_pick]),
        "train_inferred": sample_queries(chosen),
        "test_inferred_ood": sample_queries(torch.cat(pairs["test_inferred_ood"])),
    }
    return splits, pad


@TASKS.register("knowledge_graph")
def build_knowledge_graph(cfg: KnowledgeGraphTaskCfg, seed: int) -> TaskData:
    """The seeded knowledge base and its splits; test = test_inferred_id."""
    splits, pad = (composition if cfg.kind == "composition" else comparison)(cfg, seed)
    (train_x, train_y), (test_x, test_y) = splits.pop("train"), splits.pop("test")
    return TaskData(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y, vocab_size=cfg.vocab_size,
                    seq_len=train_x.shape[1], n_classes=cfg.n_classes, pad_token=pad, eval_splits=splits)
