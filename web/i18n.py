"""Which language to answer in."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from web.messages import LANGUAGES


def current_language() -> str:
    """?lang=, else the Accept-Language header, else the user's choice, else Vietnamese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    header = request.accept_languages.best_match(LANGUAGES)
    if header:
        return header
    language = getattr(current_user, "language", None)
    return language if language in LANGUAGES else LANGUAGES[0]
