"""The task groups of a config: one class per task kind, chosen by `task.name`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Tag, model_validator

from groklab.config.base import Strict, is_prime, named_union

Operation = Literal[
    "x+y", "x-y", "x*y", "x/y",
    "x^2+y", "x^3+y",
    "x^2+y^2", "x^2+xy+y^2", "x^2+xy+y^2+x", "x^3+xy", "x^3+xy^2+y",
    "mix_div_sub", "mix_add_mul", "mix_add_sub",
]
DIVIDING_OPERATIONS = ("x/y", "mix_div_sub")


class ModularTaskCfg(Strict):
    """Binary operation tables `x op y = c (mod p)` (Power et al. 2022, Nanda et al. 2023)."""

    name: Literal["modular"] = "modular"
    operation: Operation = Field(
        "x+y",
        description="The binary operation. mix_div_sub: x/y if y is odd else x-y; "
        "mix_add_mul: x+y if x is even else x*y; mix_add_sub: x+y if x is even else x-y "
        "(Power et al.'s list). x/y uses y in 1..p-1.",
    )
    p: int = Field(97, ge=2, le=2000, description="The modulus.")
    train_frac: float = Field(0.5, gt=0, lt=1, description="Fraction of all equations used for training.")
    format: Literal["x_op_y_eq", "x_y_eq", "x_y"] = Field(
        "x_op_y_eq",
        description="Token format: [x, op, y, =] with vocab p+2 (Power, danielmamay), [x, y, =] "
        "with vocab p+1 (Nanda), or the operands alone [x, y] with vocab p (one-hot MLPs, Gromov). "
        "The answer is predicted at the last position.",
    )
    n_terms: int = Field(
        2, ge=2, le=6, description="Number of operands: x1+x2+...+xn mod p (Doshi et al. 2024's multi-term "
        "addition); only operation x+y supports more than 2."
    )
    nonzero_y: bool = Field(
        False, description="Operands y in 1..p-1 only, for every operation (Grokfast's main.py draws x*y so); "
        "x/y always leaves y = 0 out."
    )
    outputs: Literal["answers", "vocabulary"] = Field(
        "answers", description="The model's output classes: answers, the p residues; vocabulary, one per input "
        "token (p plus the op and = tokens), so the softmax also spans tokens that are never an answer "
        "(danielmamay/grokking's and Nanda et al.'s code)."
    )

    @model_validator(mode="after")
    def _check(self) -> ModularTaskCfg:
        if self.n_terms > 2 and self.operation != "x+y":
            raise ValueError(f"n_terms={self.n_terms} is only defined for operation x+y (multi-term addition)")
        if self.n_examples > 5_000_000:
            raise ValueError(f"p={self.p} with n_terms={self.n_terms} makes {self.n_examples} equations; "
                             "use a smaller p or fewer terms (at most 5,000,000)")
        if self.operation in DIVIDING_OPERATIONS and not is_prime(self.p):
            raise ValueError(
                f"operation {self.operation!r} divides, which needs a prime modulus; p={self.p} is not prime "
                "(use e.g. p=97 or p=113)"
            )
        if self.n_train < 1 or self.n_train >= self.n_examples:
            raise ValueError(
                f"train_frac={self.train_frac} leaves {self.n_train} of {self.n_examples} equations for training; "
                "both the train and the test set need at least one"
            )
        return self

    @property
    def first_y(self) -> int:
        """The smallest operand after the first: 1 where y = 0 is left out."""
        return 1 if self.nonzero_y or self.operation == "x/y" else 0

    @property
    def n_examples(self) -> int:
        return self.p * (self.p - self.first_y) ** (self.n_terms - 1)

    @property
    def n_train(self) -> int:
        return int(self.train_frac * self.n_examples)

    @property
    def vocab_size(self) -> int:
        return self.p + {"x_op_y_eq": 2, "x_y_eq": 1, "x_y": 0}[self.format]

    @property
    def n_classes(self) -> int:
        return self.vocab_size if self.outputs == "vocabulary" else self.p

    @property
    def chance_accuracy(self) -> float:
        return 1 / self.p

    def describe(self) -> str:
        terms = f", {self.n_terms} terms" if self.n_terms > 2 else ""
        return f"{self.operation} mod {self.p}{terms}, train fraction {self.train_frac}"


class PairSumTaskCfg(Strict):
    """Sums a+b of unordered pairs 0 <= a <= b < p, one class per sum (Liu et al. 2022's toy model)."""

    name: Literal["pair_sum"] = "pair_sum"
    p: int = Field(10, ge=2, le=1000, description="Numbers 0..p-1; there are p(p+1)/2 pairs and 2p-1 sums.")
    n_train: int = Field(45, ge=1, description="Number of training pairs (Liu's train_num); the rest are test.")

    @model_validator(mode="after")
    def _check(self) -> PairSumTaskCfg:
        if self.n_train >= self.n_examples:
            raise ValueError(f"n_train={self.n_train} leaves no test pairs: p={self.p} has only {self.n_examples} "
                             f"pairs; use n_train<={self.n_examples - 1}")
        return self

    @property
    def n_examples(self) -> int:
        return self.p * (self.p + 1) // 2

    @property
    def n_classes(self) -> int:
        return 2 * self.p - 1

    @property
    def chance_accuracy(self) -> float:
        return 1 / self.n_classes

    def describe(self) -> str:
        return f"a+b for pairs of 0..{self.p - 1}, {self.n_train} of {self.n_examples} pairs for training"


class LinearTeacherTaskCfg(Strict):
    """Regression on y = T x with Gaussian inputs x ~ N(0, I) and a Gaussian teacher (Levi et al. 2024)."""

    name: Literal["linear_teacher"] = "linear_teacher"
    d_in: int = Field(100, ge=1, le=100_000, description="Input dimension.")
    d_out: int = Field(10, ge=1, le=10_000, description="Output dimension.")
    n_train: int = Field(200, ge=1, description="Training samples; lambda = d_in / n_train.")
    n_test: int = Field(2000, ge=1, description="Test samples.")

    @property
    def n_classes(self) -> int:  # the number of outputs; accuracy is defined through a loss threshold
        return self.d_out

    @property
    def chance_accuracy(self) -> float:
        return 0.0

    @property
    def ratio(self) -> float:
        """lambda = d_in / n_train, the paper's control parameter."""
        return self.d_in / self.n_train

    def describe(self) -> str:
        return f"linear teacher d_in {self.d_in}, d_out {self.d_out}, {self.n_train} train samples " \
               f"(lambda {self.ratio:.3g})"


class MnistTaskCfg(Strict):
    """Real MNIST digits (28x28 grey images, 10 classes), pixels scaled to [0, 1] (torchvision's ToTensor)."""

    name: Literal["mnist"] = "mnist"
    n_train: int = Field(1000, ge=1, le=60_000, description="Training images drawn from the 60k training set.")
    n_test: int = Field(10_000, ge=1, le=10_000, description="Test images (the first n_test of the 10k test set).")
    subset: Literal["first", "random"] = Field(
        "first", description="first: images 0..n_train-1 (Omnigrok); random: a seeded draw without replacement."
    )
    path: str | None = Field(
        None, description="Your own MNIST: an npz with x_train, y_train, x_test, y_test, or a folder with the "
        "four idx files. null uses groklab's verified cache (built on first use, see docs/datasets.md)."
    )

    @property
    def n_classes(self) -> int:
        return 10

    @property
    def chance_accuracy(self) -> float:
        return 0.1

    def describe(self) -> str:
        return f"MNIST, {self.n_train} training images ({self.subset}), {self.n_test} test images"


KG_DEFAULTS = {  # Wang et al. 2024's construction (composition.ipynb, comparison.ipynb)
    "composition": {"n_entities": 2000, "ood_frac": 0.05, "test_frac": 0.005, "phi": 18.0},
    "comparison": {"n_entities": 1000, "ood_frac": 0.1, "test_frac": 0.1, "phi": 12.6},
}


class KnowledgeGraphTaskCfg(Strict):
    """Synthetic knowledge bases of Wang et al. 2024 (grokked transformers as implicit reasoners).

    composition: every entity has `out_degree` distinct relations, each to a random tail; a two-hop query
    (h, r1, r2) asks for r2(r1(h)). comparison: every entity has a value per attribute; a query asks whether
    entity 1's value is below, equal to or above entity 2's. The training set is every atomic fact plus
    round(phi x |ID atomic facts|) inferred facts; OOD facts/entities never appear in a training query.
    """

    name: Literal["knowledge_graph"] = "knowledge_graph"
    kind: Literal["composition", "comparison"] = Field("composition", description="Which reasoning task.")
    n_entities: int = Field(2000, ge=4, le=100_000, description="Entities (composition 2000, comparison 1000).")
    n_relations: int = Field(200, ge=2, le=10_000, description="composition: relations.")
    out_degree: int = Field(20, ge=1, description="composition: relations per entity (distinct, random tails).")
    n_attributes: int = Field(20, ge=1, le=1000, description="comparison: attributes per entity.")
    n_values: int = Field(20, ge=2, le=1000, description="comparison: attribute values 0..n_values-1.")
    phi: float = Field(18.0, gt=0, description="Inferred facts per ID atomic fact in training (the paper's phi).")
    ood_frac: float = Field(0.05, ge=0, lt=1, description="composition: share of atomic facts that are OOD "
                            "(0.05); comparison: share of entities per attribute that are OOD (0.1).")
    test_frac: float = Field(0.005, gt=0, lt=1, description="Share of ID inferred facts held out as the "
                             "test_inferred_id split (composition 0.005, comparison 0.1).")
    probe_size: int = Field(3000, ge=1, description="Largest evaluation split (examples drawn per split).")

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        """Fields left out take the paper's value for the chosen kind."""
        kind = data.get("kind", "composition") if isinstance(data, dict) else None
        return {**KG_DEFAULTS[kind], **data} if kind in KG_DEFAULTS else data

    @model_validator(mode="after")
    def _check(self) -> KnowledgeGraphTaskCfg:
        id_share, keep = 1 - self.ood_frac, 1 - self.test_frac
        if self.kind == "composition":
            if self.out_degree > self.n_relations:
                raise ValueError(f"out_degree={self.out_degree} exceeds n_relations={self.n_relations}: each "
                                 "entity's relations are distinct")
            available = self.out_degree * id_share * keep  # inferred candidates per ID atomic fact
            needed = "out_degree"
        else:
            available = (round(self.n_entities * id_share) - 1) * keep
            needed = "n_entities"
        if self.phi > 0.98 * available:
            raise ValueError(f"phi={self.phi} asks for more inferred facts than the knowledge base has (about "
                             f"{available:.1f} per ID atomic fact): lower phi or raise {needed}")
        return self

    @property
    def n_atomic(self) -> tuple[int, int]:
        """(all atomic facts, ID atomic facts)."""
        if self.kind == "composition":
            total = self.n_entities * self.out_degree
            return total, total - round(self.ood_frac * total)
        return self.n_entities * self.n_attributes, (self.n_entities - round(self.ood_frac * self.n_entities)) \
            * self.n_attributes

    @property
    def n_train(self) -> int:
        """Training examples: every atomic fact plus round(phi x ID atomic facts) inferred ones."""
        total, in_distribution = self.n_atomic
        return total + round(self.phi * in_distribution)

    @property
    def vocab_size(self) -> int:
        if self.kind == "composition":
            return self.n_entities + self.n_relations + 1  # entities, relations, pad
        return self.n_entities + self.n_attributes + self.n_values + 2 + 3 + 1  # ..., <q>, <mask>, 3 labels, pad

    @property
    def n_classes(self) -> int:
        return self.vocab_size  # the answer is a token, as in the paper's language model

    @property
    def chance_accuracy(self) -> float:
        if self.kind == "composition":
            return 1 / self.n_entities
        return (1 - 1 / self.n_values) / 2  # comparison: always answering "below" (ties are 1 in n_values)

    def describe(self) -> str:
        if self.kind == "composition":
            return (f"two-hop composition, {self.n_entities} entities, {self.n_relations} relations, out-degree "
                    f"{self.out_degree}, phi {self.phi:g}")
        return (f"comparison, {self.n_entities} entities, {self.n_attributes} attributes, {self.n_values} values, "
                f"phi {self.phi:g}")


TaskCfg = Annotated[
    Annotated[ModularTaskCfg, Tag("modular")] | Annotated[PairSumTaskCfg, Tag("pair_sum")]
    | Annotated[LinearTeacherTaskCfg, Tag("linear_teacher")] | Annotated[MnistTaskCfg, Tag("mnist")]
    | Annotated[KnowledgeGraphTaskCfg, Tag("knowledge_graph")],
    named_union("modular"),
]

