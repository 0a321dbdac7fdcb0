import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Discipline, PhysicianProfile, User
from core.timezones import zone_choice_label, zone_choices, zone_label
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

    discipline = forms.ModelChoiceField(
        label=_("Discipline"),
        queryset=Discipline.objects.all(),
        required=False,
        empty_label=_("Choose your discipline"),
        help_text=_(
            "Your field in the multidisciplinary team (MDT), such as surgery or pathology."
        ),
    )

    class Meta:
        model = PhysicianProfile
        fields = [
            "title",
            "hospital",
            "hospital_zh",
            "department",
            "department_zh",
            "specialties",
            "discipline",
            "licence_number",
            "bio",
        ]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["discipline"].label_from_instance = lambda discipline: discipline.label
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


def _default_zone_label() -> str:
    return gettext("%(zone)s (the site's default)") % {"zone": zone_label(settings.TIME_ZONE)}


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), required=False)

    class Meta:
        model = User
        fields = ["name", "timezone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["timezone"]
        # Labelled in the reader's language when the page is built; a zone
        # chosen under an older name stays selectable.
        choices = [("", _default_zone_label()), *zone_choices()]
        current = self.instance.timezone
        if current and current not in dict(choices) and current in zoneinfo.available_timezones():
            choices.insert(1, (current, zone_choice_label(current)))
        field.choices = choices


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
