"""The pure matching engine: no database, no broker."""
