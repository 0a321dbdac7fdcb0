from channels.db import aclose_old_connections, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from mdt import live, selectors
from notifications.consumers import UNAUTHENTICATED, SessionSocketMixin, socket_language

NOT_FOUND = 4404


class CaseConsumer(SessionSocketMixin, AsyncJsonWebsocketConsumer):
    """Relays opinions and the consensus to the open pages of one MDT case.

    Only those who may read the case join: its owner, the session's chair,
    recorder and invited physicians, and moderators. Anyone else is closed
    with 4404, as the page would answer 404; a visitor with 4401. The socket
    closes when the session ends and when its person's access ends. It only
    listens: opinions are written over HTTP.
    """

    async def connect(self):
        user = self.scope["user"]
        await self.accept()
        if not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.case_id = self.scope["url_route"]["kwargs"]["pk"]
        # Listening before the check: access that ends during it still closes the socket.
        await self.join_session(user)
        await self.join(live.member_group(self.case_id, user.pk))
        if not await self.readable():
            await self.refuse(NOT_FOUND)
            return
        self.language = socket_language(self.scope)
        await self.join(live.case_group(self.case_id))

    async def readable(self) -> bool:
        return await database_sync_to_async(selectors.case_readable)(
            pk=self.case_id, viewer=self.scope["user"]
        )

    async def mdt_access_changed(self, event):
        await aclose_old_connections()
        if not await self.readable():
            await self.refuse(NOT_FOUND)

    async def mdt_message(self, event):
        payloads = event["payloads"]
        await self.send_json(payloads.get(self.language) or next(iter(payloads.values())))
