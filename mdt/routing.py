from django.urls import path

from mdt.consumers import CaseConsumer

websocket_urlpatterns = [
    path("ws/mdt/<int:pk>/", CaseConsumer.as_asgi()),
]
