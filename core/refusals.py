"""Telling a person why an action was refused, in their language (STYLE section 2).

Services raise ``PermissionDenied`` with the reason (suspended until when,
only the asker may accept, the question is locked); views pass it on: the
403 page shows it, form views make it a form error and keep what was typed,
buttons flash it on the page they came from.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.ratelimit import RateLimited


def refusal_text(error: PermissionDenied | None) -> str:
    """The service's reason, or a general one when it gave none."""
    reason = str(error) if error is not None else ""
    return reason or _(
        "Your account does not have permission for this page or action. "
        "If you think this is a mistake, contact a moderator."
    )


def refusal_status(error: PermissionDenied) -> int:
    return 429 if isinstance(error, RateLimited) else 403
