import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import PhysicianProfile, User
from forum.models import Category


class SignupExtraForm(forms.Form):
    """The fields allauth's signup form gains: the name shown beside posts."""

    name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=_("Shown beside your posts. You may use a nickname."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def signup(self, request, user):
        user.name = self.cleaned_data["name"].strip()
        user.save(update_fields=["name"])


class PhysicianApplicationForm(forms.ModelForm):
    specialties = forms.ModelMultipleChoiceField(
        label=_("Specialties"),
        queryset=Category.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The forum sections whose questions you will answer."),
    )

    class Meta:
        model = PhysicianProfile
        fields = ["title", "hospital", "department", "specialties", "licence_number", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["licence_number"].error_messages["required"] = _(
            "Enter your medical licence number: a moderator checks it before you can answer."
        )

    def validate_unique(self):
        # The application may replace the applicant's own earlier one, so only
        # another physician's licence number counts as taken.
        number = self.cleaned_data.get("licence_number", "").strip()
        if (
            number
            and PhysicianProfile.objects.filter(licence_number=number)
            .exclude(user=self.user)
            .exists()
        ):
            self.add_error(
                "licence_number",
                _("This licence number is already registered. Contact a moderator if it is yours."),
            )


def timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=lambda: [("", _("China Standard Time (Asia/Shanghai)")), *timezone_choices()],
    )

    class Meta:
        model = User
        fields = ["name", "timezone"]


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm.")},
    )
