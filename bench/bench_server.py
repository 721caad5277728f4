"""WSGI app of the benchmarks: the portal as configured by PORTAL_* variables."""

from __future__ import annotations

from portal import create_app

app = create_app()
