"""Which language to answer in."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_login import current_user

from web.messages import LANGUAGES

#: Session key of the language chosen with the switch (or the user's saved choice).
SESSION_KEY = "language"


def current_language() -> str:
    """?lang=, else the choice of this browser session, else Accept-Language, else the
    signed-in user's saved choice, else Vietnamese."""
    if not has_request_context():
        return LANGUAGES[0]
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    header = request.accept_languages.best_match(LANGUAGES)
    if header:
        return header
    language = getattr(current_user, "language", None)
    return language if language in LANGUAGES else LANGUAGES[0]
