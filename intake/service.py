"""intake's use cases live in modules named by what they do (docs/intake.md maps them):
admission (受理), additions (补充诉求), reads, taxonomy, clusters, progress.

This module keeps the name other packages import from it: the demo loader (services/demo.py)
and the intake tests' fixtures load the taxonomy through `intake.service.load_taxonomy`.
"""

from __future__ import annotations

from intake.taxonomy import load_taxonomy

__all__ = ["load_taxonomy"]
