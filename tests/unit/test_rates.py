"""The three rates on hand-built facts whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics.rates import (
    LeadAssignment,
    RateConfig,
    Verdict,
    resolution_rate,
    response_rate,
    satisfaction_rate,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CONFIG = RateConfig(version="test", partly_solved_weight=0.5, basically_satisfied_weight=0.8)


def lead(
    signed: timedelta | None, contacted: timedelta | None, known: bool = True
) -> LeadAssignment:
    return LeadAssignment(
        dispatched_at=T0,
        signed_at=T0 + signed if signed is not None else None,
        contacted_at=T0 + contacted if contacted is not None else None,
        sign_by=T0 + DAY if known else None,
        respond_by=T0 + DAY if known else None,
    )


def test_response_needs_both_sign_off_and_contact_in_time() -> None:
    rate = response_rate(
        [
            lead(DAY / 2, DAY / 2),  # in time
            lead(DAY, DAY),  # exactly at the limit counts
            lead(DAY / 2, DAY * 2),  # contact late
            lead(DAY * 2, DAY / 2),  # sign-off late
            lead(DAY / 2, None),  # never contacted
            lead(DAY / 2, DAY / 2, known=False),  # deadlines unknown: denominator only
        ]
    )
    assert (rate.numerator, rate.denominator, rate.value) == (2, 6, 0.3333)


def test_resolution_weights_partly_solved() -> None:
    verdicts = (
        [Verdict("solved", "satisfied")] * 6
        + [Verdict("partly_solved", "satisfied")] * 2
        + [Verdict("unsolved", "dissatisfied")] * 2
    )
    rate = resolution_rate(verdicts, CONFIG)
    assert (rate.numerator, rate.denominator, rate.value) == (7.0, 10, 0.7)  # (6 + 2×0.5) / 10


def test_satisfaction_weights_basically_satisfied() -> None:
    verdicts = [Verdict("solved", "satisfied")] * 153 + [Verdict("solved", "dissatisfied")] * 3
    assert satisfaction_rate(verdicts, CONFIG).value == 0.9808  # Lhasa: 153 of 156 → 98.1%
    mixed = [
        Verdict("solved", "satisfied"),
        Verdict("solved", "basically_satisfied"),
        Verdict("solved", "dissatisfied"),
        Verdict("solved", "basically_satisfied"),
    ]
    rate = satisfaction_rate(mixed, CONFIG)
    assert (rate.numerator, rate.value) == (2.6, 0.65)  # (1 + 2×0.8) / 4


def test_no_denominator_means_no_value_not_a_perfect_score() -> None:
    assert response_rate([]).value is None
    assert satisfaction_rate([], CONFIG).value is None
