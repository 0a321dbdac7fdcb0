from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404
from django.utils import translation

from forum import live, selectors
from notifications.consumers import SessionSocketMixin, socket_language

NOT_FOUND = 4404


class QuestionConsumer(SessionSocketMixin, AsyncJsonWebsocketConsumer):
    """Relays newly published answers and replies to readers of one question.

    A signed-in reader may read what a visitor may not (their own question
    while it waits for a moderator), so their socket ends with their session
    (4401); a visitor's has no session to end.
    """

    async def connect(self):
        await self.accept()
        user = self.scope["user"]
        if user.is_authenticated:
            # Listening before the check, so a logout during it still closes the socket.
            await self.join_session(user)
        question_id = self.scope["url_route"]["kwargs"]["pk"]
        try:
            await database_sync_to_async(selectors.question_get_for_viewer)(
                pk=question_id, viewer=user
            )
        except Http404:
            # Unknown, or not readable by this person: the same answer for both.
            await self.refuse(NOT_FOUND)
            return
        self.language = socket_language(self.scope)
        await self.join(live.question_group(question_id))

    async def question_post(self, event):
        payloads = event["payloads"]
        with translation.override(self.language):
            await self.send_json(payloads.get(self.language) or next(iter(payloads.values())))
