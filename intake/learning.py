"""Learned suggestions (智能分类): a model trained on labelled history that gives the top
labels of a report with calibrated probabilities and the terms that weighed most. The label is
a category path for the category model, and an urgency, a kind or a lead unit's id for the
others (`Example.category` holds whichever is learned); the method is the same.

The method is the fast, explainable baseline the issue asks for:
- text: the title twice and the description's first 1,000 characters (and, for the lead unit,
  the category and address: `Example.context`);
- features: TF-IDF over character 1–3-grams (robust to typos and unseen words) and over jieba
  words and word pairs (the hotline's own terms kept whole, see `similarity.tokens`), sublinear
  term frequency; the title counts twice;
- classifier: a linear SVM (`LinearSVC`), its scores calibrated to probabilities by
  cross-validated Platt scaling (`CalibratedClassifierCV`, sigmoid, 3 folds); one final SVM is
  kept, so a suggestion's reasons are its own weights: the terms of the text whose
  tf-idf × weight pushed the chosen category most.

Text is scrubbed with `shared.redaction.redact` (phones, ID and bank cards, the citizen's own
name) before it is used to train or to predict, so no model holds a phone number.

Pure apart from the clock used to time training and suggestions; storing models is
`intake/modelstore.py`, reading examples `intake/examples.py`.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import pairwise, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from intake import similarity
from intake.classify import Candidate
from intake.examples import Example
from shared.redaction import redact

# Stages of training, reported to a progress callback as (stage, done, total).
Progress = Callable[[str, int, int], None]

SEED = 12345
HOLDOUT = 0.2
TOP = 3
REASONS = 4  # terms shown per suggestion
C = 0.5  # the SVM's regularisation
# The description read: what a message is about is said early, and the cost of a suggestion
# grows with the text (on the TipDM messages 1,000 characters halved p99 at the same scores).
MAX_CHARS = 1000
MIN_EXAMPLES = 3  # of a label, to learn it


def text_of(title: str, description: str, names: Iterable[str | None] = ()) -> str:
    """What the model reads: the title twice (it says what the matter is) and the description's
    first `MAX_CHARS` characters, scrubbed of personal numbers and the citizen's name."""
    title, description = redact(title, names), redact(description, names)[:MAX_CHARS]
    return f"{title}。{title}。{description}" if title else description


def words_of(text: str) -> str:
    """jieba's content words of a text, space-joined (the word features' input)."""
    return " ".join(similarity.tokens(text))


# The last texts read, and their words: one classify asks up to four models about one text.
_cached_text = lru_cache(maxsize=64)(text_of)
_cached_words = lru_cache(maxsize=64)(words_of)


def read(
    title: str,
    description: str,
    names: Iterable[str | None] = (),
    context: str = "",
    *,
    cache: bool = True,
) -> tuple[str, str]:
    """The text a model reads (`text_of`, then the context) and its words. The context is
    segmented apart, so the report's own words are segmented once for every model. Training
    and batches read each text once, and pass `cache` False."""
    names = tuple(names)
    text_fn, words_fn = (_cached_text, _cached_words) if cache else (text_of, words_of)
    text = text_fn(title, description, names)
    if not context:
        return text, words_fn(text)
    context = redact(context, names)
    return f"{text}。{context}", f"{words_fn(text)} {words_fn(context)}"


def split_words(text: str) -> list[str]:
    """The word vectorizer's analyzer: words and adjacent word pairs (picklable by name)."""
    words = text.split()
    return [*words, *(f"{a} {b}" for a, b in pairwise(words))]


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """The two vectorizers every model is fitted with (see the module docstring)."""
    chars = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, max_df=0.9
    )
    words = TfidfVectorizer(
        analyzer=split_words, sublinear_tf=True, min_df=2, max_df=0.9, lowercase=False
    )
    return chars, words


_CHAR_GRAMS = _vectorizers()[0].build_analyzer()

# Every loaded model's terms, numbered once for the process (character n-grams and words
# apart: they are different features), so that a text's terms are looked up once for every
# model asked about it (one classify asks up to four) and each model maps those numbers to
# its own features with one array index. Numbers are only ever added.
_CHAR_IDS: dict[str, int] = {}
_WORD_IDS: dict[str, int] = {}


def _numbered(counts: Counter[str], ids: dict[str, int]) -> tuple[np.ndarray[Any, Any], ...]:
    """The counted terms' numbers (those some model knows) and their counts."""
    found = np.fromiter(map(ids.get, counts.keys(), repeat(-1)), dtype=np.int64, count=len(counts))
    n = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    known = found >= 0
    return found[known], n[known]


