"""The admission decision (受理) as a pure rule: `domain.admit` and the rules it is made of
(`domain.area_of`, `domain.classification`), without a database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from intake import classify, domain
from intake.domain import AreaName, Boundary, ChannelContext, TicketStatus
from intake.gazetteer import Gazetteer
from intake.schemas import TicketIn
from shared.errors import InvalidInput
from tests.support import COMPLAINT

SQUARE = ((121.0, 31.0), (122.0, 31.0), (122.0, 32.0), (121.0, 32.0))


GAZETTEER = Gazetteer.of(
    (
        AreaName("BJ0101", "street", ("长安街道",)),
        AreaName("BJ010101", "community", ("阳光社区",)),
        AreaName("BJ010102", "community", ("翠湖社区", "翠湖")),
        AreaName("G-7", "grid", ("第七网格",)),
    ),
    (Boundary("BJ010102", "community", SQUARE),),
)


@dataclass(frozen=True)
class Known:
    categories: frozenset[str] = frozenset({COMPLAINT["category"], "咨询/政策咨询"})
    gazetteer: Gazetteer = GAZETTEER


RULES = domain.AdmissionRules(
    attachments=domain.AttachmentRules(frozenset({"image/jpeg"}), max_bytes=1000, max_count=2),
    citizen_ref_secret="test-secret",
    blind_index=lambda who: who and f"index:{who}",
    link_repeats=True,
)
PHOTO = {"name": "a.jpg", "content_type": "image/jpeg", "size": 10, "url": "https://x/a.jpg"}


def report(**changes: Any) -> TicketIn:
    return TicketIn.model_validate({**COMPLAINT, **changes})


def admit(
    r: TicketIn,
    channel: ChannelContext | None = None,
    *,
    known: Known | None = None,
    attachments: Sequence[dict[str, Any]] = (),
    link_repeats: bool = True,
) -> domain.Admission:
    return domain.admit(
        r,
        attachments,
        channel or ChannelContext(),
        known or Known(),
        replace(RULES, link_repeats=link_repeats),
    )


def refused_on(r: TicketIn, **kwargs: Any) -> str | None:
    with pytest.raises(InvalidInput) as refused:
        admit(r, **kwargs)
    field: str | None = refused.value.extra.get("field")
    return field


# ---------------------------------------------------------------------------- answered or dispatched


def test_a_report_is_received_for_dispatch_and_may_repeat_and_cluster() -> None:
    decided = admit(report())
    assert decided.status is TicketStatus.RECEIVED and not decided.answered
    assert decided.may_repeat and decided.may_cluster


def test_a_consultation_answered_on_the_spot_is_closed_at_intake_never_repeat_nor_cluster() -> None:
    decided = admit(report(kind="consultation", answer="可到街道办事处办理。"))
    assert decided.status is TicketStatus.ANSWERED and decided.answered
    assert not decided.may_repeat and not decided.may_cluster


def test_only_a_consultation_is_answered_on_the_spot() -> None:
    assert refused_on(report(kind="complaint", answer="已解答")) == "answer"


# ---------------------------------------------------------------------------- repeat or new


def test_the_form_links_repeats_only_when_its_entry_point_does() -> None:
    assert not admit(report(), link_repeats=False).may_repeat
    assert admit(report(), link_repeats=False).may_cluster


def test_an_anonymous_report_is_nobody_s_repeat_unless_the_channel_knows_who() -> None:
    anonymous = report(citizen={"anonymous": True, "phone": "13800135678", "name": "王先生"})
    decided = admit(anonymous)
    assert decided.phone is None and decided.citizen_name is None and decided.anonymous
    assert decided.matter.citizen_ref is None and not decided.may_repeat and decided.may_cluster
    by_handle = admit(anonymous, ChannelContext(identity="weibo:@市民甲"))
    assert by_handle.matter.citizen_ref is not None and by_handle.may_repeat
    assert by_handle.anonymous  # the handle is no phone: the ticket stays anonymous


def test_the_citizen_is_the_normalised_phone_whatever_its_spelling() -> None:
    a = admit(report(citizen={"name": "王先生", "phone": "138-0013-5678"}))
    b = admit(report(citizen={"name": "王", "phone": "+86 138 0013 5678"}))
    assert a.phone == b.phone == "13800135678" and not a.anonymous
    assert (
        a.matter.citizen_ref
        == b.matter.citizen_ref
        == domain.citizen_ref("13800135678", RULES.citizen_ref_secret)
    )
    assert a.citizen_name == "王先生"


def test_the_matter_compares_content_words_not_the_place_names() -> None:
    matter = admit(report(title="阳光社区门口摊贩占道经营")).matter
    assert matter.category == COMPLAINT["category"] and "摊贩" in matter.terms
    assert not any("阳光" in term for term in matter.terms)
    assert matter.ticket_id == ""  # numbered only when it becomes a new ticket


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "城市管理/不存在"}, "category"),
        ({"longitude": 121.5}, "longitude/latitude"),
        ({"longitude": 0.0, "latitude": 0.0}, "longitude/latitude"),
        ({"longitude": 200.0, "latitude": 31.5}, "longitude/latitude"),
        ({"citizen": {"name": "王", "phone": "12345"}}, "citizen.phone"),
    ],
)
def test_a_bad_report_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    assert refused_on(report(**changes)) == field


def test_attachments_are_checked_against_the_rules() -> None:
    assert admit(report(), attachments=[PHOTO]).status is TicketStatus.RECEIVED
    assert refused_on(report(), attachments=[PHOTO] * 3) == "attachments"
    pdf = {**PHOTO, "content_type": "application/pdf"}
    assert refused_on(report(), attachments=[pdf]) == "attachments[0].content_type"


def test_the_first_refusal_wins_in_a_fixed_order() -> None:
    everything_wrong = report(
        kind="complaint",
        answer="已解答",
        category="城市管理/不存在",
        longitude=121.5,
        citizen={"name": "王", "phone": "12345"},
    )
    assert refused_on(everything_wrong) == "answer"
    assert refused_on(report(category="不存在", longitude=121.5)) == "category"
    assert refused_on(report(longitude=121.5, citizen={"phone": "1"}), attachments=[{}]) == (
        "longitude/latitude"
    )
    assert refused_on(report(citizen={"phone": "1"}), attachments=[{}]) == (
        "attachments[0].content_type"
    )


def test_any_category_is_accepted_until_a_taxonomy_is_loaded() -> None:
    decided = admit(report(category="随便/什么"), known=Known(categories=frozenset()))
    assert decided.matter.category == "随便/什么"


# ---------------------------------------------------------------------------- area


def test_the_stated_area_wins_over_everything() -> None:
    stated = report(area_code="BJ9999", longitude=121.5, latitude=31.5)
    assert admit(stated, ChannelContext(area_hint="G-7")).matter.area_code == "BJ9999"


def test_a_channel_s_area_counts_only_if_the_gazetteer_has_it() -> None:
    assert admit(report(), ChannelContext(area_hint="G-7")).matter.area_code == "G-7"
    assert admit(report(), ChannelContext(area_hint="G-unknown")).matter.area_code == "BJ010101"


def test_coordinates_inside_a_boundary_beat_the_address() -> None:
    inside = report(longitude=121.5, latitude=31.5)  # the address names 阳光社区
    assert admit(inside).matter.area_code == "BJ010102"
    outside = report(longitude=100.0, latitude=20.0)
    assert admit(outside).matter.area_code == "BJ010101"


def test_without_an_address_the_channel_s_text_is_searched() -> None:
    no_address = report(address=None)
    assert admit(no_address).matter.area_code is None
    assert admit(no_address, ChannelContext(area_text="翠湖边上")).matter.area_code == "BJ010102"


# ---------------------------------------------------------------------------- classification


def suggestion(category: str | None = "城市管理/市容环境/占道经营") -> classify.Suggestion:
    return classify.Suggestion(
        category=category, urgency="emergency", kind="help", reasons=["标题含“摊贩”→占道经营"]
    )


def test_what_the_channel_gave_wins_over_the_suggestion() -> None:
    chosen = domain.classification("咨询/政策咨询", "consultation", "ordinary", suggestion())
    assert (chosen.category, chosen.kind, chosen.urgency) == (
        "咨询/政策咨询",
        "consultation",
        "ordinary",
    )
    assert chosen.source == "given" and chosen.reasons == []


def test_the_suggestion_fills_what_the_channel_did_not_give() -> None:
    given_category = domain.classification("咨询/政策咨询", None, None, suggestion())
    assert (given_category.kind, given_category.urgency) == ("help", "emergency")
    assert given_category.source == "given" and given_category.reasons == []
    suggested = domain.classification(None, "complaint", None, suggestion())
    assert suggested.category == "城市管理/市容环境/占道经营" and suggested.kind == "complaint"
    assert suggested.source == "suggested" and suggested.reasons == ["标题含“摊贩”→占道经营"]


def test_no_category_given_and_none_suggested_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        domain.classification(None, None, None, suggestion(category=None))
    assert refused.value.extra["field"] == "category"
