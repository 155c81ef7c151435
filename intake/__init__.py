"""intake (受理): every channel into one ticket; owns the ticket record and the citizen's data."""
