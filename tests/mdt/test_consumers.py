"""``/ws/mdt/<case>/``: authorised like the case page, live for opinions and the consensus."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from config.asgi import application
from mdt import services
from mdt.models import Session
from tests.mdt.test_services import FINAL
from tests.salon.test_consumers import ORIGIN, session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    yield
    await sync_to_async(connections.close_all)()


def communicator(case_id, cookie: bytes | None = None):
    headers = [ORIGIN]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/mdt/{case_id}/", headers=headers)


@pytest.fixture
def case(scheduled_case):
    return scheduled_case


@pytest.fixture
def cookies(board_people, patient, pending_physician):
    people = {**board_people, "patient": patient, "pending": pending_physician.user}
    return {name: session_cookie(person) for name, person in people.items()}


async def _closed_with(socket) -> int:
    message = await socket.receive_output(timeout=2)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def test_a_visitor_is_closed_with_4401(case):
    socket = communicator(case.pk)
    assert (await socket.connect())[0]
    assert await _closed_with(socket) == 4401
    await socket.disconnect()


@pytest.mark.parametrize("person", ["outsider", "patient", "pending"])
async def test_people_outside_the_case_are_closed_as_not_found(case, cookies, person):
    socket = communicator(case.pk, cookies[person])
    await socket.connect()
    assert await _closed_with(socket) == 4404
    await socket.disconnect()


async def test_an_unknown_case_is_closed_as_not_found(cookies):
    socket = communicator(999_999, cookies["moderator"])
    await socket.connect()
    assert await _closed_with(socket) == 4404
    await socket.disconnect()


async def test_opinions_and_the_consensus_arrive_live(case, board_people, cookies):
    chair = communicator(case.pk, cookies["chair"])
    moderator = communicator(case.pk, cookies["moderator"])
    for socket in (chair, moderator):
        assert (await socket.connect())[0]
        assert await socket.receive_nothing(timeout=0.3)
    await sync_to_async(services.opinion_save)(
        case=case, author=board_people["pathologist"], body="Ki-67 **8%**: G2."
    )
    for socket in (chair, moderator):
        message = await socket.receive_json_from(timeout=2)
        assert message["type"] == "opinion"
        assert "<strong>8%</strong>" in message["html"]
        assert "Pathology" in message["html"]
        assert message["disciplines"] == ["pathology"]
    await sync_to_async(services.consensus_save)(
        case=case, user=board_people["recorder"], values=FINAL, final=True
    )
    message = await chair.receive_json_from(timeout=2)
    assert message["type"] == "consensus" and message["final"] is True
    assert "Resect the primary, then PRRT." in message["html"]
    await chair.disconnect()
    await moderator.disconnect()


async def test_the_socket_closes_when_the_invitation_ends(case, board_people, cookies):
    socket = communicator(case.pk, cookies["pathologist"])
    await socket.connect()
    assert await socket.receive_nothing(timeout=0.3)

    def uninvite():
        session = Session.objects.select_related("chair", "recorder").get(pk=case.session_id)
        services.session_save(
            user=board_people["chair"],
            session=session,
            values={
                "title": session.title,
                "starts_at": session.starts_at,
                "ends_at": session.ends_at,
                "submission_deadline": session.submission_deadline,
                "location": session.location,
                "chair": board_people["chair"],
                "recorder": board_people["recorder"],
            },
            invited=[],
        )

    await sync_to_async(uninvite)()
    assert await _closed_with(socket) == 4404
    await socket.disconnect()


async def test_the_socket_closes_when_the_case_leaves_the_session(case, board_people, cookies):
    socket = communicator(case.pk, cookies["pathologist"])
    await socket.connect()
    assert await socket.receive_nothing(timeout=0.3)
    await sync_to_async(services.case_schedule)(
        case=case, user=board_people["moderator"], session=None
    )
    assert await _closed_with(socket) == 4404
    await socket.disconnect()


async def test_a_malformed_frame_is_ignored(case, board_people, cookies):
    socket = communicator(case.pk, cookies["chair"])
    await socket.connect()
    await socket.send_to(text_data="{not json")
    await socket.send_to(bytes_data=b"\x00\xff")
    await socket.send_to(text_data='{"type": "opinion", "body": "sent over the socket"}')
    assert await socket.receive_nothing(timeout=0.3)
    await sync_to_async(services.opinion_save)(
        case=case, author=board_people["pathologist"], body="Still listening."
    )
    assert (await socket.receive_json_from(timeout=2))["type"] == "opinion"
    await socket.disconnect()
