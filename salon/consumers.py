from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from notifications.consumers import UNAUTHENTICATED, socket_language
from salon import live, selectors

FORBIDDEN = 4403
NOT_FOUND = 4404


class SalonRoomConsumer(AsyncJsonWebsocketConsumer):
    """Relays new questions, votes and answers to the people in one live room.

    Only confirmed attendees, the event's hosts and organisers may join;
    questions and votes are sent over HTTP, so the socket only listens.
    """

    async def connect(self):
        user = self.scope["user"]
        # Accept before closing so the browser sees the code rather than a failed handshake.
        await self.accept()
        if not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        event_id = self.scope["url_route"]["kwargs"]["pk"]
        try:
            role = await database_sync_to_async(selectors.room_access)(
                event_id=event_id, viewer=user
            )
        except Http404:
            await self.close(code=NOT_FOUND)
            return
        if role is None:
            await self.close(code=FORBIDDEN)
            return
        self.role = role
        self.language = socket_language(self.scope)
        self.group = live.room_group(event_id)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def salon_message(self, event):
        by_language = event["payloads"].get(self.role) or event["payloads"][live.ROLES[0]]
        await self.send_json(by_language.get(self.language) or next(iter(by_language.values())))
