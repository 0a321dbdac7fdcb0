from django.urls import path

from salon.consumers import SalonRoomConsumer

websocket_urlpatterns = [
    path("ws/salon/<int:pk>/", SalonRoomConsumer.as_asgi()),
]
