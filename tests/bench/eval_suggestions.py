"""`make eval`: intake's suggestions and same-matter measure on real citizen messages.

Evaluation data only, read from ../shared/data/real-complaints/ at run time: no row is copied,
printed or logged, and no model trained here is stored (the models live in memory for the run).

Category suggestion (the TipDM 2020 C题 task: 留言 → one of 7 一级分类):
- data: tipdm2020c_fj2_detail_labeled_subset.csv (details only) and
  tipdm2020c_fj2_sample_labeled.csv (with titles); a message whose detail appears twice is kept
  once (the two files overlap), so no test message is also a training message;
- split: `learning.stratified_split`, 80/20 per class, seed 12345, the same every run;
- the contest's taxonomy (附件1, three levels) is loaded as the platform's categories, as
  tests/bench/bench_intake.py does; a suggestion is scored by its first level;
- four methods side by side, each timed per suggestion (one message at a time; wall clock and
  this process's CPU time, which other load on a shared machine does not inflate): the keyword
  rules as they were (every node name a keyword, 其他 too; the vocabulary by exact name) and as
  they are (`classify.suggest_category`; names the only configured keywords), the plain
  baseline (character 1–3-gram TF-IDF + LinearSVC, scikit-learn defaults), and the platform's
  model (`intake.learning`); then the suggestion as intake gives it (`classify.suggest` with the
  model and INTAKE_SUGGESTION_MIN_CONFIDENCE): how often it pre-fills and how often that is
  right.

Kind (诉求类型), urgency and lead unit, and intake's whole suggestion:
- kind: the Fuzhou 12345 work orders (fuzhou12345_river_suqiu_*.csv, 性质: 投诉/咨询/建议/举报/
  求助), each content once, the same seeded stratified 80/20 split: the cue-word rules
  (`classify.suggest_kind`) beside the learned model;
- lead unit: the real files name no unit, but the 317 work orders name the district that
  handled each one (区域, 福州市直属 for the city's own departments): that routing label stands
  in for the unit, beside the rule "the district named in the text, else the city";
- urgency: no real labels exist; a stand-in model is trained on the category split's training
  messages labelled by the rules themselves, only so that the latency counts a third model;
- intake's combined suggestion (`classify.suggest` with all four models, as
  `POST /api/v1/classify` runs it): p50/p99 per message over the category test messages.

Same matter (附件3, tipdm2020c_fj3_full_likes.csv): every pair of messages with the same title
(留言主题) or the same details (留言详情) is a positive; 20 other messages per message drawn with a
fixed seed (every second one from the same district, A3区 …) with a different title and details
are the negatives. Measures compare the details only (no category, area or distance filter,
which in intake run first and remove most negatives): identical text, the measure before this
work (word + bigram cosine) and `similarity.similarity_of_terms` now, at their thresholds.
"""

from __future__ import annotations

import csv
import math
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from intake import classify, learning, similarity, training
from intake.config import settings

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-complaints"
SEED = 12345


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def taxonomy() -> classify.Taxonomy:
    """The contest's three-level taxonomy (附件1) as the platform's categories."""
    nodes: set[str] = set()
    for r in _read("tipdm2020c_fj1_label_taxonomy.csv"):
        parts = [p for p in (r["一级分类"], r["二级分类"], r["三级分类"]) if p]
        nodes.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    # Indexed once, as the platform's directory holds it (classify.Taxonomy).
    return classify.Taxonomy.of(classify.CategoryNode(p) for p in sorted(nodes))


def labelled() -> list[learning.Example]:
    """The labelled messages, each detail once (details-only rows first, then the sample's)."""
    seen: set[str] = set()
    found = []
    rows = [
        ("", r["留言详情"], r["一级分类"])
        for r in _read("tipdm2020c_fj2_detail_labeled_subset.csv")
    ]
    rows += [
        (r["留言主题"], r["留言详情"], r["一级分类"])
        for r in _read("tipdm2020c_fj2_sample_labeled.csv")
    ]
    for title, detail, label in rows:
        key = re.sub(r"\s+", "", detail)
        if key and key not in seen:
            seen.add(key)
            found.append(learning.Example(title.strip(), detail.strip(), label))
    return found


Ranker = Callable[[learning.Example], list[str]]


def _top_levels(paths: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(p.split("/", 1)[0] for p in paths))


