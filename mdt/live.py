"""Open case pages kept current over ``/ws/mdt/<case>/``.

After a commit the services send each new or revised opinion, and the
consensus as it is saved, rendered with the case page's own partials once
per language: ``{"type": "opinion", "id", "html", "disciplines"}`` and
``{"type": "consensus", "final", "html"}``. Nothing in them depends on who
reads, so every socket of the case gets the same bytes. When someone's
access may have ended (a session's invitation, a case moved to another
session), the case's sockets check again and close if a reconnect would be
refused.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from core.layer import group_send_all

logger = logging.getLogger(__name__)

CASE_EVENT = "mdt.message"
ACCESS_EVENT = "mdt.access.changed"


def case_group(case_id: int) -> str:
    return f"mdt.case.{case_id}"


def member_group(case_id: int, user_id: int) -> str:
    return f"mdt.case.{case_id}.user.{user_id}"


def _by_language(render) -> dict[str, dict]:
    messages = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            messages[code] = render()
    return messages


def _send(case_id: int, payloads: dict[str, dict]) -> None:
    group_send_all([(case_group(case_id), {"type": CASE_EVENT, "payloads": payloads})])


def broadcast_opinion(opinion_id: int) -> None:
    """A new or revised opinion, and the disciplines the case has heard from; never raises."""
    from mdt import selectors

    try:
        opinion = selectors.opinion_for_broadcast(pk=opinion_id)
        given = selectors.disciplines_given(case_id=opinion.case_id)

        def render():
            return {
                "type": "opinion",
                "id": opinion.pk,
                "disciplines": sorted(given),
                "html": render_to_string("mdt/case_detail.html#opinion", {"opinion": opinion}),
            }

        _send(opinion.case_id, _by_language(render))
    except Exception as error:  # noqa: BLE001 - the opinion is saved; the page shows it on reload
        logger.warning("mdt: live broadcast of opinion %s failed: %s", opinion_id, error)


def broadcast_consensus(case_id: int) -> None:
    """The consensus as saved, draft or final; never raises."""
    from mdt import selectors

    try:
        consensus = selectors.consensus_for_broadcast(case_id=case_id)
        if consensus is None:
            return

        def render():
            return {
                "type": "consensus",
                "final": consensus.is_final,
                "html": render_to_string(
                    "mdt/case_detail.html#consensus", {"consensus": consensus}
                ),
            }

        _send(case_id, _by_language(render))
    except Exception as error:  # noqa: BLE001 - saved all the same
        logger.warning("mdt: live broadcast of case %s's consensus failed: %s", case_id, error)


def access_changed(case_ids: Iterable[int], *, user_ids: Iterable[int] | None = None) -> None:
    """Make the sockets of ``case_ids`` (or only ``user_ids``' of them) check again; never raises."""
    case_ids = list(case_ids)
    if user_ids is None:
        groups = [case_group(case_id) for case_id in case_ids]
    else:
        groups = [member_group(case_id, uid) for case_id in case_ids for uid in user_ids]
    if not groups:
        return
    try:
        group_send_all([(group, {"type": ACCESS_EVENT}) for group in groups])
    except Exception as error:  # noqa: BLE001 - a layer that is down carries nothing either
        logger.warning("mdt: access check of cases %s failed: %s", case_ids, error)
