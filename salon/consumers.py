from channels.db import aclose_old_connections, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from notifications.consumers import UNAUTHENTICATED, SessionSocketMixin, socket_language
from salon import live, selectors

FORBIDDEN = 4403
NOT_FOUND = 4404


class SalonRoomConsumer(SessionSocketMixin, AsyncJsonWebsocketConsumer):
    """Relays new questions, votes and answers to the people in one live room.

    Only confirmed attendees, the event's hosts and organisers may join;
    questions and votes are sent over HTTP, so the socket only listens. It
    closes when the session ends (4401) and when its person's place or the
    event ends (the code a reconnect would get: 4403, or 4404).
    """

    async def connect(self):
        user = self.scope["user"]
        # Accept before closing so the browser sees the code rather than a failed handshake.
        await self.accept()
        if not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.event_id = self.scope["url_route"]["kwargs"]["pk"]
        # Listening before the check: a place that ends during it still closes the socket.
        await self.join_session(user)
        await self.join(live.member_group(self.event_id, user.pk))
        refusal = await self.access_refusal()
        if refusal is not None:
            await self.refuse(refusal)
            return
        self.language = socket_language(self.scope)
        await self.join(live.room_group(self.event_id))

    async def access_refusal(self) -> int | None:
        """Look up the viewer's role in the room; the close code if they have none."""
        try:
            role = await database_sync_to_async(selectors.room_access)(
                event_id=self.event_id, viewer=self.scope["user"]
            )
        except Http404:
            return NOT_FOUND
        if role is None:
            return FORBIDDEN
        self.role = role
        return None

    async def salon_access_changed(self, event):
        # A place, the hosts or the event changed: check as a reconnect would.
        await aclose_old_connections()
        refusal = await self.access_refusal()
        if refusal is not None:
            await self.refuse(refusal)

    async def salon_message(self, event):
        by_language = event["payloads"].get(self.role) or event["payloads"][live.ROLES[0]]
        await self.send_json(by_language.get(self.language) or next(iter(by_language.values())))
