from django.urls import path

from attachments import views

app_name = "attachments"

urlpatterns = [
    path("attachments/<uuid:key>/", views.image, name="image"),
    path("attachments/<uuid:key>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("attachments/<uuid:key>/status/", views.status, name="status"),
    path("attachments/<uuid:key>/cover/", views.cover, name="cover"),
    path("attachments/<uuid:key>/review/", views.review, name="review"),
    path("attachments/<uuid:key>/remove/", views.remove, name="remove"),
]
