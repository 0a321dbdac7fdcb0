from django.urls import path

from duty import claims, dashboard, views

app_name = "duty"

urlpatterns = [
    path("roster/", views.roster, name="roster"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("questions/<int:pk>/claim/", claims.claim, name="claim"),
    path("questions/<int:pk>/pass/", claims.pass_to_group, name="pass"),
]
