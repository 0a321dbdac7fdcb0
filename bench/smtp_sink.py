"""A local SMTP server that accepts every message and writes it down, for the benchmarks.

Usage (the benchmarks start it themselves, on 127.0.0.1 and a free port):

    .venv/bin/python bench/smtp_sink.py --port 2525 --out messages.jsonl

It runs aiosmtpd in its own process, so the mail server's work is neither
the worker's nor the benchmark's. Each message becomes one JSON line: when
it arrived (``time.time()``), its envelope recipients, and the raw message,
base64-encoded; ``read_messages`` parses them afterwards, so the sink does
as little as a fast mail server would while the worker is being measured.
It stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import base64
import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

HOST = "127.0.0.1"
# What a notification e-mail links to: the site's address and the post's path.
LINK = re.compile(r"https?://\S+?(/questions/\S+)")


class Recorder:
    """aiosmtpd handler: append every message to the output file, accept it."""

    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        line = {
            "at": time.time(),
            "to": list(envelope.rcpt_tos),
            "raw": base64.b64encode(envelope.original_content or envelope.content).decode(),
        }
        self.out.write(json.dumps(line) + "\n")
        return "250 Message accepted for delivery"


async def serve(port: int, out_path: Path) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with out_path.open("a", buffering=1) as out:
        recorder = Recorder(out)
        server = await loop.create_server(
            lambda: SMTP(recorder, hostname="bench-sink", ident="bench smtp sink"), HOST, port
        )
        print("ready", flush=True)
        await stop.wait()
        server.close()
        await server.wait_closed()


@dataclass
class Message:
    at: float
    to: str
    link: str  # the path the e-mail links to ("" if none)
    subject: str


def read_messages(path: Path) -> list[Message]:
    """Every message the sink recorded, in order of arrival."""
    found = []
    if not path.exists():
        return found
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        mail = message_from_bytes(base64.b64decode(entry["raw"]), policy=policy.default)
        body = mail.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        link = LINK.search(text)
        found.append(
            Message(
                at=entry["at"],
                to=",".join(entry["to"]),
                link=link.group(1) if link else "",
                subject=str(mail["subject"] or ""),
            )
        )
    return found


def count_lines(path: Path) -> int:
    """How many messages have arrived so far (cheap: counts lines only)."""
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def start(port: int, out_path: Path, log: Path) -> subprocess.Popen:
    """Start the sink in its own process; return once it accepts connections."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--port", str(port), "--out", str(out_path)],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        start_new_session=True,
    )
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(f"the SMTP sink did not start (see {log.name})")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