def _measure(rank: Ranker, test: Sequence[learning.Example]) -> dict[str, Any]:
    """Scores, and latency per suggestion: wall clock, and CPU time (this process's), which
    a shared machine's other load does not inflate."""
    ranked, timings, cpu = [], [], []
    for example in test:
        started, started_cpu = time.perf_counter(), time.process_time()
        ranked.append(rank(example))
        cpu.append(time.process_time() - started_cpu)
        timings.append(time.perf_counter() - started)
    cpu_latency = learning.latency(cpu)
    return {
        **learning.scores([e.category for e in test], ranked),
        **learning.latency(timings),
        "cpu_p50_ms": cpu_latency["p50_ms"],
        "cpu_p99_ms": cpu_latency["p99_ms"],
    }


class Timer:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def keyword_ranker(nodes: classify.Taxonomy) -> Ranker:
    def rank(e: learning.Example) -> list[str]:
        best, _, _, alternatives = classify.suggest_category(e.title, e.description, nodes)
        return _top_levels([best, *(p for p, _ in alternatives)]) if best else []

    return rank


def keyword_ranker_before(nodes: classify.Taxonomy) -> Ranker:
    """The keyword rules before this work: every node's own name a keyword (其他 too), the
    vocabulary only for names equal to its keys; scored as `classify.suggest_category`."""
    keywords = {n.path: (n.name, *classify.KEYWORDS.get(n.name, ()), *n.keywords) for n in nodes}

    def rank(e: learning.Example) -> list[str]:
        own = {
            path: sum(
                2 * len(w) if w in e.title else len(w) if w in e.description else 0
                for w in dict.fromkeys(words)
            )
            for path, words in keywords.items()
        }
        scored = []
        for path in keywords:
            parts = path.split("/")
            total = sum(own.get("/".join(parts[: i + 1]), 0) for i in range(len(parts)))
            if total > 0:
                scored.append((total, -len(parts), path))
        scored.sort(reverse=True)
        return _top_levels([p for *_, p in scored[:4]])

    return rank


def baseline(train: Sequence[learning.Example]) -> tuple[Ranker, Timer]:
    """The plain baseline: character 1–3-gram TF-IDF + LinearSVC, library defaults."""
    with Timer() as timer:
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        x = vectorizer.fit_transform([f"{e.title}{e.description}" for e in train])
        svm = LinearSVC().fit(x, [e.category for e in train])
    labels = svm.classes_

    def rank(e: learning.Example) -> list[str]:
        scores = svm.decision_function(vectorizer.transform([f"{e.title}{e.description}"]))[0]
        return [str(labels[i]) for i in np.argsort(-scores)[:3]]

    return rank, timer


def platform_model(train: Sequence[learning.Example]) -> tuple[learning.CategoryModel, Timer]:
    with Timer() as timer:
        model = learning.fit(train)
    return model, timer


def _row(name: str, r: dict[str, Any], timer: Timer | None) -> str:
    trained = f"{timer.wall:6.1f} / {timer.cpu:5.1f}" if timer else f"{'—':>14}"
    return (
        f"  {name:<34} {100 * r['accuracy']:6.1f} {100 * r['macro_f1']:8.1f} "
        f"{100 * r['top3_accuracy']:6.1f} {100 * r['covered']:7.1f} "
        f"{r['p50_ms']:6.2f} / {r['cpu_p50_ms']:5.2f} {r['p99_ms']:6.2f} / {r['cpu_p99_ms']:5.2f} "
        f"{trained}"
    )


def classification() -> tuple[
    learning.CategoryModel,
    classify.Taxonomy,
    list[learning.Example],
    list[learning.Example],
]:
    examples = labelled()
    train, test = learning.stratified_split(examples, holdout=0.2, seed=SEED)
    counts = Counter(e.category for e in examples)
    print(
        f"category suggestion: {len(examples)} labelled messages ({len(train)} train / "
        f"{len(test)} test, stratified, seed {SEED}), {len(counts)} classes; "
        f"majority class {100 * counts.most_common(1)[0][1] / len(examples):.1f}%"
    )
    nodes = taxonomy()
    results: dict[str, tuple[dict[str, Any], Timer | None]] = {}
    results["keyword rules before (其他, names)"] = (
        _measure(keyword_ranker_before(nodes), test),
        None,
    )
    results["keyword rules (fixed)"] = (_measure(keyword_ranker(nodes), test), None)
    rank, timer = baseline(train)
    results["baseline: char TF-IDF + LinearSVC"] = (_measure(rank, test), timer)
    model, timer = platform_model(train)
    results["platform model (intake.learning)"] = (
        _measure(lambda e: [c.category for c in model.suggest(e.title, e.description)], test),
        timer,
    )
    print(
        f"  {'method':<34} {'acc %':>6} {'macro-F1':>8} {'top-3%':>6} {'covered':>7} "
        f"{'p50 ms wall/cpu':>14} {'p99 ms wall/cpu':>14} {'train s wall/cpu':>16}"
    )
    for name, (r, s) in results.items():
        print(_row(name, r, s))
    print("  per-class F1 (keywords before / fixed / baseline / model):")
    per = [r["per_category"] for r, _ in results.values()]
    for label in sorted(per[-1], key=lambda k: -per[-1][k]["support"]):
        print(
            f"    {label:<10} n={per[-1][label]['support']:<4} "
            + " / ".join(f"{100 * p[label]['f1']:5.1f}" for p in per)
        )
    wired(model, nodes, test)
    return model, nodes, train, test


