"""The suggestion models' registry: versioned, file-based, in the run's data folder, one
folder per target (what the model suggests: `TARGETS`, category, urgency, kind, lead_unit),
each with its own versions, pointer and history:

    HOTLINE_DATA_DIR/models/category/
        v0001/model.pkl          the trained model (pickle; written only by this platform)
        v0001/evaluation.json    its figures on the held-out part of its training data
        v0001/meta.json          when, from what (file name or "tickets"), how many examples
        in-use                   the version in use ("v0002"), replaced atomically
        history.json             the versions used before, newest last (for rollback)

A new version is not put in use by training alone unless asked (`train --use`); `use VERSION`
chooses one and `rollback` goes back to the one used before. The service reads the pointer at
most every `RECHECK_SECONDS` and loads a version once (`in_use`), so a switch takes effect within
seconds without a restart and a suggestion never waits for a load after the first.

Pickle runs code when loaded: only files this platform wrote belong in the folder.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake.classify import Models
from shared.settings import platform_settings

if TYPE_CHECKING:  # the model's class loads scikit-learn: only once a model is stored or loaded
    from intake.learning import CategoryModel

log = logging.getLogger(__name__)

KIND = "category"
# What a model can suggest; each has its own folder of versions (docs/suggestions.md).
TARGETS = ("category", "urgency", "kind", "lead_unit")
RECHECK_SECONDS = 5.0
_VERSION = re.compile(r"v\d{4,}")


class UnknownVersion(LookupError):
    """No stored version of that name."""


@dataclass(frozen=True)
class Version:
    name: str
    meta: dict[str, Any]
    evaluation: dict[str, Any]
    in_use: bool


@lru_cache(maxsize=1)
def _data_dir() -> Path:
    return platform_settings().data_dir


def root(data_dir: Path | None = None, target: str = KIND) -> Path:
    """Where the `target`'s models are (category unless given): the run's data folder
    (HOTLINE_DATA_DIR) unless given."""
    if target not in TARGETS:
        raise UnknownVersion(f"no such model target {target!r}; known: {', '.join(TARGETS)}")
    return (data_dir or _data_dir()) / "models" / target


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def versions(folder: Path) -> list[Version]:
    """Every stored version, oldest first."""
    if not folder.is_dir():
        return []
    current = current_name(folder)
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and _VERSION.fullmatch(p.name)):
        found.append(
            Version(
                path.name,
                _json(path / "meta.json"),
                _json(path / "evaluation.json"),
                path.name == current,
            )
        )
    return found


def _json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def current_name(folder: Path) -> str | None:
    """The version in use, or None."""
    try:
        name = (folder / "in-use").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if _VERSION.fullmatch(name) and (folder / name).is_dir() else None


def save(
    folder: Path,
    model: CategoryModel,
    evaluation: dict[str, Any],
    *,
    source: str,
    use: bool = False,
    trained_at: datetime | None = None,
    keep_off: bool = False,
) -> str:
    """Store a new version with its evaluation; put it in use if asked (or if none is, unless
    `keep_off`: a target a supervisor switched off)."""
    folder.mkdir(parents=True, exist_ok=True)
    numbers = [int(v.name[1:]) for v in versions(folder)]
    name = f"v{(max(numbers) if numbers else 0) + 1:04d}"
    staging = folder / f".{name}.staging"
    staging.mkdir()
    with (staging / "model.pkl").open("wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {
        "version": name,
        "trained_at": (trained_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "source": source,
        "labels": list(model.labels),
        "sklearn": _sklearn_version(),
        **{k: v for k, v in model.info.items() if k != "evaluation"},
    }
    (staging / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    (staging / "evaluation.json").write_text(
        json.dumps(evaluation, ensure_ascii=False, indent=2), "utf-8"
    )
    os.replace(staging, folder / name)
    if use or (current_name(folder) is None and not keep_off):
        choose(folder, name)
    return name


def choose(folder: Path, name: str) -> None:
    """Put a stored version in use; the one in use before is remembered for rollback."""
    if not _VERSION.fullmatch(name) or not (folder / name / "model.pkl").is_file():
        raise UnknownVersion(f"no model version {name!r} in {folder}")
    previous = current_name(folder)
    if previous == name:
        return
    if previous is not None:
        history = _history(folder)
        history.append(previous)
        _write_atomically(folder / "history.json", json.dumps(history[-50:]))
    _write_atomically(folder / "in-use", name + "\n")


def _history(folder: Path) -> list[str]:
    try:
        loaded = json.loads((folder / "history.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(v) for v in loaded] if isinstance(loaded, list) else []


def rollback(folder: Path) -> str:
    """Go back to the version used before the one in use; returns it."""
    history = [v for v in _history(folder) if (folder / v / "model.pkl").is_file()]
    if not history:
        raise UnknownVersion("no earlier version to roll back to")
    name = history.pop()
    _write_atomically(folder / "in-use", name + "\n")
    _write_atomically(folder / "history.json", json.dumps(history))
    return name


def stop_using(folder: Path) -> None:
    """No model in use: suggestions come from the keyword rules only."""
    (folder / "in-use").unlink(missing_ok=True)


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


def load(folder: Path, name: str) -> CategoryModel:
    from intake.learning import CategoryModel

    path = folder / name / "model.pkl"
    if not path.is_file():
        raise UnknownVersion(f"no model version {name!r} in {folder}")
    with path.open("rb") as f:
        model = pickle.load(f)  # the platform's own file, see the docstring
    if not isinstance(model, CategoryModel):
        raise TypeError(f"{path} does not hold a category model")
    model.info["version"] = name
    return model


@dataclass
class _Cached:
    folder: Path
    name: str | None
    model: CategoryModel | None
    checked: float


_cache: dict[Path, _Cached] = {}
_lock = threading.Lock()


def in_use(data_dir: Path | None = None, target: str = KIND) -> CategoryModel | None:
    """The `target`'s model in use, loaded once per version and kept; None when there is none
    (or it cannot be read: logged, and the rules answer)."""
    folder = root(data_dir, target)
    now = time.monotonic()
    cached = _cache.get(folder)
    if cached is not None and now - cached.checked < RECHECK_SECONDS:
        return cached.model
    with _lock:
        name = current_name(folder)
        cached = _cache.get(folder)
        if cached is not None and cached.name == name:
            cached.checked = now
            return cached.model
        model = None
        if name is not None:
            try:
                model = load(folder, name)
            except Exception:
                log.exception(
                    "intake: model %s in %s cannot be loaded; keyword rules answer", name, folder
                )
        _cache[folder] = _Cached(folder, name, model, now)
        return model


def all_in_use(data_dir: Path | None = None) -> Models:
    """The models in use for every target (each None when there is none)."""
    return Models(**{target: in_use(data_dir, target) for target in TARGETS})


def forget() -> None:
    """Drop the loaded models (tests; a switch is otherwise seen within RECHECK_SECONDS)."""
    with _lock:
        _cache.clear()
    _data_dir.cache_clear()
