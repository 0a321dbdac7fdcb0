"""The MDT on a bad day: with Redis stopped, every opinion and the consensus are still stored."""

import pytest

from mdt.models import Case, Consensus, Opinion
from tests.core.test_faults import needs_redis_server, redis_server, site_on_redis  # noqa: F401
from tests.mdt.conftest import SUMMARY
from tests.mdt.test_services import FINAL


@needs_redis_server
@pytest.mark.django_db
def test_a_case_goes_from_opening_to_consensus_with_redis_stopped(
    client,
    site_on_redis,  # noqa: F811
    board_people,
    disciplines,
    session_factory,
    django_capture_on_commit_callbacks,
):
    session = session_factory()
    site_on_redis.stop()
    client.force_login(board_people["owner"])
    # The pushes after each commit meet the stopped Redis: the writes stand all the same.
    with django_capture_on_commit_callbacks(execute=True):
        opened = client.post(
            "/mdt/cases/new/",
            {**SUMMARY, "disciplines_needed": [disciplines["pathology"].pk]},
        )
        case = Case.objects.get()
        assert opened.status_code == 302
        assert (
            client.post(f"/mdt/cases/{case.pk}/schedule/", {"session": session.pk}).status_code
            == 302
        )
        client.force_login(board_people["pathologist"])
        saved = client.post(f"/mdt/cases/{case.pk}/opinion/", {"body": "G2 confirmed."})
        assert saved.status_code == 302
        client.force_login(board_people["chair"])
        final = client.post(f"/mdt/cases/{case.pk}/consensus/", {**FINAL, "final": "1"})
        assert final.status_code == 302
    assert Opinion.objects.get().body == "G2 confirmed."
    assert Consensus.objects.get().is_final
    page = client.get(f"/mdt/cases/{case.pk}/").content.decode()
    assert "G2 confirmed." in page and "Resect the primary, then PRRT." in page
