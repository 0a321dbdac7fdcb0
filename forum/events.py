"""What the forum tells the rest of the site when something happens.

The services call these inside their transaction; the notifications and the
live question pages attach here (SPEC section 6).
"""


def post_published(post) -> None:
    """A question, answer or reply has just become visible to everyone."""


def answer_accepted(answer, *, by) -> None:
    """The asker accepted ``answer``."""


def answer_thanked(answer, *, by) -> None:
    """Someone thanked ``answer``."""
