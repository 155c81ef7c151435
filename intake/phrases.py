"""Which of many phrases a text holds (the gazetteer's names, the taxonomy's keywords), found by
each phrase's first character: the time grows with the text and the phrases that start in it,
not with how many phrases there are — a real city has thousands of place names and categories,
and looking for each of them in every report cost milliseconds (docs/performance.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Phrases:
    _by_first: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, phrases: Iterable[str]) -> Phrases:
        by_first: defaultdict[str, list[str]] = defaultdict(list)
        for phrase in dict.fromkeys(phrases):
            if phrase:
                by_first[phrase[0]].append(phrase)
        return cls({first: tuple(found) for first, found in by_first.items()})

    def held_in(self, *texts: str | None) -> set[str]:
        """The phrases that occur in any of the texts."""
        return {
            phrase
            for text in texts
            if text
            for at, first in enumerate(text)
            for phrase in self._by_first.get(first, ())
            if text.startswith(phrase, at)
        }
