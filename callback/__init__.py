"""callback (回访): every handled ticket called back; the citizen's verdicts."""
