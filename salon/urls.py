from django.urls import path

from salon import views

app_name = "salon"

urlpatterns = [
    path("salon/", views.event_list, name="event-list"),
    path("salon/calendar.ics", views.calendar_feed, name="calendar-feed"),
    path("salon/events/new/", views.event_create, name="event-create"),
    path("salon/events/<int:pk>/", views.event_detail, name="event-detail"),
    path("salon/events/<int:pk>/edit/", views.event_edit, name="event-edit"),
    path("salon/events/<int:pk>/rsvp/", views.event_rsvp, name="event-rsvp"),
    path("salon/events/<int:pk>/event.ics", views.event_ics, name="event-ics"),
    path("salon/events/<int:pk>/attendees/", views.event_attendees, name="event-attendees"),
    path(
        "salon/events/<int:pk>/attendees.csv",
        views.event_attendees_csv,
        name="event-attendees-csv",
    ),
    path("salon/events/<int:pk>/live/", views.event_live, name="event-live"),
    path(
        "salon/events/<int:pk>/live/questions/",
        views.live_question_create,
        name="live-question-create",
    ),
    path(
        "salon/events/<int:pk>/live/questions/<int:question_pk>/vote/",
        views.live_question_vote,
        name="live-question-vote",
    ),
    path(
        "salon/events/<int:pk>/live/questions/<int:question_pk>/answered/",
        views.live_question_answered,
        name="live-question-answered",
    ),
    path(
        "salon/events/<int:pk>/live/publish/",
        views.live_questions_publish,
        name="live-questions-publish",
    ),
]
