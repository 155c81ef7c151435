"""A report against a real city's directory: thousands of areas and categories, indexed vs whole.

Every report is placed against the gazetteer — the area its address names
(`domain.resolve_area`), the boundary holding its point (`domain.area_at`), the words it is
compared by with place names cut out (`similarity.terms`) — and, when a channel leaves the
category to the classification help, weighed against the taxonomy's keywords
(`classify.suggest_category`). The demo city has 28 areas and 36 categories; a real one has
thousands of each.

Placing: a synthetic city of `BENCH_GAZETTEER_AREAS` (default 5,000) communities under 16
districts and 320 streets, each community a 24-point ring on a grid and a name with an alias;
the demo city's report texts placed there, each with one community's name in its address and a
point inside it. Milliseconds per report with the rules handed the whole gazetteer (as before
intake/gazetteer.py) beside the same rules handed what the index finds; both answer the same,
which the bench checks.

Classifying: a synthetic catalogue of `BENCH_CATALOGUE_CATEGORIES` (default 2,000) categories
in three levels, each with two keywords of its own; the demo texts weighed against it with the
tree indexed once (`classify.Taxonomy`, as the directory caches it) beside the index built for
every report (the work each report did over the whole tree before the index).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable

from intake import classify, domain, similarity
from intake.domain import AreaName, Boundary
from intake.gazetteer import Gazetteer
from routing import domain as routing_domain
from routing.domain import CatalogueRule
from routing.reference import DirectoryView, by_category
from services import demo
from tests.bench.figures import Figure

COMMUNITIES = int(os.environ.get("BENCH_GAZETTEER_AREAS", "5000"))
CATEGORIES = int(os.environ.get("BENCH_CATALOGUE_CATEGORIES", "2000"))
RULES = int(os.environ.get("BENCH_CATALOGUE_RULES", "10000"))
REPORTS = int(os.environ.get("BENCH_GAZETTEER_REPORTS", "300"))
SIDE = 0.004  # a community's square, in degrees (about 400 m)
CHARACTERS = (
    "安宁和平康乐兴华光明新阳东西南北中文化建设丰台海淀朝阳花园景湖山河桥路港湾翠绿金银星月春秋"
)

Report = tuple[str, str, float, float]  # text, address, longitude, latitude


def _ring(west: float, south: float) -> tuple[tuple[float, float], ...]:
    """A 24-point ring inside the square at (west, south): boundaries are polygons, not boxes."""
    centre, radius = (west + SIDE / 2, south + SIDE / 2), SIDE / 2 * 0.95
    return tuple(
        (
            centre[0] + radius * math.cos(2 * math.pi * k / 24),
            centre[1] + radius * math.sin(2 * math.pi * k / 24),
        )
        for k in range(24)
    )


def synthetic_city(communities: int) -> tuple[Gazetteer, list[tuple[AreaName, Boundary]]]:
    """Districts, streets and `communities` communities with distinct names and aliases."""
    rng = random.Random(12345)
    taken: set[str] = set()

    def name(suffix: str) -> str:
        while True:
            stem = "".join(rng.choice(CHARACTERS) for _ in range(rng.choice((2, 3))))
            if stem + suffix not in taken:
                taken.add(stem + suffix)
                return stem + suffix

    areas = [AreaName(f"D{d:02d}", "district", (name("区"),)) for d in range(16)]
    areas += [AreaName(f"S{s:03d}", "street", (name("街道"),)) for s in range(320)]
    per_row = math.ceil(math.sqrt(communities))
    placed: list[tuple[AreaName, Boundary]] = []
    for c in range(communities):
        stem = name("社区")
        area = AreaName(f"C{c:05d}", "community", (stem, stem.removesuffix("社区") + "小区"))
        west, south = 120.0 + (c % per_row) * SIDE, 30.0 + (c // per_row) * SIDE
        placed.append((area, Boundary(area.code, "community", _ring(west, south))))
    areas += [area for area, _ in placed]
    return Gazetteer.of(areas, [boundary for _, boundary in placed]), placed


def demo_city() -> tuple[Gazetteer, list[tuple[AreaName, Boundary]]]:
    city = demo.city()
    areas = [
        AreaName(a["code"], a["level"], (a["name"], *a.get("aliases", []))) for a in city["areas"]
    ]
    boundaries = [
        Boundary(a["code"], a["level"], tuple((p[0], p[1]) for p in a["boundary"]))
        for a in city["areas"]
        if a.get("boundary")
    ]
    gazetteer = Gazetteer.of(areas, boundaries)
    by_code = {a.code: a for a in areas}
    return gazetteer, [(by_code[b.area_code], b) for b in boundaries]


def reports(places: list[tuple[AreaName, Boundary]]) -> list[Report]:
    """The demo tickets' texts, each at one area: its name in the address, a point inside."""
    rng = random.Random(7)
    texts = [f"{t['title']}\n{t['description']}" for t in demo.city()["tickets"]]
    made = []
    for n in range(REPORTS):
        area, boundary = rng.choice(places)
        lng = sum(p[0] for p in boundary.ring) / len(boundary.ring)
        lat = sum(p[1] for p in boundary.ring) / len(boundary.ring)
        made.append((texts[n % len(texts)], f"{area.names[0]}3号楼门口", lng, lat))
    return made


