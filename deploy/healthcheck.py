"""Container health check: GET /healthz on this container's own server.

Usage: python deploy/healthcheck.py PORT

The request carries a Host from DJANGO_ALLOWED_HOSTS, because Django answers
400 to any other Host and the site's real names are not known here. The
slim image has no curl, hence Python. Exit status 0 means healthy.
"""

import os
import sys
import urllib.error
import urllib.request


def allowed_host() -> str:
    for entry in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = entry.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


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
        # A 503 names the failing part in its body.
        print(error.code, error.read().decode())
    except OSError as error:
        print(error)
    return 1


if __name__ == "__main__":
    sys.exit(main())
