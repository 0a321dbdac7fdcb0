"""Form fields shared by the apps."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The largest id a row can have: a 64-bit signed primary key. Larger numbers
# are refused here, before SQLite's driver fails to convert them (OverflowError).
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """A row's id: ASCII digits, from 1 to ``MAX_ID``.

    ``int()`` takes ``٣`` and ``" 3 "`` and fails on ``²`` (which
    ``str.isdigit()`` accepts) and past 4,300 digits; this field refuses them
    all as invalid instead.
    """

    default_error_messages = {"invalid": _("This is not a valid id.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value)
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


class IdListField(forms.Field):
    """Several ids from one repeated form field (``?id=1&id=2``), at most ``max_count``."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": IdField.default_error_messages["invalid"],
        "too_many": _("Choose at most %(max)d."),
    }

    def __init__(self, *, max_count: int = 500, **kwargs):
        self.max_count = max_count
        super().__init__(**kwargs)

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if len(value) > self.max_count:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"max": self.max_count}
            )
        field = IdField()
        return [field.clean(item) for item in value]


def apply_errors(form, error: ValidationError) -> None:
    """Put a service's refusal on the form: each field's errors on that field, the rest on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)
