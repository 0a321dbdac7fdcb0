from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import PhysicianProfile, User
from forum.models import Category
from salon.models import Event
from salon.services import ANSWER_MAX, QUESTION_MAX, QUESTION_MIN, TITLE_MAX, TITLE_MIN

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class HostChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.physician_profile.get_title_display()}"


def _datetime_field(label):
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        help_text=_("China Standard Time (Asia/Shanghai) unless your profile says otherwise."),
    )


class EventForm(forms.Form):
    title = forms.CharField(
        label=pgettext_lazy("event", "Title"), min_length=TITLE_MIN, max_length=TITLE_MAX
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the meeting is about and who it is for. Markdown is allowed."),
    )
    starts_at = _datetime_field(_("Starts"))
    ends_at = _datetime_field(_("Ends"))
    location = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=200,
        help_text=_("Room and building. Leave empty for an online meeting."),
    )
    online = forms.BooleanField(label=_("Online meeting"), required=False)
    online_url = forms.URLField(
        label=_("Meeting link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Shown only to people with a confirmed place."),
    )
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=10_000)
    waitlist = forms.BooleanField(
        label=_("Keep a waitlist when the event is full"), required=False, initial=True
    )
    waitlist_limit = forms.IntegerField(
        label=_("Waitlist places"),
        required=False,
        min_value=1,
        max_value=10_000,
        help_text=_("Leave empty for no limit."),
    )
    hosts = HostChoiceField(
        label=_("Host physicians"),
        required=False,
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    category = forms.ModelChoiceField(
        label=_("Forum topic"),
        required=False,
        queryset=Category.objects.all(),
        empty_label=_("Living with cancer (general)"),
        help_text=_("Where the answered questions of this event are published after it."),
    )
    state = forms.ChoiceField(label=_("State"), choices=Event.State.choices)

    def __init__(self, *args, event: Event | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hosts"].queryset = (
            User.objects.filter(
                is_active=True, physician_profile__status=PhysicianProfile.Status.VERIFIED
            )
            .select_related("physician_profile")
            .order_by("name", "pk")
        )
        if event is None:
            self.fields["state"].choices = [
                (value, label)
                for value, label in Event.State.choices
                if value != Event.State.CANCELLED
            ]
        elif event.is_cancelled:
            self.fields["state"].choices = [(Event.State.CANCELLED, Event.State.CANCELLED.label)]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "location": data["location"],
            "is_online": data["online"],
            "online_url": data["online_url"],
            "capacity": data["capacity"],
            "has_waitlist": data["waitlist"],
            "waitlist_limit": data["waitlist_limit"],
            "hosts": list(data["hosts"]),
            "category": data["category"],
            "state": data["state"],
        }

    @classmethod
    def initial_for(cls, event: Event) -> dict:
        zone = timezone.get_current_timezone()
        return {
            "title": event.title,
            "description": event.description,
            "starts_at": timezone.localtime(event.starts_at, zone),
            "ends_at": timezone.localtime(event.ends_at, zone),
            "location": event.location,
            "online": event.is_online,
            "online_url": event.online_url,
            "capacity": event.capacity,
            "waitlist": event.has_waitlist,
            "waitlist_limit": event.waitlist_limit,
            "hosts": list(event.hosts.all()),
            "category": event.category,
            "state": event.state,
        }


class LiveQuestionForm(forms.Form):
    body = forms.CharField(
        label=_("Your question for the hosts"),
        min_length=QUESTION_MIN,
        max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Up to 500 characters. Do not include names, phone numbers or ID numbers."),
    )
    anonymous = forms.BooleanField(
        label=_("Ask anonymously"),
        required=False,
        help_text=_("Others see “Anonymous patient” instead of your name."),
    )


class AnsweredForm(forms.Form):
    answer = forms.CharField(
        label=_("What the host said"),
        required=False,
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional now; needed to publish the question in the forum after the event."),
    )
