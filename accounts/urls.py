from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/doctor/apply/", views.doctor_apply, name="doctor-apply"),
    path("doctors/", views.doctor_list, name="doctor-list"),
    path("doctors/<int:user_id>/", views.doctor_detail, name="doctor-detail"),
]
