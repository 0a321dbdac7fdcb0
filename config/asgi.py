"""ASGI entry point: pages over HTTP and the live channels over websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddleware  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

NOT_FOUND = 4404
NUL = "\x00"


class IgnoreNulCookies:
    """Drop cookies holding a NUL before the session is read from them.

    PostgreSQL refuses NUL in text, so looking up such a session key would
    fail the handshake with a 500; pages do the same (core.middleware).
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        cookies = {
            name: value for name, value in scope["cookies"].items() if NUL not in name + value
        }
        return await self.inner(dict(scope, cookies=cookies), receive, send)


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """A path no app serves: closed as an unknown question's socket is (4404).

    Without it URLRouter raises, and the handshake fails with a 500 and a traceback.
    """

    async def connect(self):
        await self.accept()
        await self.close(code=NOT_FOUND)


routes = URLRouter([*websocket_urlpatterns, re_path(r"", UnknownPathConsumer.as_asgi())])
# channels.auth.AuthMiddlewareStack, with IgnoreNulCookies before the session is read.
sockets = CookieMiddleware(IgnoreNulCookies(SessionMiddleware(AuthMiddleware(routes))))

application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": AllowedHostsOriginValidator(sockets)}
)
