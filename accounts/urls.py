from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/doctor/apply/", views.doctor_apply, name="doctor-apply"),
    path("accounts/export/", views.account_export, name="export"),
    path("accounts/delete/", views.account_delete, name="delete"),
    path("doctors/", views.doctor_list, name="doctor-list"),
    path("doctors/<int:user_id>/", views.doctor_detail, name="doctor-detail"),
]
