import pytest

pytestmark = pytest.mark.django_db

BROKEN_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_reports_every_part_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_names_a_failing_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": BROKEN_REDIS,
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["channel_layer"] == "ok"
    assert body["cache"].startswith("error")


def test_healthz_names_a_failing_channel_layer(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [BROKEN_REDIS]},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["channel_layer"].startswith("error")


@pytest.mark.redis
def test_healthz_round_trips_through_redis(client, settings):
    import os

    url = os.environ["REDIS_URL"]
    settings.CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": url}}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    response = client.get("/healthz")
    assert response.json() == {"database": "ok", "channel_layer": "ok", "cache": "ok"}
