"""The gazetteer's index (intake.gazetteer): each rule handed only what can matter to it answers
as it did handed the whole gazetteer — the area named in an address, the words a report is
compared by with place names cut out, the boundary holding a point — on generated texts and
points, overlapping names and names with spaces among them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from intake import domain, similarity
from intake.domain import AreaName, Boundary
from intake.gazetteer import Gazetteer

AREAS = (
    AreaName("BJ01", "district", ("江北区", "江北")),
    AreaName("BJ0101", "street", ("长安街道", "长安")),
    AreaName("BJ0102", "street", ("安街", "东安街道")),  # overlaps 长安街道
    AreaName("BJ010101", "community", ("阳光社区", "阳光")),
    AreaName("BJ010102", "community", ("翠湖社区", "翠湖", "Cuihu Garden")),
    AreaName("BJ010103", "community", ("阳光花园", "光花")),  # overlaps 阳光
    AreaName("G-7", "grid", ("第七网格", "长安")),  # a name two areas share
)
NAMES = sorted({name for area in AREAS for name in area.names})
FILLER = ("小区门口", "路灯坏了", "噪音扰民", "，", "12号楼", " ", "Garden", "湖", "安", "街")


def square(code: str, level: str, west: float, south: float, size: float) -> Boundary:
    ring = ((west, south), (west + size, south), (west + size, south + size), (west, south + size))
    return Boundary(code, level, ring)


BOUNDARIES = (
    square("BJ01", "district", 120.00, 30.00, 0.5),
    square("BJ0101", "street", 120.10, 30.10, 0.05),
    square("BJ010101", "community", 120.11, 30.11, 0.005),  # within one cell
    square("BJ010102", "community", 120.1195, 30.1195, 0.0012),  # across four cells
    Boundary("G-7", "grid", ((120.3, 30.3), (120.34, 30.3), (120.32, 30.33))),  # a triangle
    # A community's ring with a stray vertex: its box spans half the province.
    Boundary("BJ010104", "community", ((120.2, 30.2), (120.21, 30.2), (121.9, 29.0))),
)
GAZETTEER = Gazetteer.of(AREAS, BOUNDARIES)
texts = st.lists(st.sampled_from([*NAMES, *FILLER]), max_size=12).map("".join)
points = st.tuples(st.floats(119.9, 120.6, allow_nan=False), st.floats(29.9, 30.6, allow_nan=False))


@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_the_area_named_is_the_one_the_whole_gazetteer_names(text: str) -> None:
    assert domain.resolve_area(text, GAZETTEER.areas_named_in(text)) == domain.resolve_area(
        text, AREAS
    )


@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_the_words_compared_are_those_with_every_place_cut_out(text: str) -> None:
    assert domain.matter_terms(text, GAZETTEER) == tuple(similarity.terms(text, GAZETTEER.places))


@settings(max_examples=400, deadline=None)
@given(point=points)
def test_the_boundary_holding_a_point_is_the_one_of_all_boundaries(
    point: tuple[float, float],
) -> None:
    lng, lat = point
    near = GAZETTEER.boundaries_near(lng, lat)
    assert domain.area_at(lng, lat, near) == domain.area_at(lng, lat, BOUNDARIES)


def test_a_boundary_as_wide_as_the_world_does_not_swell_the_index() -> None:
    world = Boundary("X", "city", ((-180.0, -90.0), (180.0, -90.0), (180.0, 90.0), (-180.0, 90.0)))
    gazetteer = Gazetteer.of(AREAS, (*BOUNDARIES, world))  # 648 million cells, were it gridded
    assert domain.area_at(3.0, 4.0, gazetteer.boundaries_near(3.0, 4.0)) == "X"


def test_what_the_index_hands_over() -> None:
    # Longest first, as they are cut out; one with a space always, whatever the text.
    assert GAZETTEER.names_in("长安街道阳光花园门口") == [
        *("Cuihu Garden", "长安街道", "阳光花园"),
        *("长安", "安街", "阳光", "光花"),
    ]
    assert {a.code for a in GAZETTEER.areas_named_in("长安街道")} == {"BJ0101", "BJ0102", "G-7"}
    assert GAZETTEER.names_in(None) == ["Cuihu Garden"] and GAZETTEER.areas_named_in("") == []
    # The cell of (120.105, 30.105) meets the district's and the street's boxes only.
    near = sorted(b.area_code for b in GAZETTEER.boundaries_near(120.105, 30.105))
    assert near == ["BJ01", "BJ0101", "BJ010104"]
    # The wide ones (the district's half a degree, the stray vertex) are looked at everywhere.
    far = sorted(b.area_code for b in GAZETTEER.boundaries_near(121.5, 31.5))
    assert far == ["BJ01", "BJ010104"]
    assert GAZETTEER.has("G-7") and not GAZETTEER.has("BJ99")
    assert GAZETTEER.places[0] == "Cuihu Garden" and len(GAZETTEER.places) == len(NAMES)
