"""The task worker for tests: every due task, as ``manage.py db_worker --batch`` runs them.

On PostgreSQL the real command runs in its own processes (several at once
when asked), as in production; SQLite's test database lives in this process,
so there the same worker runs here.
"""

import os
import subprocess
import sys
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker

COMMAND = [
    sys.executable,
    "manage.py",
    "db_worker",
    "--queue-name",
    "*",
    "--batch",
    "--no-startup-delay",
    "--no-reload",
    "--verbosity",
    "0",
]


def worker_env(**extra: str) -> dict[str, str]:
    """The worker processes' environment: this test's database, plus ``extra``."""
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {**os.environ, "DJANGO_DEBUG": "true", "DATABASE_URL": url, **extra}


def run_due_tasks(env: dict[str, str], *, workers: int = 1) -> None:
    """Run every due task, then return; ``env`` is the worker processes' environment."""
    if connection.vendor != "postgresql":
        Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()
        return
    processes = [subprocess.Popen(COMMAND, cwd=settings.BASE_DIR, env=env) for _ in range(workers)]
    for process in processes:
        assert process.wait(timeout=120) == 0
