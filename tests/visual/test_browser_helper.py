"""The browser fixture skips with its reason where Chromium is missing, and fails instead under CI."""

from __future__ import annotations

from pathlib import Path

import browser
import pytest


def test_a_missing_chromium_is_a_skip_with_its_reason(monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nowhere/chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"Chromium is not installed at /nowhere/chromium \(apt-get"):
        browser.require_browser()


def test_a_missing_chromium_fails_under_ci(monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nowhere/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="browser tests cannot run in CI: Chromium is not installed"):
        browser.require_browser()


def test_the_fixture_launches_the_distributions_chromium(chromium):
    page = chromium.new_page()
    page.set_content("<p id='x'>&lt;ok&gt;</p>")
    assert page.inner_text("#x") == "<ok>" and chromium.version
    page.close()
