"""sla (督办): deadlines on the Chinese working-day calendar, reminders, breaches, supervision."""
