"""Pure rules: text similarity on Chinese examples, classification help, point in polygon and
each channel's native payload normalised (table-driven)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intake import channels, classify, domain, similarity
from shared.errors import InvalidInput

PLACES = ["阳光社区", "翠湖社区", "翠湖", "和平里社区", "和平里", "长安街道"]
THRESHOLD = similarity.DEFAULT_THRESHOLD


def score(a: str, b: str) -> float:
    return similarity.similarity_of_terms(similarity.terms(a, PLACES), similarity.terms(b, PLACES))


SAME = [
    (
        "小区门口早市摊贩占道经营，每天早上六点开始吆喝，车辆无法通行，希望城管部门尽快处理。",
        "阳光社区东门每天早上有小贩占道摆摊，堵住了出入口，上次反映过还是没人管。",
    ),
    (
        "翠湖社区8号楼电梯这个月坏了四次，物业维修不及时，老人上下楼困难。",
        "翠湖社区8号楼的电梯又坏了，物业说等厂家，已经停了三天。",
    ),
    (
        "工地夜间施工噪音太大，晚上十二点还在打桩，影响休息。",
        "半夜工地还在施工，打桩声音吵得睡不着觉。",
    ),
    (
        "和平里社区12号院暖气不热，室温只有十四度。",
        "12号院今年供暖温度不达标，家里只有十四五度，老人孩子冻得受不了。",
    ),
]
DIFFERENT = [
    (
        "小区门口早市摊贩占道经营，每天早上六点开始吆喝，车辆无法通行。",
        "阳光社区东门的垃圾桶已经满了好几天没人清运，味道很大。",
    ),
    (
        "翠湖社区8号楼电梯这个月坏了四次，物业维修不及时，老人上下楼困难。",
        "翠湖社区物业乱收停车费，没有任何收费公示。",
    ),
    (
        "工地夜间施工噪音太大，晚上十二点还在打桩，影响休息。",
        "工地渣土车不盖篷布，道路上全是泥土和扬尘。",
    ),
    ("和平里社区12号院暖气不热，室温只有十四度。", "12号院暖气管道漏水，楼道里全是水。"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_the_same_matter_in_other_words_matches(a: str, b: str) -> None:
    assert score(a, b) >= THRESHOLD


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_another_matter_at_the_same_place_does_not_match(a: str, b: str) -> None:
    assert score(a, b) < THRESHOLD


def test_terms_keep_hotline_words_whole_and_drop_places_and_stop_words() -> None:
    words = similarity.terms("阳光社区门口小贩占道经营，希望相关部门尽快处理", PLACES)
    assert words == ["摊贩", "占道"]  # 占道经营 and 占道 are one matter


def test_same_matter_needs_category_area_and_nearness() -> None:
    terms = tuple(similarity.terms(SAME[0][0], PLACES))
    a = domain.Matter("A", "城市管理/市容环境/占道经营", "BJ010101", terms, 120.12, 30.22, "c1")
    assert domain.same_matter(a, a, threshold=THRESHOLD, metres=300) == 1.0
    other_area = domain.Matter("B", a.category, "BJ010102", terms)
    assert domain.same_matter(a, other_area, threshold=THRESHOLD, metres=300) is None
    other_category = domain.Matter("C", "城市管理/市容环境/垃圾清运", "BJ010101", terms)
    assert domain.same_matter(a, other_category, threshold=THRESHOLD, metres=300) is None
    far = domain.Matter("D", a.category, "BJ010101", terms, 120.14, 30.22)  # ~1.9 km east
    assert domain.same_matter(a, far, threshold=THRESHOLD, metres=300) is None


def test_a_cluster_needs_three_different_people() -> None:
    def m(i: str, ref: str | None) -> domain.Matter:
        return domain.Matter(i, "c", "a", ("噪音",), citizen_ref=ref)

    assert not domain.is_cluster([m("1", "x"), m("2", "x"), m("3", "y")], 3)
    assert domain.is_cluster([m("1", "x"), m("2", "y"), m("3", None)], 3)


TAXONOMY = [
    classify.CategoryNode(p)
    for p in json.loads(
        (Path(__file__).parents[2] / "services" / "demo_city.json").read_text("utf-8")
    )["taxonomy"]
]


@pytest.mark.parametrize(
    ("title", "text", "category", "urgency", "kind"),
    [
        (
            "早市摊贩占道",
            "小区门口早市摊贩占道经营，车辆无法通行",
            "城市管理/市容环境/占道经营",
            "ordinary",
            "complaint",
        ),
        (
            "楼道里有煤气味",
            "单元楼道里煤气味很重，怀疑燃气泄漏，请马上派人",
            "公共服务/水电气/燃气",
            "emergency",
            "complaint",
        ),
        (
            "电梯困人",
            "8号楼电梯停在两层之间，里面困着一位老人，请求救援",
            "城乡建设/物业管理/物业服务",
            "emergency",
            "help",
        ),
        (
            "孩子入学",
            "请问孩子明年上小学，入学登记需要什么材料？",
            "教育/义务教育",
            "ordinary",
            "consultation",
        ),
        (
            "工资被拖欠",
            "在工地干了三个月，老板拖欠工资不给",
            "劳动保障/拖欠薪资",
            "ordinary",
            "complaint",
        ),
        (
            "健身房跑路",
            "办了预付卡的健身房突然关门，要求退款",
            "市场监管/消费维权/预付卡",
            "ordinary",
            "complaint",
        ),
        ("举报违建", "邻居在楼顶私搭乱建一间房", "城市管理/违法建设", "ordinary", "report"),
    ],
)
def test_suggestion_names_category_urgency_kind_and_why(
    title: str, text: str, category: str, urgency: str, kind: str
) -> None:
    s = classify.suggest(title, text, TAXONOMY)
    assert (s.category, s.urgency, s.kind) == (category, urgency, kind)
    assert s.reasons and all("“" in r for r in s.reasons)


def test_no_keyword_no_category_suggestion() -> None:
    assert classify.suggest("你好", "今天天气不错", TAXONOMY).category is None


def test_point_in_polygon_picks_the_deepest_area() -> None:
    boxes = [
        domain.Boundary("S", "street", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))),
        domain.Boundary("C", "community", ((0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (0.0, 5.0))),
    ]
    assert domain.area_at(2, 2, boxes) == "C"
    assert domain.area_at(7, 7, boxes) == "S"
    assert domain.area_at(11, 2, boxes) is None


CHANNEL_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "phone",
        {
            "call_id": "CALL-20261123-0001",
            "caller_number": "138 0013 5678",
            "recording_ref": "rec://2026/11/23/0001.wav",
            "operator_id": "OP-07",
            "caller_name": "王先生",
            "kind": "complaint",
            "category": "城市管理/市容环境/占道经营",
            "title": "早市摊贩占道经营",
            "content": "小区门口早市摊贩占道经营，车辆无法通行。",
            "address": "江北区长安街道阳光社区东门",
        },
        {
            "channel": "phone",
            "title": "早市摊贩占道经营",
            "citizen": {"name": "王先生", "phone": "13800135678", "anonymous": False},
        },
        {"call_id": "CALL-20261123-0001", "operator_id": "OP-07"},
    ),
    (
        "web",
        {
            "form_id": "WEB-88",
            "phone": "+86 139-0000-1111",
            "title": "小区垃圾无人清运",
            "content": "和平里社区12号院垃圾桶满了三天没人清运。",
            "attachments": [
                {
                    "name": "垃圾.jpg",
                    "content_type": "image/jpeg",
                    "size": 20480,
                    "url": "https://img.example/1.jpg",
                }
            ],
        },
        {"channel": "web", "citizen": {"name": None, "phone": "13900001111", "anonymous": False}},
        {"form_id": "WEB-88"},
    ),
    (
        "app",
        {
            "report_id": "APP-5",
            "user_id": "u-9",
            "phone": "13700003456",
            "title": "路边乱停车",
            "content": "翠湖社区南门路边乱停车，堵住了消防通道。",
            "location": {"address": "翠湖社区南门", "longitude": 120.17, "latitude": 30.27},
        },
        {"channel": "app", "longitude": 120.17, "latitude": 30.27, "address": "翠湖社区南门"},
        {"report_id": "APP-5", "user_id": "u-9"},
    ),
    (
        "wechat",
        {
            "msg_id": "wx-msg-1",
            "openid": "oABC123",
            "phone": "13600001234",
            "title": "施工噪音",
            "content": "工地晚上十一点还在打桩。",
            "media": [
                {"name": "v.mp4", "content_type": "video/mp4", "size": 1048576, "sha256": "a" * 64}
            ],
        },
        {
            "channel": "wechat",
            "attachments": [
                {"name": "v.mp4", "content_type": "video/mp4", "size": 1048576, "sha256": "a" * 64}
            ],
        },
        {"msg_id": "wx-msg-1", "openid": "oABC123"},
    ),
    (
        "weibo",
        {
            "post_id": "4990001",
            "author_handle": "@江北小王",
            "url": "https://weibo.com/1/4990001",
            "text": "长安街道阳光社区门口天天有人占道摆摊！车都开不出去。#滨江城管#",
        },
        {
            "channel": "weibo",
            "title": "长安街道阳光社区门口天天有人占道摆摊",
            "citizen": {"anonymous": True},
        },
        {"post_id": "4990001", "author_handle": "@江北小王", "platform": "weibo"},
    ),
    (
        "message_board",
        {
            "thread_id": "LB-2026-77",
            "user_id": "A0001",
            "subject": "拖欠工资",
            "content": "某工地拖欠农民工工资三个月。",
            "leader": "市长",
        },
        {"channel": "message_board", "title": "拖欠工资", "citizen": {"anonymous": True}},
        {"thread_id": "LB-2026-77", "user_id": "A0001"},
    ),
    (
        "mayor_mailbox",
        {
            "message_id": "MB-1",
            "sender_address": "citizen@example.cn",
            "phone": "13512345678",
            "subject": "建议增设公交线路",
            "body": "建议增设到新区的公交线路。",
        },
        {
            "channel": "mayor_mailbox",
            "citizen": {"name": None, "phone": "13512345678", "anonymous": False},
        },
        {"message_id": "MB-1"},
    ),
    (
        "sms",
        {
            "sms_id": "SMS-3",
            "from_number": "13812345678",
            "text": "和平里社区停水两天了。什么时候来水？",
        },
        {
            "channel": "sms",
            "title": "和平里社区停水两天了",
            "citizen": {"name": None, "phone": "13812345678", "anonymous": False},
        },
        {"sms_id": "SMS-3"},
    ),
    (
        "opinion",
        {
            "item_id": "YQ-9",
            "source": "滨江论坛",
            "url": "https://bbs.example/t/9",
            "headline": "江北区一工地夜间施工扰民",
            "summary": "多名网友反映工地夜间施工。",
            "heat": 320,
        },
        {"channel": "opinion", "title": "江北区一工地夜间施工扰民", "citizen": {"anonymous": True}},
        {"item_id": "YQ-9", "source": "滨江论坛"},
    ),
    (
        "grid",
        {
            "report_id": "GR-1",
            "grid_id": "BJ01010101",
            "worker_id": "W-12",
            "category": "城市管理/市容环境/垃圾清运",
            "title": "垃圾堆放",
            "description": "巷口堆放建筑垃圾。",
            "gps": {"lng": 120.12, "lat": 30.22},
            "photos": [
                {"name": "p.jpg", "content_type": "image/jpeg", "size": 1000, "sha256": "b" * 64}
            ],
        },
        {
            "channel": "grid",
            "kind": "report",
            "longitude": 120.12,
            "latitude": 30.22,
            "citizen": {"anonymous": True},
        },
        {"grid_id": "BJ01010101", "worker_id": "W-12"},
    ),
    (
        "open311",
        {
            "service_code": "S1",
            "lat": "30.22",
            "long": "120.12",
            "description": "井盖松动，车辆经过哐哐响。",
            "phone": "13912345678",
            "last_name": "李",
        },
        {
            "channel": "open311",
            "category": "交通出行",
            "latitude": 30.22,
            "citizen": {"name": "李", "phone": "13912345678", "anonymous": False},
        },
        {"service_code": "S1"},
    ),
]


@pytest.mark.parametrize(
    ("channel", "native", "ticket", "refs"), CHANNEL_CASES, ids=[c[0] for c in CHANNEL_CASES]
)
def test_each_channel_payload_is_normalised(
    channel: str, native: dict[str, Any], ticket: dict[str, Any], refs: dict[str, Any]
) -> None:
    out = channels.normalise(channel, native, categories_by_code={"S1": "交通出行"})
    for key, value in ticket.items():
        assert out.ticket[key] == value, key
    for key, value in refs.items():
        assert out.refs[key] == value, key


@pytest.mark.parametrize(
    ("channel", "native", "field"),
    [
        ("phone", {**CHANNEL_CASES[0][1], "caller_number": "12345"}, "caller_number"),
        ("phone", {k: v for k, v in CHANNEL_CASES[0][1].items() if k != "call_id"}, "call_id"),
        ("web", {**CHANNEL_CASES[1][1], "content": "诉" * 4001}, "content"),
        ("app", {**CHANNEL_CASES[2][1], "location": {"longitude": "东经"}}, "location.longitude"),
        ("mayor_mailbox", {**CHANNEL_CASES[6][1], "sender_address": "不是邮箱"}, "sender_address"),
        ("open311", {**CHANNEL_CASES[10][1], "service_code": "NOPE"}, "service_code"),
        ("pigeon", {}, "channel"),
    ],
)
def test_bad_native_payload_names_the_native_field(
    channel: str, native: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        channels.normalise(channel, native, categories_by_code={"S1": "交通出行"})
    assert caught.value.extra["field"] == field
