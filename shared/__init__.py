"""Code every service imports: settings, database, events, outbox/inbox, buses, clock, auth, errors."""
