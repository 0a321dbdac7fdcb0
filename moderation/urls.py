from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("moderation/", views.queue, name="queue"),
    path("moderation/cases/<int:case_id>/decide/", views.decide, name="decide"),
    path("moderation/log/", views.log, name="log"),
    path("moderation/words/", views.words, name="words"),
    path("moderation/users/<int:user_id>/suspend/", views.suspend, name="suspend"),
    path("flag/<str:kind>/<int:pk>/", views.flag, name="flag"),
]
