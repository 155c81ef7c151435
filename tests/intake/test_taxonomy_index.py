"""The taxonomy's keyword index (classify.Taxonomy): the keyword rules weigh only the nodes whose
keywords a report holds, and score only their subtrees, and answer as when every node of the
tree was weighed — on generated reports over the demo city's tree with configured keywords,
a path given twice and nodes whose parent is missing."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from intake import classify
from intake.classify import CategoryNode, Taxonomy
from services import demo

NODES = (
    *(CategoryNode(path) for path in demo.city()["taxonomy"]),
    CategoryNode("城市管理/市容环境/占道经营", ("夜市", "摆摊")),  # given twice: the last counts
    CategoryNode("住房保障/物业服务/电梯故障", ("电梯", "困人")),  # no 住房保障 node above it
    CategoryNode("住房保障/物业服务", ("物业", "电梯")),
)
WORDS = sorted({word for node in NODES for word in classify.keywords_of(node)})
FILLER = ("小区门口", "，", "希望尽快处理", "每天晚上", "12号楼", "我们")
texts = st.lists(st.sampled_from([*WORDS, *FILLER]), max_size=10).map("".join)


def every_node_weighed(
    title: str, description: str, taxonomy: Iterable[CategoryNode]
) -> tuple[str | None, float, list[str], list[tuple[str, float]]]:
    """The keyword rules as they were before the index: every node weighed, every path scored."""
    nodes = {n.path: n for n in taxonomy}
    own = {path: classify._evidence(node, title, description) for path, node in nodes.items()}
    return classify.best_scored(own, nodes)


@settings(max_examples=500, deadline=None)
@given(title=texts, description=texts)
def test_the_index_suggests_what_weighing_every_node_did(title: str, description: str) -> None:
    tree = Taxonomy.of(NODES)
    assert classify.suggest_category(title, description, tree) == every_node_weighed(
        title, description, NODES
    )


def test_the_index_is_the_tree() -> None:
    tree = Taxonomy.of(NODES)
    assert Taxonomy.of(tree) is tree  # built once, where the directory is cached
    assert [n.path for n in tree].count("城市管理/市容环境/占道经营") == 1
    assert next(n for n in tree if n.path.endswith("占道经营")).keywords == ("夜市", "摆摊")
    assert tree.paths == {n.path for n in NODES}
    weighed = tree.evidence("电梯坏了", "")
    assert {"住房保障/物业服务/电梯故障", "住房保障/物业服务"} <= set(weighed)
    assert all(score > 0 for score, _ in weighed.values())  # only nodes with evidence
    assert "城市管理/市容环境/占道经营" not in weighed
    assert tree.under(["住房保障/物业服务"]) == [
        "住房保障/物业服务/电梯故障",
        "住房保障/物业服务",
    ]
