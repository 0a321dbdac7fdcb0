"""Probes behind /healthz: each really touches its service.

The cache is probed through ``strict(cache)``: the cache itself keeps
working without Redis (core.cache), and /healthz must still say Redis is
missing. The channel layer's probe is bounded in time (its sockets have no
timeout, for idle websockets), so a Redis that hangs fails the probe rather
than the container's health check.
"""

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection

from core.cache import strict

logger = logging.getLogger(__name__)

LAYER_TIMEOUT = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer")


def check_cache() -> None:
    shared = strict(cache)
    key = f"healthz:{uuid.uuid4().hex}"
    shared.set(key, "ok", timeout=10)
    try:
        if shared.get(key) != "ok":
            raise RuntimeError("a value written was not read back")
    finally:
        shared.delete(key)


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "token": token})
    message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("a message sent was not received")


async def _bounded_layer_round_trip() -> None:
    await asyncio.wait_for(_layer_round_trip(), LAYER_TIMEOUT)


def check_channel_layer() -> None:
    async_to_sync(_bounded_layer_round_trip)()


CHECKS = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "cache": check_cache,
}


def run_checks() -> tuple[bool, dict[str, str]]:
    """Run every probe; return whether all passed and each part's state."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure makes the part unhealthy
            logger.warning("healthz: %s failed: %s", name, error)
            results[name] = f"error: {type(error).__name__}"
        else:
            results[name] = "ok"
    return all(value == "ok" for value in results.values()), results
