from django import forms

from core.forms import IdListField
from notifications.models import Verb


class MarkReadForm(forms.Form):
    """Mark some notifications read (``id``, repeated), or all of them (``all``)."""

    id = IdListField(required=False)
    all = forms.BooleanField(required=False)
    next = forms.CharField(required=False)

    def clean_next(self) -> str:
        """Only a path on this site: never ``//elsewhere.example``."""
        target = self.cleaned_data["next"]
        return target if target.startswith("/") and not target.startswith("//") else ""


class PreferencesForm(forms.Form):
    """Two checkboxes per kind of notification: on the site, by e-mail."""

    def __init__(self, *args, table: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.table = table
        for row in table:
            self.fields[f"{row['verb']}__in_app"] = forms.BooleanField(
                required=False, initial=row["in_app"]
            )
            self.fields[f"{row['verb']}__email"] = forms.BooleanField(
                required=False, initial=row["email"]
            )

    def rows(self):
        for row in self.table:
            yield row | {
                "in_app_field": self[f"{row['verb']}__in_app"],
                "email_field": self[f"{row['verb']}__email"],
            }

    def choices(self) -> dict[str, tuple[bool, bool]]:
        return {
            row["verb"]: (
                self.cleaned_data[f"{row['verb']}__in_app"],
                self.cleaned_data[f"{row['verb']}__email"],
            )
            for row in self.table
            if row["verb"] in Verb.values
        }
