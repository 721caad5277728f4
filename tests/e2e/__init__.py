"""Browser tests (Playwright + Chromium); fixtures in conftest.py."""
