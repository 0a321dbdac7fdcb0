"""Small validation shared by every app that takes text from people."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def check_length(field: str, text: str, low: int, high: int) -> None:
    """Refuse text shorter than ``low`` or longer than ``high`` characters, naming the field."""
    length = len(text.strip())
    if length < low:
        raise ValidationError(
            {
                field: _("Please write at least %(min)d characters (now %(n)d).")
                % {"min": low, "n": length}
            }
        )
    if length > high:
        raise ValidationError(
            {
                field: _("Please keep it under %(max)d characters (now %(n)d).")
                % {"max": high, "n": length}
            }
        )
