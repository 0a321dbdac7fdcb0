from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IdField
from moderation.models import FlagReason


class DecisionForm(forms.Form):
    """A moderator's decision on one case; ``version`` catches decisions on stale views."""

    ACTIONS = [
        ("approve", _("Approve")),
        ("reject", _("Reject")),
        ("redact", _("Redact and approve")),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    version = forms.CharField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (sent to the author)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    title = forms.CharField(label=_("Redacted title"), required=False, max_length=150)
    body = forms.CharField(
        label=_("Redacted text"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "reject" and not data.get("reason", "").strip():
            self.add_error("reason", _("Give the author a reason."))
        if data.get("action") == "redact" and not data.get("body", "").strip():
            self.add_error("body", _("Enter the redacted text."))
        return data


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong?"), choices=FlagReason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Anything the moderators should know (optional)"), required=False, max_length=500
    )


class SuspendForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Suspended until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class BlockedTermForm(forms.Form):
    term = forms.CharField(label=_("Word or phrase"), max_length=80)


class BlockedTermRemoveForm(forms.Form):
    remove = IdField()
