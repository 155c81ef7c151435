"""Learned suggestions on small hand-written Chinese examples (no real messages): the model's
top 1 and reasons, the versioned store and rollback, the fallback to the keyword rules, the
keyword defects fixed, and the CLI's train / predict / models."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from intake import classify, cli, examples, learning, modelstore

WAGES = "劳动和社会保障/劳动关系/拖欠工资"
NOISE = "城乡建设/施工管理/施工扰民"
STALLS = "城乡建设/市容管理/占道经营"

TEXTS = {
    WAGES: [
        ("讨要工资", "公司拖欠我们三个月工资，老板一直不给，工人生活困难"),
        ("工地欠薪", "在工地干了半年，包工头拖欠工资至今未发"),
        ("工资被拖欠", "单位已经两个月没发工资了，请帮忙讨薪"),
        ("农民工工资", "农民工工资被拖欠，年底了还拿不到工钱"),
        ("拖欠工资", "离职后公司拒绝结算最后一个月的工资"),
        ("欠薪问题", "餐馆老板拖欠服务员工资，电话也不接"),
        ("工资未发", "物流公司拖欠司机工资和加班费"),
        ("要工资", "装修队拖欠工人工资，我们多次讨要无果"),
    ],
    NOISE: [
        ("夜间施工", "工地晚上十二点还在施工，噪音太大无法休息"),
        ("施工噪音", "附近楼盘凌晨打桩，施工噪音扰民严重"),
        ("工地扰民", "工地夜间施工，机器轰鸣影响孩子睡觉"),
        ("深夜施工", "深夜还有混凝土罐车作业，施工声音很吵"),
        ("噪音扰民", "道路改造工程夜里施工，噪音扰民"),
        ("施工太吵", "小区旁工地周末也施工，噪音持续一整天"),
        ("夜里打桩", "工地夜里打桩，整栋楼都能听到施工声"),
        ("施工时间", "工地不按规定时间施工，夜间噪音扰民"),
    ],
    STALLS: [
        ("摊贩占道", "早市摊贩占道经营，车辆无法通行"),
        ("占道摆摊", "路口小贩占道摆摊，堵住人行道"),
        ("流动摊贩", "学校门口流动摊贩占道经营，卫生很差"),
        ("夜市占道", "夜市摊位占用马路，行人只能走机动车道"),
        ("商贩占道", "菜市场外商贩占道经营，道路拥堵"),
        ("出店经营", "商铺出店经营，货物摆满人行道"),
        ("小贩摆摊", "地铁口小贩摆摊占道，出行不便"),
        ("占道经营", "水果摊占道经营，城管来了又回来"),
    ],
}


def _examples() -> list[learning.Example]:
    return [learning.Example(t, d, c) for c, rows in TEXTS.items() for t, d in rows]


@pytest.fixture(scope="module")
def model() -> learning.CategoryModel:
    return learning.fit(_examples())


def test_the_model_ranks_the_right_category_first_and_says_why(
    model: learning.CategoryModel,
) -> None:
    top = model.suggest("老板不发工资", "饭店老板拖欠了我两个月工资")
    assert top[0].category == WAGES
    assert len(top) == 3
    assert abs(sum(c.probability for c in top) - 1.0) < 1e-3  # three classes: all of them
    assert top[0].probability > top[1].probability
    assert any("工资" in reason for reason in top[0].reasons)
    noise = model.suggest("", "楼下工地晚上施工，噪音吵得睡不着")
    assert noise[0].category == NOISE


def test_a_phone_number_never_reaches_the_model() -> None:
    rows = [
        learning.Example(e.title, e.description + "，联系电话13912345678", e.category)
        for e in _examples()
    ]
    model = learning.fit(rows)
    assert not any("1391" in str(name) or "5678" in str(name) for name in model.names)


def test_training_needs_two_categories_with_three_examples_each() -> None:
    with pytest.raises(ValueError, match="two categories"):
        learning.fit([learning.Example("", "工资", WAGES)] * 5)
    with pytest.raises(ValueError, match="three examples"):
        learning.fit([*_examples(), learning.Example("", "路灯不亮", "城乡建设/路灯")])


def test_the_split_is_stratified_and_seeded() -> None:
    train, test = learning.stratified_split(_examples(), holdout=0.25, seed=1)
    assert sorted(e.category for e in test) == sorted([WAGES, NOISE, STALLS] * 2)
    assert len(train) == 18
    assert learning.stratified_split(_examples(), holdout=0.25, seed=1)[1] == test


def test_versions_are_stored_with_their_evaluation_and_roll_back(
    model: learning.CategoryModel, tmp_path: Path
) -> None:
    folder = modelstore.root(tmp_path)
    first = modelstore.save(folder, model, {"accuracy": 1.0}, source="a.csv")
    assert first == "v0001" and modelstore.current_name(folder) == first  # the first is used
    second = modelstore.save(folder, model, {"accuracy": 0.9}, source="b.csv")
    assert modelstore.current_name(folder) == first  # stored, not yet in use
    modelstore.choose(folder, second)
    listed = modelstore.versions(folder)
    assert [(v.name, v.in_use) for v in listed] == [(first, False), (second, True)]
    assert listed[1].evaluation == {"accuracy": 0.9} and listed[1].meta["source"] == "b.csv"
    assert modelstore.rollback(folder) == first and modelstore.current_name(folder) == first
    with pytest.raises(modelstore.UnknownVersion):
        modelstore.rollback(folder)
    with pytest.raises(modelstore.UnknownVersion):
        modelstore.choose(folder, "v0009")


def test_the_model_in_use_is_loaded_once_and_follows_the_pointer(
    model: learning.CategoryModel, tmp_path: Path
) -> None:
    modelstore.forget()
    assert modelstore.in_use(tmp_path) is None
    folder = modelstore.root(tmp_path)
    modelstore.save(folder, model, {}, source="x")
    modelstore.forget()
    loaded = modelstore.in_use(tmp_path)
    assert loaded is not None and loaded.info["version"] == "v0001"
    assert modelstore.in_use(tmp_path) is loaded  # cached
    modelstore.stop_using(folder)
    modelstore.forget()
    assert modelstore.in_use(tmp_path) is None


TAXONOMY = [
    classify.CategoryNode(p)
    for p in (
        "城乡建设",
        "城乡建设/施工管理",
        NOISE,
        "城乡建设/市容管理",
        STALLS,
        "劳动和社会保障",
        "劳动和社会保障/劳动关系",
        WAGES,
        "经济管理",
        "经济管理/其他",
        "经济管理/其他/其他",
    )
]


def test_a_sure_model_prefills_with_its_top_3_and_reasons(
    model: learning.CategoryModel,
) -> None:
    s = classify.suggest("拖欠工资", "公司拖欠三个月工资不发", TAXONOMY, model, min_confidence=0.5)
    assert s.source == "model" and s.category == WAGES
    assert s.top[0].category == WAGES and len(s.top) == 3
    assert "工资" in s.reasons[0]


def test_without_a_model_or_when_it_is_unsure_the_keyword_rules_answer(
    model: learning.CategoryModel,
) -> None:
    none = classify.suggest("工地夜间施工", "噪音扰民", TAXONOMY)
    assert none.source == "keywords" and none.top == []
    unsure = classify.suggest("工地夜间施工", "噪音扰民", TAXONOMY, model, min_confidence=1.01)
    assert unsure.source == "keywords" and unsure.top  # the model's ranking is still shown
    assert unsure.category == none.category
    assert "把握不足" in unsure.reasons[0]


def test_a_model_category_outside_the_taxonomy_is_not_suggested(
    model: learning.CategoryModel,
) -> None:
    s = classify.suggest("拖欠工资", "公司拖欠工资", [classify.CategoryNode(NOISE)], model)
    assert all(c.category == NOISE for c in s.top)


def test_a_node_named_other_is_not_a_keyword() -> None:
    s = classify.suggest("", "还有其他问题想反映一下", TAXONOMY)
    assert s.category is None or "其他" not in s.category
    assert "其他" not in classify.keywords_of(classify.CategoryNode("经济管理/其他/其他"))


def test_the_vocabulary_reaches_names_that_are_not_the_platforms_own() -> None:
    """劳动和社会保障 is not a name of the built-in vocabulary, but it is about 劳动保障."""
    assert "社保" in classify.keywords_of(classify.CategoryNode("劳动和社会保障"))
    assert "公交" in classify.keywords_of(classify.CategoryNode("交通运输/公交"))
    s = classify.suggest("", "单位不给交社保，也不签劳动合同", TAXONOMY)
    assert s.category is not None and s.category.startswith("劳动和社会保障")


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_examples_from_csv_take_a_path_or_its_levels_and_scrub_names() -> None:
    path = _csv(
        [{"title": "欠薪", "description": "我是张三，老板欠薪", "category": WAGES, "name": "张三"}]
    )
    (example,) = examples.from_csv(io.StringIO(path))
    assert example.category == WAGES and "张三" not in example.description
    levels = _csv([{"留言详情": "工地施工太吵", "一级分类": "城乡建设", "二级分类": "施工管理"}])
    assert examples.from_csv(io.StringIO(levels))[0].category == "城乡建设/施工管理"
    with pytest.raises(examples.BadFile):
        examples.from_csv(io.StringIO(_csv([{"title": "x", "category": WAGES}])))


def test_predict_writes_the_rows_with_top_3_suggestions_and_probabilities(
    model: learning.CategoryModel,
) -> None:
    given = _csv(
        [
            {"id": "1", "title": "欠薪", "description": "公司拖欠工资"},
            {"id": "2", "title": "", "description": "夜里工地施工噪音"},
        ]
    )
    out = io.StringIO()
    assert cli.predict(io.StringIO(given), out, model) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == [
        "id",
        "title",
        "description",
        "suggestion_1",
        "probability_1",
        "suggestion_2",
        "probability_2",
        "suggestion_3",
        "probability_3",
    ]
    assert rows[0]["suggestion_1"] == WAGES and rows[1]["suggestion_1"] == NOISE
    assert float(rows[0]["probability_1"]) >= float(rows[0]["probability_2"])


def test_the_commands_train_list_use_and_roll_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "history.csv"
    file.write_text(
        _csv(
            [
                {"title": e.title, "description": e.description, "category": e.category}
                for e in _examples() * 2
            ]
        ),
        encoding="utf-8",
    )
    data = ["--data-dir", str(tmp_path)]
    cli.main([*data, "train", "--from-csv", str(file)])
    cli.main([*data, "train", "--from-csv", str(file), "--use"])
    assert "v0002 in use" in capsys.readouterr().out
    cli.main([*data, "models", "rollback"])
    cli.main([*data, "models", "list"])
    listed = capsys.readouterr().out
    assert "rolled back to v0001" in listed and "* v0001" in listed and "macro-F1" in listed
    cli.main([*data, "predict", "--from-csv", str(file)])
    assert capsys.readouterr().out.splitlines()[0].endswith("suggestion_3,probability_3")


def test_same_matter_candidates_are_the_top_5_and_the_same_citizen_weighs_more() -> None:
    from intake import candidates, domain, similarity

    def matter(i: str, text: str, ref: str | None = None) -> domain.Matter:
        return domain.Matter(i, "c", "a", tuple(similarity.terms(text)), citizen_ref=ref)

    new = matter("", "小区门口早市摊贩占道经营，车辆无法通行", "me")
    olds = [
        matter("paraphrase", "东门每天早上小贩占道摆摊，堵住出入口", "other"),
        matter("mine", "早市开到很晚", "me"),  # 0.36: below 0.4, but the same citizen
        matter("theirs", "早市开到很晚", "other"),
        matter("another", "垃圾桶满了没人清运", "me"),
        *(matter(f"same{i}", "小区门口早市摊贩占道经营，车辆无法通行") for i in range(6)),
    ]
    found = candidates.ranked(new, olds, threshold=0.4, metres=300)
    assert len(found) == 5 and all(c.ticket_id.startswith("same") for c in found)
    found = candidates.ranked(new, olds[:4], threshold=0.4, metres=300)
    assert [(c.ticket_id, c.same_citizen) for c in found] == [("paraphrase", False), ("mine", True)]


class FixedModel:
    """A stand-in model whose probabilities are given."""

    def __init__(self, *ranked: tuple[str, float]) -> None:
        self.info: dict[str, object] = {"version": "v0007"}
        self.ranked = [classify.Candidate(c, p, ("“入学”+0.20",)) for c, p in ranked]

    def suggest(
        self, title: str, description: str, *, top: int = 3, explain: int = 3
    ) -> list[classify.Candidate]:
        return self.ranked[:top]


def test_when_no_leaf_is_sure_the_surest_parent_is_prefilled() -> None:
    nodes = [classify.CategoryNode(p) for p in ("教育", "教育/学前教育", "教育/义务教育", WAGES)]
    model = FixedModel(("教育/学前教育", 0.45), ("教育/义务教育", 0.35), (WAGES, 0.2))
    s = classify.suggest("孩子上学", "孩子明年上学需要什么材料", nodes, model)
    assert s.source == "model" and s.category == "教育" and s.score == 0.8
    assert s.model_version == "v0007" and "其下各类合计80%" in s.reasons[0]
    assert [c.category for c in s.top] == ["教育/学前教育", "教育/义务教育", WAGES]
    unsure = FixedModel(("教育/学前教育", 0.4), (WAGES, 0.35), ("教育/义务教育", 0.15))
    assert classify.suggest("孩子上学", "材料", nodes, unsure).source == "keywords"
