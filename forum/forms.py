import re
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from attachments.forms import AttachmentsField
from core.forms import IdField
from forum.models import Category, Question
from forum.services import BODY_MAX, BODY_MIN, MAX_TAGS, REPLY_MAX, TITLE_MAX, TITLE_MIN
from moderation import detectors


def split_tags(value: str) -> list[str]:
    return [name.strip() for name in value.replace("，", ",").split(",") if name.strip()]


class QuestionForm(forms.Form):
    title = forms.CharField(
        label=pgettext_lazy("question", "Title"),
        min_length=TITLE_MIN,
        max_length=TITLE_MAX,
        help_text=_("Your question in one sentence, 10 to 150 characters."),
    )
    body = forms.CharField(
        label=_("Details"),
        min_length=BODY_MIN,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Describe the situation: diagnosis, treatment so far, what worries you. "
            "Do not include names, phone numbers or ID numbers. Markdown is allowed."
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Topic"), queryset=Category.objects.all(), empty_label=_("Choose a topic")
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Up to 5, separated by commas, for example: Chemotherapy, Nutrition"),
    )
    # Left unchosen it says nothing: the asker may be writing about someone else.
    asker = forms.ChoiceField(
        label=_("Who is this question about?"),
        choices=[
            *[choice for choice in Question.Asker.choices if choice[0]],
            (Question.Asker.NOT_SAID, _("I would rather not say")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    stage = forms.ChoiceField(
        label=_("Diagnosis stage"), choices=Question.Stage.choices, required=False
    )
    treatment = forms.ChoiceField(
        label=_("Current treatment"),
        choices=[("", _("Not given")), *Question.Treatment.choices],
        required=False,
    )
    regimen = forms.CharField(
        label=_("Regimen"),
        max_length=80,
        required=False,
        help_text=_("For example XELOX, FOLFOX or SOX."),
    )
    cycle = forms.IntegerField(label=_("Cycle"), min_value=1, max_value=99, required=False)
    anonymous = forms.BooleanField(
        label=_("Ask anonymously"),
        required=False,
        help_text=_(
            "Others see “Anonymous patient” instead of your name. Moderators can still see who asked."
        ),
    )

    # Shown only when the text needs them (see clean()).
    confirm_personal_data = forms.BooleanField(
        label=_("I understand: send it to a moderator, who may remove these details"),
        required=False,
    )
    not_emergency = forms.BooleanField(
        label=_("This is not an emergency: post my question"), required=False
    )

    CHECKS = ("confirm_personal_data", "not_emergency")
    NOTICE_CODES = ("personal_data", "emergency")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.personal_data = []
        self.emergency = False

    def clean(self):
        data = super().clean()
        text = f"{data.get('title', '')}\n{data.get('body', '')}"
        self.personal_data = detectors.find_personal_data(text)
        if self.personal_data and not data.get("confirm_personal_data"):
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "Your question seems to contain personal data. Please remove it, or confirm below to send it to a moderator."
                    ),
                    code="personal_data",
                ),
            )
        self.emergency = detectors.has_emergency_words(text)
        if self.emergency and not data.get("not_emergency"):
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "What you describe may need urgent care. If it is an emergency, call 120 or go to the nearest emergency department now."
                    ),
                    code="emergency",
                ),
            )
        return data

    def notice_errors(self) -> list[str]:
        """Form-wide errors besides the two that the page's notice words itself.

        The notice (forum/_question_notice.html) puts the emergency first and
        then lists what to fix; these are the rest of that list.
        """
        return [
            message
            for error in self.non_field_errors().as_data()
            if error.code not in self.NOTICE_CODES
            for message in error.messages
        ]

    def clean_tags(self):
        names = split_tags(self.cleaned_data["tags"])
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(_("Use at most %(max)d tags.") % {"max": MAX_TAGS})
        return names

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "category": data["category"],
            "tags": data["tags"],
            "is_anonymous": data["anonymous"],
            "asker": data["asker"],
            "stage": data["stage"],
            "treatment": data["treatment"],
            "regimen": data["regimen"],
            "cycle": data["cycle"],
        }

    @classmethod
    def initial_for(cls, question: Question) -> dict:
        return {
            "title": question.title,
            "body": question.body,
            "category": question.category_id,
            "tags": ", ".join(tag.name for tag in question.tags.all()),
            "asker": question.asker,
            "stage": question.stage,
            "treatment": question.treatment,
            "regimen": question.regimen,
            "cycle": question.cycle,
            "anonymous": question.is_anonymous,
        }


