"""The import rules of workflow/: the domain stands alone and its rooms stack without circles."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
#: The contracts written in pyproject.toml, each checked on its own so a failure names it.
CONTRACTS = ("domain-only", "pure-domain", "rooms", "no-circles")


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_import_contract_is_kept(contract: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each contract in pyproject.toml holds for the code as it is."""
    monkeypatch.chdir(ROOT)
    assert lint_imports(limit_to_contracts=(contract,), no_cache=True, no_logo=True) == 0
