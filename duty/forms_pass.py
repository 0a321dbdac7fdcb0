from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IdField


class PassForm(forms.Form):
    group = IdField()
    note = forms.CharField(
        label=_("Note for the other group (optional)"), required=False, max_length=1000
    )