class QuestionAskForm(QuestionForm):
    """The ask form: a question, with photos of reports for the physicians."""

    attachments = AttachmentsField(label=_("Photos of reports (optional)"))

    field_order = ["title", "body", "attachments"]

    def clean(self):
        data = super().clean()
        if self.errors and self.files.getlist("attachments") and "attachments" not in self.errors:
            # A browser cannot fill a file field again: say so beside it.
            self.add_error(
                "attachments",
                forms.ValidationError(
                    _("Your photos are fine. Choose them again once the rest is right."),
                    code="choose_again",
                ),
            )
        return data

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "attachments": self.cleaned_data.get("attachments", [])}


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"),
        min_length=20,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Markdown is allowed. Online answers are general information, not a consultation."
        ),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        min_length=2,
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    answer = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReplyCreateForm(ReplyForm):
    """A new reply; the asker may add photos of reports under their own question."""

    attachments = AttachmentsField(label=_("Add photos of reports (optional)"))


class ListFilterForm(forms.Form):
    """The list's query string, checked; unknown values are ignored."""

    status = forms.ChoiceField(
        required=False,
        choices=[("", _("All")), ("unanswered", _("Unanswered")), ("answered", _("Answered"))],
        label=_("Status"),
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("newest", _("Newest")),
            ("active", _("Recently active")),
            ("thanked", _("Most thanked")),
        ],
        label=_("Sort by"),
    )
    stage = forms.ChoiceField(
        required=False,
        choices=[("", _("Any stage")), *[c for c in Question.Stage.choices if c[0]]],
        label=_("Stage"),
    )
    treatment = forms.ChoiceField(
        required=False,
        choices=[("", _("Any treatment")), *Question.Treatment.choices],
        label=_("Treatment"),
    )
    asker = forms.ChoiceField(
        required=False,
        choices=[("", _("Anyone")), *[c for c in Question.Asker.choices if c[0]]],
        label=_("Asked by"),
    )


# The path of a question's page, as forum/urls.py writes it.
QUESTION_PATH = re.compile(r"/questions/([0-9]+)(?:/.*)?")


class DuplicateForm(forms.Form):
    """The answered question a physician links to: its address or its number."""

    original = forms.CharField(
        label=_("The answered question"),
        max_length=500,
        help_text=_("Paste its address from this site, or type its number."),
    )

    def __init__(self, *args, host: str = "", **kwargs):
        self.host = host
        super().__init__(*args, **kwargs)

    def clean_original(self) -> int:
        value = self.cleaned_data["original"].strip()
        number = value.removeprefix("#")
        if not (number.isascii() and number.isdigit()):
            number = self._number_in_address(value)
        try:
            return IdField().clean(number)
        except ValidationError:
            raise ValidationError(self._invalid(), code="invalid") from None

    def _number_in_address(self, value: str) -> str:
        try:
            parts = urlsplit(value)
        except ValueError:  # a malformed host such as "http://[::1"
            raise ValidationError(self._invalid(), code="invalid") from None
        same_site = not parts.netloc or parts.netloc.lower() == self.host.lower()
        match = QUESTION_PATH.fullmatch(parts.path)
        if parts.scheme not in ("", "http", "https") or not same_site or match is None:
            raise ValidationError(self._invalid(), code="invalid")
        return match[1]

    @staticmethod
    def _invalid() -> str:
        return _("Paste the address of a question on this site, or type its number.")