def _whole(g: Gazetteer, r: Report) -> tuple[object, ...]:
    text, address, lng, lat = r
    return (
        domain.resolve_area(address, g.areas),
        domain.area_at(lng, lat, g.boundaries),
        tuple(similarity.terms(text, g.places)),
    )


def _indexed(g: Gazetteer, r: Report) -> tuple[object, ...]:
    text, address, lng, lat = r
    return (
        domain.resolve_area(address, g.areas_named_in(address)),
        domain.area_at(lng, lat, g.boundaries_near(lng, lat)),
        domain.matter_terms(text, g),
    )


def _ms_per_report(
    place: Callable[[Gazetteer, Report], tuple[object, ...]], g: Gazetteer, made: list[Report]
) -> tuple[float, list[tuple[object, ...]]]:
    started = time.process_time()
    answers = [place(g, r) for r in made]
    return 1000 * (time.process_time() - started) / len(made), answers


def synthetic_catalogue(size: int) -> list[classify.CategoryNode]:
    """`size` categories: 20 top nodes, 10 below each, the rest as leaves below those."""
    rng = random.Random(2026)
    words = ["".join(rng.choice(CHARACTERS) for _ in range(2)) for _ in range(size * 2)]
    tops = [f"类{t:02d}" for t in range(20)]
    middles = [f"{top}/项{m:02d}" for top in tops for m in range(10)]
    leaves = [f"{middles[n % len(middles)]}/事{n:04d}" for n in range(size - 220)]
    return [
        classify.CategoryNode(path, (words[2 * n], words[2 * n + 1]))
        for n, path in enumerate([*tops, *middles, *leaves])
    ]


def _classifying(size: int) -> Figure:
    texts = [(t["title"], t["description"]) for t in demo.city()["tickets"]]
    nodes = synthetic_catalogue(size)
    tree = classify.Taxonomy.of(nodes)

    def us_per_report(taxonomy: list[classify.CategoryNode] | classify.Taxonomy) -> float:
        started = time.process_time()
        for n in range(REPORTS):
            classify.suggest_category(*texts[n % len(texts)], taxonomy)
        return 1e6 * (time.process_time() - started) / REPORTS

    return Figure(
        f"{len(tree.nodes):,} categories: keyword rules",
        us_per_report(tree),
        "µs/report",
        us_per_report(nodes),
        note="ceiling: the whole tree gathered for each report",
    )


def _dispatching(size: int) -> Figure:
    """routing's choice of a lead unit among `size` catalogue rules: one per category of the
    synthetic catalogue and area, with keywords on some, handed the rules of the ticket's
    category and those above it (the index) or the whole catalogue version."""
    rng = random.Random(99)
    paths = [node.path for node in synthetic_catalogue(CATEGORIES)]
    areas = [None, "D01", "S001", "C00001"]
    catalogue = [
        CatalogueRule(
            f"R{n:05d}",
            paths[n % len(paths)],
            areas[(n // len(paths)) % len(areas)],
            ("夜市",) if n % 7 == 0 else (),
            f"U{rng.randrange(500)}",
            (),
            1,
        )
        for n in range(size)
    ]
    view = DirectoryView({}, {}, {}, [], {1: catalogue}, by_category({1: catalogue}))
    chain = ["C00001", "S001", "D01"]
    tickets = [paths[rng.randrange(len(paths))] for _ in range(REPORTS)]

    def us_per_ticket(rules_for: Callable[[str], list[CatalogueRule]]) -> float:
        started = time.process_time()
        for category in tickets:
            routing_domain.lead_unit_for(
                category=category, text="夜市占道", chain=chain, rules=rules_for(category)
            )
        return 1e6 * (time.process_time() - started) / len(tickets)

    return Figure(
        f"{size:,} catalogue rules: lead unit chosen",
        us_per_ticket(lambda category: view.rules_for(1, category)),
        "µs/ticket",
        us_per_ticket(lambda category: view.rules_of(1)),
        note="ceiling: the whole catalogue version for each ticket",
    )


async def rows() -> list[Figure | str]:
    similarity.terms("预热分词词典")  # jieba's dictionary loads once, outside the figures
    out: list[Figure | str] = []
    indexed_ms: dict[str, float] = {}
    for label, (gazetteer, places) in (
        ("demo city", demo_city()),
        (f"{COMMUNITIES:,} communities", synthetic_city(COMMUNITIES)),
    ):
        made = reports(places)
        whole, expected = _ms_per_report(_whole, gazetteer, made)
        indexed, answers = _ms_per_report(_indexed, gazetteer, made)
        if answers != expected:
            raise AssertionError(f"{label}: the index placed reports differently")
        indexed_ms[label] = indexed
        out.append(
            Figure(
                f"{label} ({len(gazetteer.areas):,} areas): ms/report",
                indexed,
                "ms",
                whole,
                note="ceiling: the same rules handed the whole gazetteer",
            )
        )
    small, large = indexed_ms.values()
    out.append(Figure(f"indexed, {COMMUNITIES:,} communities vs the demo city", large, "ms", small))
    out.append(_classifying(CATEGORIES))
    out.append(_dispatching(RULES))
    return out
