"""Sending to channel-layer groups from ordinary (sync) code, with a deadline.

Every push after a commit (notifications, the question and salon rooms,
closing revoked sockets) goes through ``group_send_all``. A Redis that hangs
answers nothing and the layer keeps no socket timeout (idle websockets must
not be cut), so without a deadline a request that pushed would hang with it.
"""

import asyncio
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# A request that acted waits at most this long for its pushes; the worker,
# pushing to a popular question's followers, a little longer.
REQUEST_TIMEOUT = 1.0
WORKER_TIMEOUT = 10.0
# Sends in flight at once: one after another, a thousand took seconds.
CONCURRENCY = 100


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(group: str, message: dict) -> None:
        async with gate:
            await layer.group_send(group, message)

    results = await asyncio.gather(
        *(send(group, message) for group, message in messages), return_exceptions=True
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        raise failures[0]


async def _send_all_by(messages: list[tuple[str, dict]], timeout: float) -> None:
    await asyncio.wait_for(_send_all(messages), timeout)


def group_send_all(messages: Iterable[tuple[str, dict]], *, timeout: float = REQUEST_TIMEOUT):
    """Send each ``(group, message)``; raise if any fails or all have not gone within ``timeout``."""
    messages = list(messages)
    if messages:
        async_to_sync(_send_all_by)(messages, timeout)