def wired(
    model: learning.CategoryModel,
    nodes: classify.Taxonomy,
    test: Sequence[learning.Example],
) -> None:
    """The suggestion as intake gives it: the model pre-fills above the threshold, the keyword
    rules answer below it."""
    prefilled = right = keyword = keyword_right = 0
    timings, cpu = [], []
    minimum = settings().suggestion_min_confidence
    for e in test:
        started, started_cpu = time.perf_counter(), time.process_time()
        s = classify.suggest(e.title, e.description, nodes, model, min_confidence=minimum)
        cpu.append(time.process_time() - started_cpu)
        timings.append(time.perf_counter() - started)
        if s.category is None:
            continue
        hit = s.category.split("/", 1)[0] == e.category
        if s.source == "model":
            prefilled, right = prefilled + 1, right + hit
        else:
            keyword, keyword_right = keyword + 1, keyword_right + hit
    n = len(test)
    lat, lat_cpu = learning.latency(timings), learning.latency(cpu)
    print(
        f"  intake's suggestion (model ≥ {minimum}, else keywords): "
        f"model pre-fills {100 * prefilled / n:.1f}% of messages, right on "
        f"{100 * right / max(prefilled, 1):.1f}% of those; keyword rules fill "
        f"{100 * keyword / n:.1f}% (right on {100 * keyword_right / max(keyword, 1):.1f}%); "
        f"p50 {lat['p50_ms']} / {lat_cpu['p50_ms']} ms, p99 {lat['p99_ms']} / "
        f"{lat_cpu['p99_ms']} ms (wall / CPU)"
    )


DISTRICT = re.compile(r"[A-Z]\d*[区县市]")


