"""Fault drills on the distributed stack (`make faults`, `python -m tests.faults`) and the
dead-letter replay command's tests. docs/faults.md describes the drills and their figures."""
