"""Write to the forum once a second, as a physician editing an answer would, until stopped.

Usage (in a project copy made by bench/forum_http.py, which starts and stops it):

    python bench/forum_writer.py QUESTION_PK [--interval 1.0]

Each write edits one of the question's answers through
``forum.services.answer_edit`` (its author, the text switching between two
versions), so it shows on the question page and moves the forum's version
on after its commit: every page cached under that version, for visitors
and members, is rendered again on its next request. The page does not grow
with the writes (earlier versions are shown to moderators only). It may be
paused with SIGSTOP and resumed with SIGCONT. On SIGTERM it prints one JSON
line: the writes made and the seconds they took.
"""

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from forum import services  # noqa: E402
from forum.models import Answer  # noqa: E402

TEXTS = (
    "Rest between cycles, drink enough water and tell your oncologist about the nausea.",
    "Rest between cycles, drink enough water, and tell your oncologist about any nausea.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("question", type=int, help="the pk of the measured question")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between writes")
    args = parser.parse_args()
    answer = Answer.objects.select_related("author").filter(question_id=args.question).first()
    if answer is None:
        sys.exit(f"question {args.question} has no answer to edit")
    writes, spent, stopped = 0, 0.0, False

    def stop(signum, frame):
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    next_at = time.monotonic()
    while not stopped:
        began = time.monotonic()
        services.answer_edit(answer=answer, editor=answer.author, body=TEXTS[writes % 2])
        writes += 1
        spent += time.monotonic() - began
        # Paused (SIGSTOP) and resumed, it goes on at its pace, with no burst to catch up.
        next_at = max(next_at + args.interval, time.monotonic())
        time.sleep(max(0.0, next_at - time.monotonic()))
    print(json.dumps({"writes": writes, "write_seconds": round(spent, 2)}))


if __name__ == "__main__":
    main()
