"""Browser-test fixtures: Debian's headless Chromium through Playwright (no browser download)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: make e2e_helpers importable

from e2e_helpers import chromium_path  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                               args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()

