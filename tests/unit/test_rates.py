"""The rates on hand-built tallies whose answers are worked out by hand."""

from __future__ import annotations

from analytics.rates import (
    MetricConfig,
    Tally,
    average_handling_days,
    callback_coverage,
    completion_rate,
    composite_score,
    coordination_rate,
    on_time_completion_rate,
    reopen_rate,
    resolution_rate,
    response_rate,
    return_rate,
    satisfaction_rate,
)
from analytics.rates import all_rates as every_rate

CONFIG = MetricConfig(version="test", partly_solved_weight=0.5, basically_satisfied_weight=0.8)


def test_response_counts_leads_in_time_over_leads() -> None:
    rate = response_rate(Tally(leads=6, leads_responded=2))
    assert (rate.numerator, rate.denominator, rate.value) == (2, 6, 0.3333)


def test_resolution_weights_partly_solved() -> None:
    t = Tally(verdicts=10, solved=6, partly_solved=2, unsolved=2)
    rate = resolution_rate(t, CONFIG)
    assert (rate.numerator, rate.denominator, rate.value) == (7.0, 10, 0.7)  # (6 + 2×0.5) / 10


def test_satisfaction_weights_basically_satisfied() -> None:
    lhasa = Tally(verdicts=156, satisfied=153, dissatisfied=3)
    assert satisfaction_rate(lhasa, CONFIG).value == 0.9808  # Lhasa: 153 of 156 → 98.1%
    mixed = Tally(verdicts=4, satisfied=1, basically_satisfied=2, dissatisfied=1)
    rate = satisfaction_rate(mixed, CONFIG)
    assert (rate.numerator, rate.value) == (2.6, 0.65)  # (1 + 2×0.8) / 4


def test_completion_excludes_invalid_tickets_from_the_denominator() -> None:
    lhasa = Tally(received=211, completed=208)
    assert completion_rate(lhasa).value == 0.9858  # 208 / 211 → 98.6%
    with_invalid = Tally(received=213, excluded=2, completed=208)
    assert completion_rate(with_invalid) == completion_rate(lhasa)


def test_the_other_rates() -> None:
    t = Tally(
        completed=8,
        completed_on_time=6,
        dispatched=5,
        reopened=1,
        assignments=10,
        returned=2,
        handled=9,
        called_back=6,
        coordinated_verdicts=4,
        coordinated_solved=2,
        coordinated_partly_solved=1,
        handling_count=4,
        handling_seconds=7 * 86400,
    )
    assert on_time_completion_rate(t).value == 0.75
    assert reopen_rate(t).value == 0.2
    assert return_rate(t).value == 0.2
    assert callback_coverage(t).value == 0.6667
    assert coordination_rate(t, CONFIG).value == 0.625  # (2 + 1×0.5) / 4
    assert average_handling_days(t).value == 1.75


def test_composite_is_the_weighted_rates_and_reweights_missing_ones() -> None:
    t = Tally(leads=10, leads_responded=9, verdicts=10, solved=8, satisfied=10)
    # 100 × (0.1×0.9 + 0.45×0.8 + 0.45×1.0) = 90.0
    assert composite_score(every_rate(t, CONFIG), CONFIG) == 90.0
    only_verdicts = Tally(verdicts=10, solved=8, satisfied=10)
    # response has no denominator: 100 × (0.45×0.8 + 0.45×1.0) / 0.9 = 90.0
    assert composite_score(every_rate(only_verdicts, CONFIG), CONFIG) == 90.0
    assert composite_score(every_rate(Tally(), CONFIG), CONFIG) is None


def test_no_denominator_means_no_value_not_a_perfect_score() -> None:
    assert response_rate(Tally()).value is None
    assert satisfaction_rate(Tally(), CONFIG).value is None
    assert average_handling_days(Tally()).value is None
