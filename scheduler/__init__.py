"""The scheduler daemon (expiry, reminders, outbox sweeps): not built yet."""
