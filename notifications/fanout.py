"""A long list of notifications crosses the channel layer once per server process.

Pushed one ``group_send`` per recipient, a popular question's thousand
followers cost the worker four Redis round trips each and every server two
more per message, and the last follower heard of the answer about two
seconds after it was committed (docs/BENCHMARKS.md). Zulip's Tornado
processes and Discourse's message bus do what this module does: the sender
publishes the whole list once, and each server process hands every entry to
the sockets it holds for that recipient.

Each process that holds bell sockets runs one listener per event loop. It
joins ``payloads.FANOUT_GROUP`` while the process has a bell socket open,
and joins again after the channel layer fails and every half minute: a
restarted Redis keeps no groups. Short lists still go to each
recipient's own group (``notifications.services.push``).
"""

import asyncio
import logging
import weakref

from channels.layers import get_channel_layer

from notifications import payloads

logger = logging.getLogger(__name__)

# How often the listener joins its group again (after a Redis restart it
# must), and how long it waits after a failure.
RENEW_EVERY = 30.0
RETRY_AFTER = 1.0
# Leaving the group when the last socket closes must not hang on a stuck Redis.
LEAVE_TIMEOUT = 1.0


class Listener:
    """The bell sockets open on one event loop, and the task that feeds them.

    Sockets are held weakly: one whose application died without a
    disconnect (a crash, a lost Redis) drops out by itself.
    """

    def __init__(self):
        self.sockets: dict[int, weakref.WeakSet] = {}
        self.task: asyncio.Task | None = None

    def add(self, user_id: int, socket) -> None:
        self.sockets.setdefault(user_id, weakref.WeakSet()).add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def remove(self, user_id: int, socket) -> None:
        held = self.sockets.get(user_id)
        if held is not None:
            held.discard(socket)
            if not held:
                del self.sockets[user_id]
        if not self.sockets and self.task is not None:
            self.task.cancel()
            self.task = None

    async def run(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        # A Redis restarted between two reads keeps no groups and raises
        # nothing here: the renewal puts the listener back within RENEW_EVERY.
        renewing = asyncio.get_running_loop().create_task(self.renew(layer, channel))
        try:
            while True:
                try:
                    message = await layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - a lost Redis must not end the listener
                    logger.warning("notifications: fan-out listener failed, retrying: %s", error)
                    await asyncio.sleep(RETRY_AFTER)
                    await self.join(layer, channel)
                    continue
                await self.deliver(message)
        finally:
            renewing.cancel()
            try:
                await asyncio.wait_for(
                    layer.group_discard(payloads.FANOUT_GROUP, channel), LEAVE_TIMEOUT
                )
            except Exception:  # noqa: BLE001, S110 - the group forgets it when it expires
                pass

    async def renew(self, layer, channel: str) -> None:
        while True:
            await self.join(layer, channel)
            await asyncio.sleep(RENEW_EVERY)

    async def join(self, layer, channel: str) -> None:
        try:
            await layer.group_add(payloads.FANOUT_GROUP, channel)
        except Exception as error:  # noqa: BLE001 - tried again at the next renewal
            logger.warning("notifications: fan-out listener could not join: %s", error)

    async def deliver(self, message: dict) -> None:
        for user_id, event in message.get("events", ()):
            for socket in list(self.sockets.get(user_id, ())):
                try:
                    await socket.notification_created(event)
                except Exception as error:  # noqa: BLE001 - one closed socket must not stop the rest
                    logger.info("notifications: fan-out to a socket failed: %s", error)


_listeners: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def listener() -> Listener:
    """This event loop's listener; daphne runs one loop, tests one per test."""
    loop = asyncio.get_running_loop()
    found = _listeners.get(loop)
    if found is None:
        found = _listeners[loop] = Listener()
    return found
