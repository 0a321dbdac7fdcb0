"""Websocket routes of every app, composed once for config.asgi."""

from forum.routing import websocket_urlpatterns as forum_patterns
from mdt.routing import websocket_urlpatterns as mdt_patterns
from notifications.routing import websocket_urlpatterns as notification_patterns
from salon.routing import websocket_urlpatterns as salon_patterns

websocket_urlpatterns = [*notification_patterns, *forum_patterns, *salon_patterns, *mdt_patterns]
