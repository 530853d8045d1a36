"""Who may open a page: signed-in people only, and some pages only for some roles."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from web.auth import current_actor
from workflow.domain.rules import Actor, Role

View = TypeVar("View", bound=Callable[..., Any])

#: Never in a path to go back to: control characters (a line break would split the Location
#: header), backslashes (browsers read "/\\evil" as "//evil"), lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\\\\\ud800-\udfff]")


def signed_in(*roles: Role) -> Callable[[View], View]:
    """Send anonymous visitors to the sign-in page; refuse roles not listed (all if none)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("sign_in.login", next=request.full_path))
            if roles and current_actor().role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def actor() -> Actor:
    """The signed-in user, as the rules see them."""
    return current_actor()


def safe_next(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback` (no open redirects, no header
    injection)."""
    if not target or _UNSAFE.search(target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
