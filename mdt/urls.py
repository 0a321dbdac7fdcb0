from django.urls import path

from mdt import views

app_name = "mdt"

urlpatterns = [
    path("", views.board, name="board"),
    path("cases/new/", views.case_create, name="case-create"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case-edit"),
    path("cases/<int:pk>/opinion/", views.opinion_save, name="opinion-save"),
    path(
        "cases/<int:pk>/opinions/<int:opinion>/",
        views.opinion_history,
        name="opinion-history",
    ),
    path("cases/<int:pk>/consensus/", views.consensus_save, name="consensus-save"),
    path("cases/<int:pk>/schedule/", views.case_schedule, name="case-schedule"),
    path("cases/<int:pk>/follow-up/", views.follow_up_set, name="follow-up"),
    path("cases/<int:pk>/close/", views.case_close, name="case-close"),
    path("cases/<int:pk>/audit/", views.case_audit, name="case-audit"),
    path("cases/<int:pk>/export.txt", views.case_export, name="case-export"),
    path("sessions/new/", views.session_create, name="session-create"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session-edit"),
    path("sessions/<int:pk>/calendar.ics", views.session_ics, name="session-ics"),
    path("consent/<int:pk>/", views.consent_decide, name="consent"),
]
