"""Urgency and kind learned like the category (hand-written examples, no real messages): the
model pre-fills above the confidence threshold and the rules answer below it or without one,
an emergency word is never overruled; labelled CSV columns train them; scheduled retraining's
switching rule."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from intake import classify, cli, examples, learning, modelstore, training
from tests.intake.test_learning import TEXTS

# Kinds said without the rules' cue words (咨询, 请问, 建议 …), so only a model can tell them.
KINDS = {
    "consultation": [
        ("公积金提取", "想了解公积金提取要带哪些证件"),
        ("居住证", "居住证续签去哪个窗口"),
        ("社保转移", "外地社保转到本市的手续流程"),
        ("落户条件", "想知道人才落户需要满足的条件"),
        ("医保报销", "异地就医医保报销比例是多少"),
        ("营业执照", "个体户营业执照网上能不能办"),
    ],
    "complaint": [
        ("噪音扰民", "楼下饭店油烟噪音扰民，多次反映没人管"),
        ("乱收费", "物业乱收停车费，态度恶劣"),
        ("服务差", "窗口工作人员态度恶劣，推诿扯皮"),
        ("拖着不办", "反映的问题拖了三个月没人处理"),
        ("油烟", "烧烤店油烟直排，熏得没法开窗"),
        ("扰民", "广场舞音响太大声，每天晚上扰民"),
    ],
    "suggestion": [
        ("增加班次", "早高峰公交车太挤，多开几个班次会好很多"),
        ("设置路灯", "小区后面的小路晚上太黑，装几盏路灯就好了"),
        ("增设座椅", "公园里休息的地方太少，老人走累了没处坐"),
        ("延长开放", "图书馆周末晚上多开两个小时更方便上班族"),
        ("设减速带", "学校门口车速太快，画个斑马线装个减速带更安全"),
        ("增加垃圾桶", "步行街上垃圾桶太少，多放几个就不会乱扔"),
    ],
}
# An urgency model that never saw an emergency: it says ordinary or complex, sure of itself.
URGENCIES = {
    "ordinary": [t for rows in TEXTS.values() for t in rows[:4]],
    "complex": [
        ("老小区改造", "老旧小区改造涉及住建、规划、街道，十年了还没有定论"),
        ("产权纠纷", "房屋产权纠纷牵涉开发商和银行，各部门互相推诿"),
        ("拆迁遗留", "拆迁安置房至今没有办下房产证，涉及区里和市里"),
        ("土地确权", "村里宅基地确权涉及国土、规划、乡镇，拖了很多年"),
        ("规划调整", "小区旁边规划变更，牵涉多个单位协调"),
        ("管网改造", "片区雨污管网改造需要水务、住建、交通一起协调"),
    ],
}


def _examples(labelled: dict[str, list[tuple[str, str]]]) -> list[learning.Example]:
    return [learning.Example(t, d, label) for label, rows in labelled.items() for t, d in rows]


@pytest.fixture(scope="module")
def kind_model() -> learning.CategoryModel:
    model = learning.fit(_examples(KINDS))
    model.info["version"] = "v0007"
    return model


@pytest.fixture(scope="module")
def urgency_model() -> learning.CategoryModel:
    return learning.fit(_examples(URGENCIES))


def test_a_sure_kind_model_prefills_the_kind_and_says_why(
    kind_model: learning.CategoryModel,
) -> None:
    models = classify.Models(kind=kind_model)
    s = classify.suggest(
        "提取公积金", "想了解公积金提取需要哪些证件", [], models, min_confidence=0.4
    )
    assert s.kind == "consultation" and s.kind_learned.source == "model"
    assert s.kind_learned.model_version == "v0007"
    top = s.kind_learned.top
    assert top[0].category == "consultation" and len(top) == 3
    assert top[0].probability >= top[1].probability >= top[2].probability
    assert any(r.startswith("模型v0007：咨询") for r in s.reasons)
    # The rules alone would call it a complaint: no cue word.
    assert classify.suggest("提取公积金", "想了解公积金提取需要哪些证件", []).kind == "complaint"


def test_an_unsure_model_leaves_the_kind_to_the_rules_but_still_shows_its_top_3(
    kind_model: learning.CategoryModel,
) -> None:
    models = classify.Models(kind=kind_model)
    s = classify.suggest("", "请问公交卡在哪里办理", [], models, min_confidence=1.01)
    assert s.kind == "consultation" and s.kind_learned.source == "keywords"
    assert len(s.kind_learned.top) == 3
    assert any("含“请问”" in r for r in s.reasons)


def test_an_emergency_word_is_never_overruled_by_the_urgency_model(
    urgency_model: learning.CategoryModel,
) -> None:
    models = classify.Models(urgency=urgency_model)
    s = classify.suggest("楼道着火", "楼道里着火了，有人被困", [], models, min_confidence=0.0)
    assert s.urgency == "emergency" and s.urgency_learned.top
    assert s.urgency_learned.top[0].category != "emergency"  # the model never saw one
    complex_ = classify.suggest(
        "旧改", "老旧小区改造涉及规划和街道，拖了好多年", [], models, min_confidence=0.0
    )
    assert complex_.urgency == "complex" and complex_.urgency_learned.source == "model"


def test_without_models_the_rules_answer_as_before() -> None:
    s = classify.suggest("", "请问燃气泄漏怎么办", [])
    assert (s.urgency, s.kind) == ("emergency", "consultation")
    assert s.urgency_learned == classify.Learned() and s.lead_unit.source == "none"


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


CHINESE_KIND = {"consultation": "咨询", "complaint": "投诉", "suggestion": "建议"}


def test_csv_urgency_and_kind_columns_label_their_models_in_either_language() -> None:
    rows = [
        {"title": t, "description": d, "category": "其他", "性质": CHINESE_KIND[k], "urgency": ""}
        for k, pairs in KINDS.items()
        for t, d in pairs
    ]
    rows[0]["urgency"] = "紧急"
    found = examples.labelled_csv(io.StringIO(_csv(rows)))
    assert len(found["category"]) == len(found["kind"]) == len(rows)
    assert {e.category for e in found["kind"]} == set(KINDS)
    assert [e.category for e in found["urgency"]] == ["emergency"]  # empty cells are no label
    rows[1]["性质"] = "抱怨"
    with pytest.raises(examples.BadFile, match="kind: unknown values 抱怨"):
        examples.labelled_csv(io.StringIO(_csv(rows)))


def test_train_stores_urgency_and_kind_beside_the_category_and_each_rolls_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"title": e.title, "description": e.description, "category": label, "kind": e.category}
        for e in _examples(KINDS) * 2
        for label in ["城乡建设/施工管理/施工扰民" if e.category == "complaint" else "其他"]
    ]
    file = tmp_path / "history.csv"
    file.write_text(_csv(rows), encoding="utf-8")
    data = ["--data-dir", str(tmp_path)]
    cli.main([*data, "train", "--from-csv", str(file)])
    out = capsys.readouterr().out
    assert "category v0001 in use" in out and "kind v0001 in use" in out
    assert "urgency" not in out  # the file has no urgency column
    kinds = modelstore.root(tmp_path, "kind")
    (stored,) = modelstore.versions(kinds)
    assert stored.evaluation["macro_f1"] > 0.5 and "p99_ms" in stored.evaluation
    assert stored.meta["labels"] == sorted(KINDS)
    cli.main([*data, "train", "--from-csv", str(file), "--target", "kind", "--use"])
    assert "kind v0002 in use" in capsys.readouterr().out
    assert len(modelstore.versions(modelstore.root(tmp_path))) == 1  # category untouched
    cli.main([*data, "models", "rollback", "--target", "kind"])
    cli.main([*data, "models", "list"])
    listed = capsys.readouterr().out
    assert "rolled back to v0001" in listed
    assert listed.index("kind:") < listed.index("* v0001", listed.index("kind:"))
    assert "lead_unit: none stored" in listed
    modelstore.forget()
    models = modelstore.all_in_use(tmp_path)
    assert models.kind is not None and models.kind.info["version"] == "v0001"
    assert models.urgency is None and models.category is not None


def test_scarce_labels_are_left_out_of_the_other_models_and_said() -> None:
    rows = [*_examples(KINDS), learning.Example("", "感谢社区工作人员", "praise")]
    model, evaluation = training.fit_target("kind", rows)
    assert "praise" not in model.labels and evaluation["left_out"] == ["praise"]
    with pytest.raises(ValueError, match="three examples"):
        training.fit_target("category", rows)


def test_a_new_version_beats_the_one_in_use_only_on_higher_held_out_figures() -> None:
    assert training.beats({"macro_f1": 0.81, "accuracy": 0.8}, {"macro_f1": 0.8, "accuracy": 0.9})
    assert training.beats({"macro_f1": 0.8, "accuracy": 0.91}, {"macro_f1": 0.8, "accuracy": 0.9})
    assert not training.beats(
        {"macro_f1": 0.8, "accuracy": 0.9}, {"macro_f1": 0.8, "accuracy": 0.9}
    )
    assert not training.beats({"macro_f1": 0.7}, {"macro_f1": 0.8})
    assert not training.beats({}, {"macro_f1": 0.1})  # nothing held out: no evidence
    assert training.beats({"macro_f1": 0.1}, {})


def test_a_label_with_three_examples_is_learned_though_none_can_be_held_out() -> None:
    suggestions = [e for e in _examples(KINDS) if e.category == "suggestion"][:3]
    rows = [e for e in _examples(KINDS) if e.category != "suggestion"] + suggestions
    model, evaluation = learning.train(rows)
    assert "suggestion" in model.labels
    assert "suggestion" not in evaluation["per_category"]  # all three were trained on
