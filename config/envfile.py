"""A checkout's own settings file, `.env.local`: read into the environment, or written once.

`make run` and `make test` write it on a fresh clone (DEBUG on, a generated
secret key), so every documented `manage.py` command works without exporting
anything. config/settings.py reads it; variables already in the environment
win over it. It is git-ignored and kept out of the image (.dockerignore), so
production still refuses to start without a real DJANGO_SECRET_KEY.

The format is the common subset of .env files: ``KEY=VALUE`` lines, blank
lines, ``#`` comments (whole lines, or after an unquoted value and a space),
an optional ``export`` in front and optional single or double quotes around
the value. Nothing is expanded or unescaped.

``python -m config.envfile PATH`` writes PATH unless it exists.
"""

import os
import re
import secrets
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_QUOTED = re.compile(r"""(["'])(.*?)\1\s*(?:#.*)?""")

TEMPLATE = """\
# This checkout's development settings, written once by `make` (config/envfile.py).
# Never copy it to a server: production takes its settings from the environment
# (.env.example lists them all). Variables set in the environment win over these.
DJANGO_DEBUG=true
DJANGO_SECRET_KEY={secret_key}
"""


def parse(text: str) -> dict[str, str]:
    """Return the variables a .env text sets; raise ValueError naming a malformed line."""
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"line {number} is not KEY=VALUE")
        key, value = match[1], match[2].strip()
        if value[:1] in {'"', "'"}:
            quoted = _QUOTED.fullmatch(value)
            if quoted is None:
                raise ValueError(f"line {number} has an unclosed quote")
            value = quoted[2]
        else:
            value = re.sub(r"\s+#.*", "", value)
        values[key] = value
    return values


def load(path: str | os.PathLike, environ=os.environ) -> None:
    """Add the variables of the file at ``path`` that ``environ`` lacks.

    No file, or an empty path, changes nothing.
    """
    if not str(path):
        return
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    try:
        values = parse(text)
    except ValueError as error:
        raise ImproperlyConfigured(f"{path.name}: {error}.") from None
    for key, value in values.items():
        environ.setdefault(key, value)


def write(path: str | os.PathLike) -> bool:
    """Write development settings with a new secret key to ``path`` unless it exists."""
    try:
        # Exclusive and private: never replace a developer's file, never
        # leave the key readable by other users of the machine.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(TEMPLATE.format(secret_key=secrets.token_urlsafe(50)))
    return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m config.envfile PATH")
    if write(sys.argv[1]):
        print(f"Wrote {sys.argv[1]}: development settings (DEBUG on, a new secret key).")
