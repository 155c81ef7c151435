"""routing's entry point for the composition root: `services.demo` loads the demo city's
directory through `load_directory`.

The use cases themselves live by what they do: `dispatching` (the decision and writing
assignments), `dispatcher` (the queue, manual dispatch, re-dispatch), `workflow` (the unit's
steps), `rehandling` (重办), `reads`, `standard_replies`, `directory`, `returns`, `whistle`; see
docs/routing.md."""

from __future__ import annotations

from routing.directory import load_directory

__all__ = ["load_directory"]
