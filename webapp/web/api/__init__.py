"""The JSON API under /api/v1, described by /api/v1/openapi.json.

Who calls: a person with a personal token (`Authorization: Bearer kr_...`), or the browser of a
logged-in person (the session cookie; a write then needs the CSRF token in `X-CSRFToken`). The
complaint form is public. The organisation rules are those of the staff pages: a caller sees only
the organisations where they hold a role, another organisation's objects are a 404 (never a 403),
and auditors read but never write. Every answer under /api/v1 is JSON, errors included.

The package: `base` (the blueprint, its errors, authentication, input and output shared by the
routes), and one module of routes each for the public complaint form and
registrations, tasks, and complaints.
"""

from __future__ import annotations

from . import complaints, intake, tasks  # noqa: F401 - registers the routes
from .base import MESSAGES, bp, error_response

__all__ = ["MESSAGES", "bp", "error_response"]
