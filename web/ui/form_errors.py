"""Refusals of the domain shown on forms: each problem on the field it names, the rest above."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wtforms import Form

from web.i18n import current_language
from web.messages import render
from workflow.domain.errors import Problem, RuleViolation, WorkflowError


def problem_messages(problems: Iterable[Problem], language: str | None = None) -> list[str]:
    """Problems as messages, in `language` (the page's when None)."""
    language = language or current_language()
    return [render(problem.code, problem.params, language) for problem in problems]


def refusal_messages(error: WorkflowError, language: str | None = None
                     ) -> list[tuple[str | None, list[str]]]:
    """The messages of a refusal by the field each names (None: no field), in order."""
    if isinstance(error, RuleViolation):
        return [(name, problem_messages(problems, language))
                for name, problems in error.problems.items()]
    return [(None, problem_messages([Problem(error.code, error.params)], language))]


def refusal_text(error: WorkflowError, language: str | None = None) -> list[str]:
    """Every message of a refusal, for a page that shows them above everything."""
    return [message for _name, messages in refusal_messages(error, language)
            for message in messages]


def show_refusal(form: Form, error: WorkflowError, *, field: str | None = None,
                 fallback: str | None = None, field_of: Mapping[str, str] | None = None,
                 language: str | None = None) -> None:
    """Put a refusal's messages on `form`: each on the field it names, or all on `field` when
    given; a message naming no field of the form goes on `fallback`, else above the form.

    `field_of` maps the problems' names to the form's fields where they differ; a name it
    does not list then names no field."""
    for name, messages in refusal_messages(error, language):
        target = field or _field_named(form, name, field_of) or fallback
        if target is None:
            form.form_errors = [*form.form_errors, *messages]
        else:
            # A field that was never validated holds its errors in a tuple.
            form[target].errors = [*form[target].errors, *messages]


def _field_named(form: Form, name: str | None, field_of: Mapping[str, str] | None
                 ) -> str | None:
    """The form's field a problem name stands for, if the form has it."""
    wanted = name if field_of is None or name is None else field_of.get(name)
    return wanted if wanted is not None and wanted in form else None
