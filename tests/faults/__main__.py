"""`python -m tests.faults`: the fault drills (tests/faults/drill.py, docs/faults.md)."""

from tests.faults.drill import main

main()
