from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Discipline, User
from mdt.models import Case, Consensus, Session
from salon.forms import _datetime_field


class DisciplineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class CaseForm(forms.ModelForm):
    disciplines_needed = DisciplineChoiceField(
        label=_("Disciplines needed"),
        queryset=Discipline.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Whose opinion the board needs; invite physicians who bring them."),
    )

    class Meta:
        model = Case
        fields = [*Case.SUMMARY_FIELDS, "disciplines_needed"]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("prior_treatments", "imaging", "pathology", "labs", "board_question")
        }


class OpinionForm(forms.Form):
    body = forms.CharField(
        label=_("Your opinion"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown is allowed. Every saved version is kept."),
    )


class ConsensusForm(forms.ModelForm):
    class Meta:
        model = Consensus
        fields = [
            "recommendation",
            "rationale",
            "references",
            "dissent",
            "summary_zh",
            "summary_en",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 4})
            for name in [
                "recommendation",
                "rationale",
                "references",
                "dissent",
                "summary_zh",
                "summary_en",
            ]
        }
        help_texts = {
            "recommendation": _("The board's one agreed plan. Markdown is allowed."),
            "rationale": _("Why: the findings and evidence it rests on. Markdown is allowed."),
        }


class PhysicianChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _physician_label(obj)


class PhysicianMultipleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _physician_label(obj)


def _physician_label(user: User) -> str:
    discipline = user.physician_profile.discipline
    return f"{user.name} · {discipline.label}" if discipline else user.name


class SessionForm(forms.Form):
    title = forms.CharField(label=_("Title"), min_length=3, max_length=150)
    starts_at = _datetime_field(_("Starts"))
    ends_at = _datetime_field(_("Ends"))
    submission_deadline = _datetime_field(_("Cases submitted by"))
    location = forms.CharField(
        label=_("Place or meeting link"),
        required=False,
        max_length=200,
        help_text=_("A room, or the address of the video meeting."),
    )
    chair = PhysicianChoice(label=_("Chair"), queryset=User.objects.none())
    recorder = PhysicianChoice(
        label=_("Recorder"),
        queryset=User.objects.none(),
        help_text=_("Writes the consensus with the chair."),
    )
    invited = PhysicianMultipleChoice(
        label=_("Invited physicians"),
        required=False,
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, physicians, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("chair", "recorder", "invited"):
            self.fields[name].queryset = physicians

    @classmethod
    def initial_for(cls, session: Session) -> dict:
        return {
            "title": session.title,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "submission_deadline": session.submission_deadline,
            "location": session.location,
            "chair": session.chair_id,
            "recorder": session.recorder_id,
            "invited": list(session.invited.values_list("pk", flat=True)),
        }


class ScheduleForm(forms.Form):
    session = forms.ModelChoiceField(
        label=_("Session"),
        required=False,
        queryset=Session.objects.none(),
        empty_label=_("Not on an agenda"),
    )

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = Session.objects.filter(pk__in=[s.pk for s in sessions])
        self.fields["session"].choices = [("", _("Not on an agenda"))] + [
            (s.pk, f"{s.title} · {timezone.localtime(s.starts_at):%Y-%m-%d %H:%M}")
            for s in sessions
        ]


class FollowUpForm(forms.Form):
    follow_up_on = forms.DateField(
        label=_("Follow up on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("You are reminded on this day. Leave empty for no reminder."),
    )


class ConsentForm(forms.Form):
    decision = forms.ChoiceField(choices=[("give", "give"), ("refuse", "refuse")])
