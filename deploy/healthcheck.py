"""Container health check: GET /healthz on this container's own server.

Usage: python deploy/healthcheck.py PORT

Healthy (exit 0) means the server answers and its database does. /healthz
says 503 whenever any part fails and names each one; this check reads that
answer and passes a 503 whose only failures are Redis's parts (the cache
and the channel layer). Redis only speeds pages up and carries the live
parts: pages, sign-in and every write go on without it (core.cache,
core.sessions), and a restart would not bring it back, so a container must
not be marked unhealthy, and restarted in a loop, while Redis is down. The
sockets of the ``ws`` container wait for Redis in the browser, which
reconnects and catches up on its own. Without the database the site can only
answer its 503 page, so that, no answer, or an answer that is not /healthz's
is unhealthy.

The request carries a Host from DJANGO_ALLOWED_HOSTS, because Django answers
400 to any other Host and the site's real names are not known here. The
slim image has no curl, hence Python.
"""

import json
import os
import sys
import urllib.error
import urllib.request

# The parts of /healthz that only Redis provides.
REDIS_PARTS = {"cache", "channel_layer"}


def allowed_host() -> str:
    for entry in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = entry.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def alive(body: str) -> bool:
    """Whether a 503 from /healthz names nothing but Redis's parts as failing."""
    try:
        parts = json.loads(body)
    except ValueError:
        return False
    if not isinstance(parts, dict) or parts.get("database") != "ok":
        return False
    return all(state == "ok" or name in REDIS_PARTS for name, state in parts.items())


def main() -> int:
    port = int(sys.argv[1])
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": allowed_host()}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            print(response.read().decode())
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        print(error.code, body)
        if error.code == 503 and alive(body):
            print("alive without Redis: pages and writes go on; live parts wait")
            return 0
    except OSError as error:
        print(error)
    return 1


if __name__ == "__main__":
    sys.exit(main())
