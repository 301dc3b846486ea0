"""Every router of the API, in one list (each resource's module adds itself here)."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
