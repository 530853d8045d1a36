"""The prebuilt statements of the busiest paths stay within what psycopg caches.

psycopg converts a statement's `%(name)s` placeholders by parsing its text, and keeps the
result only for statements of at most `MAX_CACHED_STATEMENT_LENGTH` bytes with at most
`MAX_CACHED_STATEMENT_PARAMS` parameters: a longer one is parsed again at every execution
(measured at 0.5 ms of CPU per submission for a filing statement 26 bytes over).
"""

from __future__ import annotations

from typing import Any

import pytest
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from workflow.domain.machine import Action
from workflow.people import accounts
from workflow.tickets import completion, decisions, filing, submission_context
from workflow.tickets.decision_statement import DecisionWrites, decision_statement

HOT_STATEMENTS: dict[str, Any] = {
    "identity by token": accounts._IDENTITY_BY_TOKEN,
    "submission context": submission_context._SUBMISSION_CONTEXT_AND_PICK_LOCK,
    "filing": filing._FILE_IN_ONE_STATEMENT,
    "filing that picks the extension": filing._FILE_WITH_NEXT_EXTENSION,
    "approval": decision_statement(DecisionWrites(Action.APPROVE, provisions=True)),
    "rejection": decision_statement(DecisionWrites(Action.REJECT)),
    "cancellation": decision_statement(DecisionWrites(Action.CANCEL, deciders_too=True)),
    "retry": decision_statement(decisions._RETRY),
    "completion of a batch": completion._COMPLETE_ALL,
}


@pytest.mark.parametrize("name", HOT_STATEMENTS)
def test_a_hot_statement_is_parsed_once_per_connection(name: str) -> None:
    compiled = HOT_STATEMENTS[name].compile(dialect=PGDialect_psycopg())
    assert len(str(compiled).encode()) <= MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= MAX_CACHED_STATEMENT_PARAMS