# Keyed by the numbering's size too: a model loaded since may know more of the text's terms.
@lru_cache(maxsize=64)
def _char_terms(text: str, known: int) -> tuple[np.ndarray[Any, Any], ...]:
    return _numbered(Counter(_CHAR_GRAMS(text)), _CHAR_IDS)


@lru_cache(maxsize=64)
def _word_terms(words: str, known: int) -> tuple[np.ndarray[Any, Any], ...]:
    return _numbered(Counter(split_words(words)), _WORD_IDS)


def _lookup(vocabulary: dict[str, int], ids: dict[str, int]) -> np.ndarray[Any, Any]:
    """A model's map from the process's term numbers to its feature indices (-1: not one)."""
    numbers = [ids.setdefault(term, len(ids)) for term in vocabulary]
    lookup = np.full(max(numbers, default=-1) + 1, -1, dtype=np.int64)
    lookup[numbers] = list(vocabulary.values())
    return lookup


Vector = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]  # a text's features: indices, values


@dataclass
class CategoryModel:
    """A trained suggestion model. `suggest` takes about a millisecond on one core."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    labels: tuple[str, ...]
    names: np.ndarray[Any, Any]  # feature index → the term (character n-gram or word)
    weights: np.ndarray[Any, Any]  # the final SVM's weights: class × feature
    intercepts: np.ndarray[Any, Any]  # its intercepts, per class
    sigmoid: np.ndarray[Any, Any]  # Platt scaling per class: rows a, b; p ∝ 1/(1+exp(a·f+b))
    info: dict[str, Any] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        # What is rebuilt on first use stays out of the stored file.
        return {k: v for k, v in self.__dict__.items() if k != "_tables"}

    def features(self, texts: Sequence[str], words: Sequence[str] | None = None) -> sp.csr_matrix:
        """The texts' features as scikit-learn computes them (training, batch prediction)."""
        words = words if words is not None else [words_of(t) for t in texts]
        return sp.hstack([self.chars.transform(texts), self.words.transform(words)], format="csr")

    @cached_property
    def _tables(self) -> tuple[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int], ...]:
        """Per block (characters, words): the term numbers' feature indices, the idf, the
        block's first feature."""
        return (
            (_lookup(self.chars.vocabulary_, _CHAR_IDS), np.asarray(self.chars.idf_), 0),
            (
                _lookup(self.words.vocabulary_, _WORD_IDS),
                np.asarray(self.words.idf_),
                len(self.chars.vocabulary_),
            ),
        )

    def vector(self, text: str, words: str) -> Vector:
        """One text's features as `features` computes them (sublinear tf × idf, each block
        scaled to unit length), without scikit-learn's per-call checks and from terms counted
        and looked up once for every model: a few times faster for one report."""
        tables = self._tables
        terms = (_char_terms(text, len(_CHAR_IDS)), _word_terms(words, len(_WORD_IDS)))
        indices, values = [], []
        for (numbers, counts), (lookup, idf, offset) in zip(terms, tables, strict=True):
            mine = numbers < len(lookup)
            j = lookup[numbers[mine]]
            known = j >= 0
            if not known.any():
                continue
            j = j[known]
            v = (np.log(counts[mine][known]) + 1.0) * idf[j]
            indices.append(j + offset)
            values.append(v / np.sqrt(v @ v))
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(indices), np.concatenate(values)

    def suggest(
        self,
        title: str,
        description: str,
        *,
        names: Iterable[str | None] = (),
        top: int = TOP,
        explain: int = TOP,
        context: str = "",
    ) -> list[Candidate]:
        """The `top` most probable labels, best first, the first `explain` with their
        reasons."""
        vector = self.vector(*read(title, description, names, context))
        scores = self.weights[:, vector[0]] @ vector[1] + self.intercepts
        return self._candidates(vector, self.calibrated(scores[np.newaxis])[0], top, explain)

    def suggest_many(
        self, texts: Sequence[tuple[str, str]], *, top: int = TOP, contexts: Sequence[str] = ()
    ) -> list[list[Candidate]]:
        """`suggest` for many reports at once (batch prediction)."""
        contexts = contexts or [""] * len(texts)
        read_ = [
            read(t, d, context=c, cache=False) for (t, d), c in zip(texts, contexts, strict=True)
        ]
        x = self.features([t for t, _ in read_], [w for _, w in read_])
        probabilities = self.probabilities(x)
        rows = [(x.indices[a:b], x.data[a:b]) for a, b in pairwise(x.indptr)]
        return [self._candidates(rows[i], probabilities[i], top, top) for i in range(len(rows))]

    def probabilities(self, x: sp.csr_matrix) -> np.ndarray[Any, Any]:
        """Calibrated probabilities of the rows of features `x`."""
        return self.calibrated(np.asarray(x @ self.weights.T) + self.intercepts)

    def calibrated(self, scores: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Calibrated probabilities of the SVM's scores (rows), computed as
        `CalibratedClassifierCV.predict_proba` does (one-vs-rest sigmoids, normalised) without
        its per-call checks: a tenth of the time."""
        if len(self.labels) == 2:
            p = 1.0 / (1.0 + np.exp(self.sigmoid[0, 0] * scores[:, 1] + self.sigmoid[1, 0]))
            return np.column_stack([1.0 - p, p])
        p = 1.0 / (1.0 + np.exp(self.sigmoid[0] * scores + self.sigmoid[1]))
        total = p.sum(axis=1, keepdims=True)
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / len(self.labels))

    def _candidates(
        self, vector: Vector, probabilities: np.ndarray[Any, Any], top: int, explain: int
    ) -> list[Candidate]:
        order = np.argsort(-probabilities)[:top]
        return [
            Candidate(
                self.labels[i],
                round(float(probabilities[i]), 4),
                self._reasons(vector, int(i)) if rank < explain else (),
            )
            for rank, i in enumerate(order)
        ]

    def _reasons(self, vector: Vector, label: int) -> tuple[str, ...]:
        """The text's terms with the largest tf-idf × weight for the category: words and
        character n-grams, a shorter term dropped when a chosen longer one contains it, and
        n-grams across the joins of title, description and context left out."""
        indices, values = vector
        contribution = values * self.weights[label, indices]
        chosen: list[tuple[str, float]] = []
        for k in np.argsort(-contribution):
            if contribution[k] <= 0 or len(chosen) == REASONS:
                break
            term = str(self.names[indices[k]]).replace(" ", "")
            if len(term) < 2 or "。" in term or any(term in t or t in term for t, _ in chosen):
                continue
            chosen.append((term, float(contribution[k])))
        return tuple(f"“{t}”+{w:.2f}" for t, w in chosen)


def trainable(examples: Sequence[Example]) -> tuple[list[Example], list[str]]:
    """The examples of the labels with `MIN_EXAMPLES` or more, and the labels left out (too
    rare to learn: a unit that led twice, a kind nobody uses). The urgency, kind and lead-unit
    models train on these; the category model refuses scarce categories instead."""
    counts = Counter(e.category for e in examples)
    kept = [e for e in examples if counts[e.category] >= MIN_EXAMPLES]
    return kept, sorted(label for label, n in counts.items() if n < MIN_EXAMPLES)


def fit(examples: Sequence[Example], *, progress: Progress | None = None) -> CategoryModel:
    """Train on the examples (at least two categories, each with three examples or more)."""
    counts = Counter(e.category for e in examples)
    if len(counts) < 2:
        raise ValueError("training needs at least two categories")
    scarce = sorted(c for c, n in counts.items() if n < 3)
    if scarce:
        raise ValueError(f"each category needs three examples or more; too few: {scarce[:5]}")
    started = time.perf_counter()
    texts, words = [], []
    for i, e in enumerate(examples):
        # Not through the cache: each text is segmented once.
        text, text_words = read(e.title, e.description, context=e.context, cache=False)
        texts.append(text)
        words.append(text_words)
        if progress and (i % 200 == 0 or i == len(examples) - 1):
            progress("分词", i + 1, len(examples))
    chars, vocabulary = _vectorizers()
    x = sp.hstack([chars.fit_transform(texts), vocabulary.fit_transform(words)], format="csr")
    if progress:
        progress("训练", 0, 1)
    folds = min(3, min(counts.values()))
    classifier = CalibratedClassifierCV(
        LinearSVC(C=C, class_weight="balanced"), method="sigmoid", cv=folds, ensemble=False
    )
    classifier.fit(x, [e.category for e in examples])
    if progress:
        progress("训练", 1, 1)
    calibrated = classifier.calibrated_classifiers_[0]
    svm = calibrated.estimator
    binary = len(classifier.classes_) == 2
    weights = np.vstack([-svm.coef_, svm.coef_]) if binary else svm.coef_
    intercepts = np.concatenate([-svm.intercept_, svm.intercept_]) if binary else svm.intercept_
    sigmoid = np.array(
        [[c.a_ for c in calibrated.calibrators], [c.b_ for c in calibrated.calibrators]]
    )
    names = np.concatenate([chars.get_feature_names_out(), vocabulary.get_feature_names_out()])
    model = CategoryModel(
        chars=chars,
        words=vocabulary,
        labels=tuple(str(c) for c in classifier.classes_),
        names=names,
        weights=np.asarray(weights, dtype=np.float64),
        intercepts=np.asarray(intercepts, dtype=np.float64),
        sigmoid=sigmoid.astype(np.float64),
        info={
            "examples": len(examples),
            "categories": len(counts),
            "features": int(x.shape[1]),
            "train_seconds": round(time.perf_counter() - started, 2),
        },
    )
    # The fast paths must give scikit-learn's features and probabilities (a guard against a
    # changed library).
    if not np.allclose(model.probabilities(x[:20]), classifier.predict_proba(x[:20]), atol=1e-6):
        raise RuntimeError("calibrated probabilities differ from scikit-learn's")
    for i in range(min(20, len(texts))):
        indices, values = model.vector(texts[i], words[i])
        row = sp.csr_matrix((values, indices, [0, len(indices)]), shape=(1, x.shape[1]))
        if abs(row - x[i]).max() > 1e-9:
            raise RuntimeError("features differ from scikit-learn's")
    return model


def stratified_split(
    examples: Sequence[Example], *, holdout: float = HOLDOUT, seed: int = SEED
) -> tuple[list[Example], list[Example]]:
    """A fixed, seeded split: `holdout` of each category held out (at least one), the rest to
    train on; never so many that fewer than `MIN_EXAMPLES` are left to learn the category
    from (a category of three is trained on, not evaluated)."""
    by_category: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_category[example.category].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    test: list[Example] = []
    for category in sorted(by_category):
        members = by_category[category]
        rng.shuffle(members)
        n = max(round(len(members) * holdout), 1) if holdout > 0 else 0
        n = max(0, min(n, len(members) - MIN_EXAMPLES))
        test.extend(members[:n])
        train.extend(members[n:])
    return train, test


def scores(truth: Sequence[str], ranked: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-category precision/recall/F1 and top-3 accuracy of ranked
    suggestions (an empty ranking is no suggestion: wrong, and counted as not covered)."""
    labels = sorted(set(truth))
    first = [r[0] if r else None for r in ranked]
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(p == label and t == label for p, t in zip(first, truth, strict=True))
        fp = sum(p == label and t != label for p, t in zip(first, truth, strict=True))
        fn = sum(p != label and t == label for p, t in zip(first, truth, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    n = len(truth)
    return {
        "n": n,
        "accuracy": round(sum(p == t for p, t in zip(first, truth, strict=True)) / n, 4),
        "macro_f1": round(sum(v["f1"] for v in per.values()) / len(per), 4),
        "top3_accuracy": round(sum(t in r[:3] for r, t in zip(ranked, truth, strict=True)) / n, 4),
        "covered": round(sum(p is not None for p in first) / n, 4),
        "per_category": per,
    }


def latency(timings: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of per-suggestion timings (seconds), in milliseconds."""
    ordered = sorted(timings)

    def pct(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def evaluate(model: CategoryModel, examples: Sequence[Example]) -> dict[str, Any]:
    """The model's figures on held-out examples, one suggestion at a time (as operators get
    them), with its latency."""
    ranked, timings = [], []
    for e in examples:
        started = time.perf_counter()
        candidates = model.suggest(e.title, e.description, context=e.context)
        timings.append(time.perf_counter() - started)
        ranked.append([c.category for c in candidates])
    return {**scores([e.category for e in examples], ranked), **latency(timings)}


def train(
    examples: Sequence[Example],
    *,
    holdout: float = HOLDOUT,
    seed: int = SEED,
    progress: Progress | None = None,
) -> tuple[CategoryModel, dict[str, Any]]:
    """Evaluate on a seeded stratified hold-out, then train the model that is kept on all the
    examples. Returns the model and its evaluation (the figures of the hold-out model)."""
    train_part, test_part = stratified_split(examples, holdout=holdout, seed=seed)
    evaluation: dict[str, Any] = {"holdout": holdout, "seed": seed}
    if test_part:
        held_out = fit(train_part, progress=progress)
        if progress:
            progress("评估", 0, len(test_part))
        evaluation |= evaluate(held_out, test_part)
        if progress:
            progress("评估", len(test_part), len(test_part))
        evaluation["train_seconds"] = held_out.info["train_seconds"]
        evaluation["trained_on"] = len(train_part)
    model = fit(examples, progress=progress)
    model.info["evaluation"] = {k: v for k, v in evaluation.items() if k != "per_category"}
    return model, evaluation
