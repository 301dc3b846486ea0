"""dramatiq middleware of reviewq, one per module."""
