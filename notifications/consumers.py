"""Thin consumers: authenticate, join groups, relay (STYLE section 4)."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from core.forms import MAX_ID
from notifications import fanout, payloads, selectors, services

UNAUTHENTICATED = 4401


def socket_language(scope) -> str:
    """The reader's language, chosen as LocaleMiddleware chooses it for their pages.

    The language cookie first, then the browser's Accept-Language, then the default.
    """
    supported = dict(settings.LANGUAGES)
    code = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    if code in supported:
        return code
    header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    for accepted, _quality in parse_accept_lang_header(header):
        if accepted == "*":
            break
        try:
            return get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class SessionSocketMixin:
    """Groups joined and left in one place, and a close when the session ends.

    A signed-in person's socket joins their user group and their session's
    group, so logout, a password change, suspension or deletion closes it
    (``notifications.services.sessions_revoke``). Each consumer joins its own
    groups with ``join``; ``disconnect`` leaves them all.
    """

    async def join(self, *groups: str) -> None:
        self.groups_joined = [*getattr(self, "groups_joined", ()), *groups]
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def join_session(self, user) -> None:
        """Join the groups a revocation is sent to; before any permission check, so none is missed."""
        groups = [payloads.user_group(user.pk)]
        session = self.scope.get("session")
        if session is not None and session.session_key:
            groups.append(payloads.session_group(session.session_key))
        await self.join(*groups)

    async def leave(self) -> None:
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    async def refuse(self, code: int) -> None:
        """Stop listening, then close; the browser does not reconnect after 4401, 4403 or 4404."""
        self.refused = True
        await self.leave()
        await self.close(code=code)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Pass on only a JSON object with a string ``type``; ignore any other frame.

        Channels would raise on a binary frame, broken or too deeply nested
        JSON, and ``receive_json`` on a ``type`` that cannot be looked up; the
        socket would close with 1011. The page never sends those, so no answer.
        """
        if not text_data:
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):
            return
        if isinstance(content, dict) and isinstance(content.get("type"), str):
            await self.receive_json(content, **kwargs)

    async def send_json(self, content, close=False):
        # Layer messages queued before the refusal must not follow the close frame.
        if not getattr(self, "refused", False):
            await super().send_json(content, close=close)

    async def disconnect(self, code):
        await self.leave()

    async def session_revoked(self, event):
        # The session that opened this socket ended (logout, password change,
        # suspension): the socket must not outlive it.
        await self.refuse(UNAUTHENTICATED)

    async def notification_created(self, event):
        """The user group carries the bell's notifications too; other sockets let them pass."""


class NotificationConsumer(SessionSocketMixin, AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope["user"]
        # Accept before closing so the browser sees 4401 rather than a failed handshake.
        await self.accept()
        if not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.user = user
        self.language = socket_language(self.scope)
        await self.join_session(user)
        # Long lists of notifications arrive through this process's listener.
        fanout.listener().add(user.pk, self)
        await self.send_json(await database_sync_to_async(selectors.hello)(user=user))

    async def leave(self) -> None:
        if hasattr(self, "user"):
            fanout.listener().remove(self.user.pk, self)
        await super().leave()

    async def receive_json(self, content, **kwargs):
        if not hasattr(self, "user") or not isinstance(content, dict):
            return
        handler = {"since": self.client_since, "mark_read": self.client_mark_read}.get(
            content.get("type")
        )
        if handler is not None:
            await handler(content)

    async def client_since(self, content):
        since = content.get("id")
        if not isinstance(since, int) or since < 0:
            since = 0
        events = await database_sync_to_async(selectors.catch_up)(user=self.user, since_id=since)
        for event in events:
            await self.notification_created(event)

    async def client_mark_read(self, content):
        ids = content.get("ids")
        if not isinstance(ids, list):
            return
        # Only ids a row can have: past 64 bits SQLite's driver would raise.
        ids = [i for i in ids if type(i) is int and 0 < i <= MAX_ID]
        marked = await database_sync_to_async(services.notifications_mark_read)(
            user=self.user, ids=ids
        )
        unread = await database_sync_to_async(selectors.unread_count)(user=self.user)
        await self.send_json(payloads.read_payload(ids=marked, unread=unread))

    async def notification_created(self, event):
        with translation.override(self.language):
            await self.send_json(payloads.notification_payload(event))
