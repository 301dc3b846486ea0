"""Configuration read from the environment (and a `.env` file)."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
