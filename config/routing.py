"""Websocket routes of every app, composed once for config.asgi."""

websocket_urlpatterns = []
