"""intake on real citizen messages: category suggestion and same-matter detection vs baselines.

Evaluation data only, read at bench time from ../shared/data/real-complaints/ (never copied into
the repository; no row is printed):
- category suggestion: the TipDM 2020 C题 taxonomy (附件1, 一级/二级/三级) is loaded as the
  catalogue; the suggestion's top level is scored against the 一级分类 label of the 附件2 rows
  (3,685 detail-only rows + 495 rows with titles). Baseline: always the majority class.
- same matter: pairs of 附件3 messages; a pair is the same matter when the two share a title
  (留言主题), else not (all same-title pairs, and 20 different-title pairs per message drawn with
  a fixed seed, half of them from the same district). Our measure compares the message details
  (not the titles) against INTAKE_SAME_MATTER_THRESHOLD; baseline: identical details.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from intake import classify, similarity
from intake.config import settings
from tests.bench import Row

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-complaints"


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def classification() -> list[Row]:
    taxonomy = {
        "/".join(filter(None, (r["一级分类"], r["二级分类"], r["三级分类"])))
        for r in _read("tipdm2020c_fj1_label_taxonomy.csv")
    }
    nodes: set[str] = set()
    for path in taxonomy:
        parts = path.split("/")
        nodes.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    catalogue = classify.Taxonomy.of(classify.CategoryNode(p) for p in sorted(nodes))
    cases = [
        ("", r["留言详情"], r["一级分类"])
        for r in _read("tipdm2020c_fj2_detail_labeled_subset.csv")
    ]
    cases += [
        (r["留言主题"], r["留言详情"], r["一级分类"])
        for r in _read("tipdm2020c_fj2_sample_labeled.csv")
    ]
    majority, _ = Counter(label for _, _, label in cases).most_common(1)[0]
    hits = covered = 0
    for title, text, label in cases:
        category, *_ = classify.suggest_category(title, text, catalogue)
        if category:
            covered += 1
            hits += category.split("/", 1)[0] == label
    baseline = 100 * sum(label == majority for *_, label in cases) / len(cases)
    accuracy = 100 * hits / len(cases)
    answered = 100 * hits / covered if covered else 0.0
    return [
        Row(f"category: majority class ({len(cases)} msgs)", baseline, "% acc", 1.0),
        Row("category: keyword+catalogue suggestion", accuracy, "% acc", accuracy / baseline),
        Row(
            f"category: when it suggests ({100 * covered / len(cases):.0f}% of msgs)",
            answered,
            "% acc",
            answered / baseline,
        ),
    ]


DISTRICT = re.compile(r"[A-Z]\d*[区县市]")


def pairs() -> tuple[list[tuple[int, int, bool]], list[dict[str, str]]]:
    rows = [r for r in _read("tipdm2020c_fj3_full_likes.csv") if r["留言详情"].strip()]
    by_title: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_title[r["留言主题"].strip()].append(i)
    labelled = [(a, b, True) for group in by_title.values() for a, b in combinations(group, 2)]
    rng = random.Random(12345)
    by_district: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        m = DISTRICT.search(r["留言主题"] + r["留言详情"])
        by_district[m.group(0) if m else ""].append(i)
    district_of = {i: d for d, members in by_district.items() for i in members}
    for i, r in enumerate(rows):
        for k in range(20):
            pool = by_district[district_of[i]] if k % 2 == 0 else range(len(rows))
            j = rng.choice(list(pool))
            if rows[j]["留言主题"].strip() != r["留言主题"].strip():
                labelled.append((i, j, False))
    return labelled, rows


def _scores(predicted: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return 100 * precision, 100 * recall, 100 * f1


def duplicates(thresholds: tuple[float, ...] = ()) -> list[Row]:
    labelled, rows = pairs()
    terms = {
        i: similarity.terms(rows[i]["留言详情"])
        for i in {x for a, b, _ in labelled for x in (a, b)}
    }
    truth = [t for *_, t in labelled]
    exact = [rows[a]["留言详情"].strip() == rows[b]["留言详情"].strip() for a, b, _ in labelled]
    score = [similarity.similarity_of_terms(terms[a], terms[b]) for a, b, _ in labelled]
    threshold = settings().same_matter_threshold
    bp, br, bf = _scores(exact, truth)
    op, orr, of = _scores([s >= threshold for s in score], truth)
    out = [
        Row(
            f"same matter: exact text, precision ({sum(truth)}+/{len(truth) - sum(truth)}-)",
            bp,
            "%",
            1.0,
        ),
        Row("same matter: exact text, recall", br, "%", 1.0),
        Row("same matter: exact text, F1", bf, "%", 1.0),
        Row(f"same matter: jieba cosine ≥{threshold}, precision", op, "%", op / bp if bp else 0.0),
        Row(f"same matter: jieba cosine ≥{threshold}, recall", orr, "%", orr / br if br else 0.0),
        Row(f"same matter: jieba cosine ≥{threshold}, F1", of, "%", of / bf if bf else 0.0),
    ]
    for t in thresholds:
        p, r, f = _scores([s >= t for s in score], truth)
        out.append(
            Row(
                f"  sweep ≥{t}: precision {p:.1f} recall {r:.1f}, F1", f, "%", f / bf if bf else 0.0
            )
        )
    return out


async def rows() -> list[Row]:
    if not DATA.is_dir():
        print(f"  (skipped: {DATA} not found; the real-complaints data is evaluation-only)")
        return []
    return [*classification(), *duplicates((0.2, 0.3, 0.4, 0.5, 0.6))]
