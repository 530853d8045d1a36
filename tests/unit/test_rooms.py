"""The import rules of workflow/: the domain stands alone and its rooms stack without circles."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
#: The contracts written in pyproject.toml, each checked on its own so a failure names it.
CONTRACTS = ("domain-only", "pure-domain", "rooms", "no-circles")


@pytest.fixture
def loggers_left_enabled() -> Iterator[None]:
    """import-linter configures its logging with `dictConfig`, which disables every logger
    that exists already (the access log's among them): each is put back as it was, so the
    tests that run next in this process still see what the app logs."""
    loggers = [each for each in logging.root.manager.loggerDict.values()
               if isinstance(each, logging.Logger)]
    disabled = [each.disabled for each in loggers]
    yield
    for logger, was in zip(loggers, disabled, strict=True):
        logger.disabled = was


@pytest.mark.parametrize("contract", CONTRACTS)
@pytest.mark.usefixtures("loggers_left_enabled")
def test_the_import_contract_is_kept(contract: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each contract in pyproject.toml holds for the code as it is."""
    monkeypatch.chdir(ROOT)
    assert lint_imports(limit_to_contracts=(contract,), no_cache=True, no_logo=True) == 0