def pairs() -> tuple[list[tuple[int, int, bool]], list[dict[str, str]]]:
    """附件3 pairs: same title or same details → positive; sampled others → negative."""
    rows = [r for r in _read("tipdm2020c_fj3_full_likes.csv") if r["留言详情"].strip()]
    title = [r["留言主题"].strip() for r in rows]
    detail = [re.sub(r"\s+", "", r["留言详情"]) for r in rows]
    groups: dict[str, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups["t:" + title[i]].append(i)
        groups["d:" + detail[i]].append(i)
    positive = {(min(a, b), max(a, b)) for g in groups.values() for a, b in combinations(g, 2)}
    rng = random.Random(SEED)
    by_district: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        m = DISTRICT.search(r["留言主题"] + r["留言详情"])
        by_district[m.group(0) if m else ""].append(i)
    district_of = {i: d for d, members in by_district.items() for i in members}
    negative = set()
    for i in range(len(rows)):
        for k in range(20):
            pool = by_district[district_of[i]] if k % 2 == 0 else range(len(rows))
            j = rng.choice(list(pool))
            if i != j and title[i] != title[j] and detail[i] != detail[j]:
                negative.add((min(i, j), max(i, j)))
    labelled_pairs = [(a, b, True) for a, b in sorted(positive)]
    labelled_pairs += [(a, b, False) for a, b in sorted(negative - positive)]
    return labelled_pairs, rows


def prf(predicted: Sequence[bool], truth: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return 100 * precision, 100 * recall, 100 * f1


def cosine_before(a: Sequence[str], b: Sequence[str]) -> float:
    """The measure before this work: the mean of the cosines over word counts and over the
    words' character bigrams (unweighted)."""

    def cos(x: Counter[str], y: Counter[str]) -> float:
        if not x or not y:
            return 0.0
        dot = sum(v * y[k] for k, v in x.items() if k in y)
        return dot / math.sqrt(sum(v * v for v in x.values()) * sum(v * v for v in y.values()))

    def grams(words: Sequence[str]) -> Counter[str]:
        return Counter(w[i : i + 2] for w in words for i in range(len(w) - 1))

    return 0.5 * cos(Counter(a), Counter(b)) + 0.5 * cos(grams(a), grams(b))


def same_matter() -> None:
    labelled_pairs, rows = pairs()
    truth = [t for *_, t in labelled_pairs]
    used = sorted({x for a, b, _ in labelled_pairs for x in (a, b)})
    started = time.perf_counter()
    terms = {i: similarity.terms(rows[i]["留言详情"]) for i in used}
    terms_ms = 1000 * (time.perf_counter() - started) / len(used)
    print(
        f"same matter: 附件3, {sum(truth)} positive pairs (same title or same details), "
        f"{len(truth) - sum(truth)} sampled negatives; details only, no category/area filter"
    )
    exact = [
        re.sub(r"\s+", "", rows[a]["留言详情"]) == re.sub(r"\s+", "", rows[b]["留言详情"])
        for a, b, _ in labelled_pairs
    ]
    before = [cosine_before(terms[a], terms[b]) for a, b, _ in labelled_pairs]
    timings = []
    now = []
    for a, b, _ in labelled_pairs:
        t0 = time.perf_counter()
        now.append(similarity.similarity_of_terms(terms[a], terms[b]))
        timings.append(time.perf_counter() - t0)
    configured = settings().same_matter_threshold
    print(f"  {'rule':<44} {'precision':>9} {'recall':>7} {'F1':>6}")
    print("  {:<44} {:9.1f} {:7.1f} {:6.1f}".format("identical details", *prf(exact, truth)))
    for t in (0.30, 0.60):
        print(
            "  {:<44} {:9.1f} {:7.1f} {:6.1f}".format(
                f"before: word+bigram cosine ≥ {t:.2f}", *prf([s >= t for s in before], truth)
            )
        )
    for t in sorted({0.3, 0.35, 0.4, 0.45, 0.5, configured, similarity.DEFAULT_THRESHOLD}):
        mark = " (default)" if t == similarity.DEFAULT_THRESHOLD else ""
        mark += " (INTAKE_SAME_MATTER_THRESHOLD)" if t == configured else ""
        print(
            "  {:<44} {:9.1f} {:7.1f} {:6.1f}".format(
                f"now: similarity ≥ {t:.2f}{mark}", *prf([s >= t for s in now], truth)
            )
        )
    print(
        f"  cost: terms {terms_ms:.2f} ms per report (once, stored); one comparison "
        f"p50 {1e6 * statistics.median(timings):.1f} µs (vectors cached per text)"
    )


KIND_OF = {"投诉": "complaint", "咨询": "consultation", "建议": "suggestion"}
KIND_OF |= {"举报": "report", "求助": "help"}


def work_orders() -> list[dict[str, str]]:
    """The Fuzhou work orders, each content once (the 317 are also among the 1,464), as
    title, content, kind and (for the 317) district."""
    seen: dict[str, dict[str, str]] = {}
    for r in _read("fuzhou12345_river_suqiu_317.csv"):
        key = re.sub(r"\s+", "", r["诉求件内容"])
        if key and key not in seen:
            seen[key] = {
                "title": r["标题"].strip(),
                "content": r["诉求件内容"].strip(),
                "kind": r["性质"],
                "district": r["区域"],
            }
    for r in _read("fuzhou12345_river_suqiu_1464.csv"):
        key = re.sub(r"\s+", "", r["投诉件内容"])
        if key and key not in seen:
            seen[key] = {
                "title": r["标题"].strip(),
                "content": r["投诉件内容"].strip(),
                "kind": r["性质"],
                "district": "",
            }
    return list(seen.values())


def _table(title: str, results: dict[str, tuple[dict[str, Any], Timer | None]]) -> None:
    print(title)
    print(
        f"  {'method':<34} {'acc %':>6} {'macro-F1':>8} {'top-3%':>6} {'covered':>7} "
        f"{'p50 ms wall/cpu':>14} {'p99 ms wall/cpu':>14} {'train s wall/cpu':>16}"
    )
    for name, (r, t) in results.items():
        print(_row(name, r, t))


def _per_class(results: dict[str, tuple[dict[str, Any], Timer | None]], width: int = 12) -> None:
    per = [r["per_category"] for r, _ in results.values()]
    print(f"  per-class F1 ({' / '.join(results)}):")
    for label in sorted(per[-1], key=lambda k: -per[-1][k]["support"]):
        print(
            f"    {label:<{width}} n={per[-1][label]['support']:<4} "
            + " / ".join(f"{100 * p[label]['f1']:5.1f}" for p in per)
        )


def kinds(orders: Sequence[dict[str, str]]) -> learning.CategoryModel:
    examples = [
        learning.Example(o["title"], o["content"], KIND_OF[o["kind"]])
        for o in orders
        if o["kind"] in KIND_OF
    ]
    train, test = learning.stratified_split(examples, holdout=0.2, seed=SEED)
    counts = Counter(e.category for e in examples)
    results: dict[str, tuple[dict[str, Any], Timer | None]] = {}
    results["cue-word rules"] = (
        _measure(lambda e: [classify.suggest_kind(f"{e.title}\n{e.description}")[0]], test),
        None,
    )
    with Timer() as timer:
        model, _ = training.fit_target("kind", train)
    results["platform model"] = (
        _measure(lambda e: [c.category for c in model.suggest(e.title, e.description)], test),
        timer,
    )
    minimum = settings().suggestion_min_confidence

    def wired(e: learning.Example) -> list[str]:
        rules = classify.suggest_kind(f"{e.title}\n{e.description}")
        return [classify.choose_learned(model, e.title, e.description, rules, {}, minimum)[0]]

    results[f"intake: model ≥ {minimum}, else rules"] = (_measure(wired, test), None)
    _table(
        f"kind: {len(examples)} Fuzhou 12345 work orders ({len(train)} train / {len(test)} "
        f"test, stratified, seed {SEED}), {len(counts)} kinds; majority "
        f"{100 * counts.most_common(1)[0][1] / len(examples):.1f}%",
        results,
    )
    _per_class(results)
    return model


def districts(orders: Sequence[dict[str, str]]) -> learning.CategoryModel:
    examples = [
        learning.Example(o["title"], o["content"], o["district"]) for o in orders if o["district"]
    ]
    kept, rare = learning.trainable(examples)
    train, test = learning.stratified_split(kept, holdout=0.2, seed=SEED)
    named = sorted({e.category for e in kept} - {"福州市直属"})

    def rule(e: learning.Example) -> list[str]:
        text = f"{e.title}{e.description}"
        return [next((d for d in named if d in text), "福州市直属")]

    results: dict[str, tuple[dict[str, Any], Timer | None]] = {}
    results["district named, else the city"] = (_measure(rule, test), None)
    with Timer() as timer:
        model, _ = training.fit_target("lead_unit", train)
    results["platform model"] = (
        _measure(lambda e: [c.category for c in model.suggest(e.title, e.description)], test),
        timer,
    )
    _table(
        f"lead unit (stand-in: the district that handled each of the 317 work orders): "
        f"{len(kept)} orders ({len(train)} train / {len(test)} test), "
        f"{len({e.category for e in kept})} districts; too rare to learn: {', '.join(rare)}",
        results,
    )
    return model


def combined(
    category: learning.CategoryModel,
    kind: learning.CategoryModel,
    unit: learning.CategoryModel,
    nodes: classify.Taxonomy,
    train: Sequence[learning.Example],
    test: Sequence[learning.Example],
) -> None:
    """intake's whole suggestion, as POST /api/v1/classify runs it, with four models."""
    urgency = learning.fit(
        [
            learning.Example(e.title, e.description, classify.suggest_urgency(e.description)[0])
            for e in train
        ]
    )
    models = classify.Models(category=category, urgency=urgency, kind=kind, lead_unit=unit)
    minimum = settings().suggestion_min_confidence
    timings, cpu = [], []
    prefilled = Counter[str]()
    for e in test:
        started, started_cpu = time.perf_counter(), time.process_time()
        s = classify.suggest(e.title, e.description, nodes, models, min_confidence=minimum)
        cpu.append(time.process_time() - started_cpu)
        timings.append(time.perf_counter() - started)
        prefilled.update(
            f
            for f, src in (("urgency", s.urgency_learned), ("kind", s.kind_learned))
            if src.source == "model"
        )
    lat, lat_cpu = learning.latency(timings), learning.latency(cpu)
    print(
        f"intake's combined suggestion (category + urgency + kind + lead unit, "
        f"min confidence {minimum}), {len(test)} messages one at a time: "
        f"p50 {lat['p50_ms']} / {lat_cpu['p50_ms']} ms, p99 {lat['p99_ms']} / "
        f"{lat_cpu['p99_ms']} ms (wall / CPU, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores); the kind model pre-fills "
        f"{100 * prefilled['kind'] / len(test):.1f}% (the others are the rules'), urgency "
        f"(stand-in) {100 * prefilled['urgency'] / len(test):.1f}%"
    )


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"make eval: {DATA} not found (the real-complaints data is evaluation-only)")
    category, nodes, train, test = classification()
    print()
    orders = work_orders()
    kind = kinds(orders)
    print()
    unit = districts(orders)
    print()
    combined(category, kind, unit, nodes, train, test)
    print()
    same_matter()


if __name__ == "__main__":
    main()
