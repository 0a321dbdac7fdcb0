"""The kinds of content moderators decide on, each registered by the app that owns it.

Moderation keeps the queue, the cases, the flags and the audit log; it knows
nothing of questions, applications or attachments. Each app registers its
kinds from its ``AppConfig.ready`` with the handlers a decision calls, so
moderation imports none of the apps that use it and new kinds plug in
without touching it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Flagging:
    """How readers flag a kind: what they may see, and what enough flags do."""

    # The object as ``viewer`` may see it on the site, or Http404.
    lookup: Callable[[int, Model], Model]
    # Whether it is public now (enough flags hide only a public object).
    is_public: Callable[[Model], bool]
    # Whether it may be flagged at all (public, or already hidden by flags).
    can_flag: Callable[[Model], bool]
    hide: Callable[[Model], None]
    # Where the flagger goes afterwards: the object, or a list if it is now hidden.
    next_url: Callable[[Model, Model], str]


@dataclass(frozen=True)
class Kind:
    """One moderatable kind of content and what each decision does to it.

    ``approve`` and ``reject`` run in the decision's transaction with the
    target locked, and return the audit log's name for what they did.
    """

    name: str
    model: type[Model]
    # What the queue and the audit log call it, in the active language.
    describe: Callable[[Model], str]
    # The queue's rows of this kind, with what the card shows (one query).
    queryset: Callable[[], QuerySet]
    # Its author, for the card and for suspensions.
    author: Callable[[Model], Model]
    # The template of its card's body in the queue; it gets ``item``.
    template: str
    approve: Callable[..., str]
    reject: Callable[..., str]
    # The text the card highlights findings in, if the kind has text.
    text: Callable[[Model], str] | None = None
    # (title, url) the card's heading links to.
    link: Callable[[Model], tuple[str, str]] | None = None
    # Replace the text and publish: (target, case=, moderator=, title=, body=) -> None.
    redact: Callable[..., None] | None = None
    # The author's earlier work of this kind: {author_id: {state: count}}.
    history: Callable[[Iterable[int]], dict[int, dict[str, int]]] | None = None
    flagging: Flagging | None = None
    # The queue's button labels (lazy translations).
    approve_label: str = ""
    reject_label: str = ""
    # What the audit log calls the actions this kind's app records: {code: lazy label}.
    actions: dict[str, str] = field(default_factory=dict)


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; called once per kind from its app's ``ready``."""
    if kind.name in _kinds and _kinds[kind.name].model is not kind.model:
        raise ValueError(f"A moderated kind named {kind.name!r} is already registered.")
    _kinds[kind.name] = kind
    return kind


def kinds() -> list[Kind]:
    return list(_kinds.values())


def action_labels() -> dict[str, str]:
    """Every registered kind's audit actions with their labels."""
    labels: dict[str, str] = {}
    for kind in _kinds.values():
        labels.update(kind.actions)
    return labels


def kind_named(name: str) -> Kind | None:
    return _kinds.get(name)


def kind_of(target_or_model) -> Kind:
    """The registered kind of an object or a model class; LookupError if none."""
    model = target_or_model if isinstance(target_or_model, type) else type(target_or_model)
    for kind in _kinds.values():
        if issubclass(model, kind.model):
            return kind
    raise LookupError(f"{model.__name__} is not a moderated kind.")
