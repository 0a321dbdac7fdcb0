from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404
from django.utils import translation

from forum import live, selectors
from notifications.consumers import socket_language

NOT_FOUND = 4404


class QuestionConsumer(AsyncJsonWebsocketConsumer):
    """Relays newly published answers and replies to readers of one question."""

    async def connect(self):
        await self.accept()
        question_id = self.scope["url_route"]["kwargs"]["pk"]
        try:
            await database_sync_to_async(selectors.question_get_for_viewer)(
                pk=question_id, viewer=self.scope["user"]
            )
        except Http404:
            # Unknown, or not readable by this person: the same answer for both.
            await self.close(code=NOT_FOUND)
            return
        self.group = live.question_group(question_id)
        self.language = socket_language(self.scope)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def question_post(self, event):
        payloads = event["payloads"]
        with translation.override(self.language):
            await self.send_json(payloads.get(self.language) or next(iter(payloads.values())))
