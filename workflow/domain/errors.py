"""Domain errors; the web and task layers map them to responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.domain.codes import ErrorCode


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field: a message code and its parameters."""

    code: ErrorCode
    params: Mapping[str, Any] = field(default_factory=dict)


class WorkflowError(Exception):
    """Base of every expected domain outcome that is not success."""

    code: ErrorCode = ErrorCode.ERROR

    def __init__(self, code: ErrorCode | None = None, **params: Any) -> None:
        self.code = code or self.code
        self.params = params
        super().__init__(self.code, params)


class NotFound(WorkflowError):
    """The named thing does not exist (or is not visible to the caller)."""

    code = ErrorCode.NOT_FOUND


class PermissionDenied(WorkflowError):
    """The caller may not do this."""

    code = ErrorCode.FORBIDDEN


class Conflict(WorkflowError):
    """Someone else changed the thing first; reload and try again."""

    code = ErrorCode.CONFLICT


class TransitionNotAllowed(Conflict):
    """The state machine does not allow this action from the current state."""

    code = ErrorCode.TRANSITION_NOT_ALLOWED

    def __init__(self, action: str, state: str) -> None:
        super().__init__(action=action, state=state)

    def __str__(self) -> str:
        return f"Can't {self.params['action']} when in {self.params['state']}."


class RuleViolation(WorkflowError):
    """Input breaks a business rule; carries per-field problems."""

    code = ErrorCode.INVALID

    def __init__(self, problems: Mapping[str, list[Problem]]) -> None:
        super().__init__()
        self.problems = dict(problems)

    @classmethod
    def single(cls, field_name: str, code: ErrorCode, **params: Any) -> RuleViolation:
        """A violation with one problem on one field."""
        return cls({field_name: [Problem(code, params)]})

    def __str__(self) -> str:
        return ", ".join(f"{k}: {[p.code for p in v]}" for k, v in self.problems.items())
