"""Training the suggestion models of every target (`modelstore.TARGETS`: category, urgency,
kind, lead unit) from labelled examples, storing each as a new version with its held-out
evaluation, and the rule that decides whether a new version goes into use. Used by
`python -m services intake train` and by scheduled retraining (`intake/retraining.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from intake import learning, modelstore

# "use": every new version goes into use (train --use). "store": stored; a target's version
# goes into use only when none is (modelstore.save's rule: the first one). "if_better":
# scheduled retraining: into use only when it beats the one in use (`beats`); the first
# version of a target goes into use, and a target a supervisor switched off stays off.
Policy = Literal["use", "store", "if_better"]


@dataclass(frozen=True)
class Outcome:
    """What training did for one target."""

    target: str
    version: str | None = None  # the version stored; None: nothing was trained
    in_use: bool = False  # the new version is the one in use now
    evaluation: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # why nothing was trained, or why the new version is not in use


def beats(new: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Scheduled retraining's switching rule: a new version replaces the one in use only when
    its held-out macro-F1 is higher, or equal with a higher accuracy. A version without
    held-out figures (too few examples to hold any out) never replaces one that has them."""
    if "macro_f1" not in new:
        return False
    if "macro_f1" not in current:
        return True
    ours = (float(new["macro_f1"]), float(new.get("accuracy", 0.0)))
    theirs = (float(current["macro_f1"]), float(current.get("accuracy", 0.0)))
    return ours > theirs


def fit_target(
    target: str, examples: Sequence[learning.Example], progress: learning.Progress | None = None
) -> tuple[learning.CategoryModel, dict[str, Any]]:
    """Train and evaluate one target's model. The category model refuses scarce categories
    (an operator should see them); the others leave out the labels too rare to learn, and say
    so in the evaluation (`left_out`). ValueError when there is not enough to learn from."""
    left_out: list[str] = []
    if target != "category":
        examples, left_out = learning.trainable(examples)
    model, evaluation = learning.train(examples, progress=progress)
    if left_out:
        evaluation["left_out"] = left_out
    return model, evaluation


def train_and_store(
    found: Mapping[str, Sequence[learning.Example]],
    *,
    data_dir: Path | None,
    source: str,
    policy: Policy,
    unit_names: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: learning.Progress | None = None,
) -> list[Outcome]:
    """Train every target `found` has examples for and store each as a new version, in use
    as `policy` says. A target that cannot be trained is reported, not fatal."""
    outcomes = []
    for target in modelstore.TARGETS:
        if target not in found:
            continue
        if not found[target]:
            outcomes.append(Outcome(target, note="no labelled examples"))
            continue
        try:
            model, evaluation = fit_target(target, found[target], progress)
        except ValueError as exc:
            outcomes.append(Outcome(target, note=str(exc)))
            continue
        if target == "lead_unit" and unit_names:
            model.info["unit_names"] = {u: unit_names.get(u, u) for u in model.labels}
        outcomes.append(_store(target, model, evaluation, data_dir, source, policy, now))
    return outcomes


def _store(
    target: str,
    model: learning.CategoryModel,
    evaluation: dict[str, Any],
    data_dir: Path | None,
    source: str,
    policy: Policy,
    now: datetime | None,
) -> Outcome:
    folder = modelstore.root(data_dir, target)
    had_versions = bool(modelstore.versions(folder))
    current = modelstore.current_name(folder)
    current_evaluation = next(
        (v.evaluation for v in modelstore.versions(folder) if v.name == current), {}
    )
    if policy != "if_better":
        name = modelstore.save(
            folder, model, evaluation, source=source, use=policy == "use", trained_at=now
        )
        return Outcome(target, name, modelstore.current_name(folder) == name, evaluation)
    note = ""
    if current is None and had_versions:
        use, note = False, "stored; none in use (switched off), so it stays off"
    elif current is None:
        use = True
    else:
        use = beats(evaluation, current_evaluation)
        if not use:
            note = f"stored; {current} stays in use (the new one does not beat it held out)"
    name = modelstore.save(
        folder, model, evaluation, source=source, use=use, trained_at=now, keep_off=not use
    )
    return Outcome(target, name, use, evaluation, note)
