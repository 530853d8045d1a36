"""The one blueprint of the calling-function pages; each module of the package adds its routes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calling_pages", __name__)
