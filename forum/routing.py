from django.urls import path

from forum.consumers import QuestionConsumer

websocket_urlpatterns = [
    path("ws/questions/<int:pk>/", QuestionConsumer.as_asgi()),
]
