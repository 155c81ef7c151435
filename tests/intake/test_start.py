"""What intake does when it starts, so that no report waits for it."""

from __future__ import annotations

from intake import app, similarity


def test_intake_loads_the_word_dictionary_when_it_starts() -> None:
    similarity._tokenizer.cache_clear()  # as in a process that has segmented nothing yet
    app.build()
    assert similarity._tokenizer.cache_info().currsize == 1
