"""An MDT in a few lines: physicians of three disciplines, a NET question, a case and a session."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Discipline
from forum.models import Category
from mdt import services

SUMMARY = {
    "title": "Pancreatic NET, G2, liver metastases",
    "tumour_site": "Pancreatic tail, with two liver metastases",
    "histology": "Well-differentiated neuroendocrine tumour",
    "grade": "G2, Ki-67 8%",
    "stage": "Stage IV (T2N1M1)",
    "functional_status": "Non-functional; ECOG 0",
    "prior_treatments": "Month 0: diagnosis. Month 2: octreotide LAR started.",
    "imaging": "68Ga-DOTATATE PET: avid primary and both liver lesions.",
    "pathology": "Synaptophysin and chromogranin A positive.",
    "labs": "Chromogranin A 3× upper limit.",
    "board_question": "Resection of primary and liver lesions, or PRRT first?",
}


@pytest.fixture
def disciplines(db):
    return {item.slug: item for item in Discipline.objects.all()}


@pytest.fixture
def net_category(db):
    return Category.objects.get(slug="gep-net")


@pytest.fixture
def physician_of(doctor_factory, disciplines):
    def make(slug, **kwargs):
        return doctor_factory(discipline=disciplines[slug], **kwargs)

    return make


@pytest.fixture
def board_people(physician_of, moderator):
    """The case's owner (medical oncology), a surgeon chairing, a radiologist recording, a pathologist."""
    return {
        "owner": physician_of("medical-oncology", name="Dr. Owner"),
        "chair": physician_of("surgical-oncology", name="Dr. Chair"),
        "recorder": physician_of("radiology", name="Dr. Recorder"),
        "pathologist": physician_of("pathology", name="Dr. Path"),
        "outsider": physician_of("nuclear-medicine", name="Dr. Outsider"),
        "moderator": moderator,
    }


@pytest.fixture
def session_factory(board_people):
    def make(*, invited=None, starts_in=timedelta(days=3), deadline_in=timedelta(days=2), **values):
        chair = values.pop("chair", board_people["chair"])
        recorder = values.pop("recorder", board_people["recorder"])
        starts_at = timezone.now() + starts_in
        return services.session_save(
            user=values.pop("user", chair),
            values={
                "title": values.pop("title", "GEP-NET MDT"),
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=2),
                "submission_deadline": timezone.now() + deadline_in,
                "location": values.pop("location", "Room 501"),
                "chair": chair,
                "recorder": recorder,
            },
            invited=[board_people["pathologist"]] if invited is None else invited,
        )

    return make


@pytest.fixture
def case_factory(board_people, disciplines):
    def make(*, owner=None, question=None, **values):
        return services.case_open(
            owner=owner or board_people["owner"],
            values={**SUMMARY, **values},
            disciplines=[
                disciplines[slug]
                for slug in ("medical-oncology", "surgical-oncology", "radiology", "pathology")
            ],
            question=question,
        )

    return make


@pytest.fixture
def scheduled_case(case_factory, session_factory, board_people):
    session = session_factory()
    case = case_factory()
    services.case_schedule(case=case, user=board_people["owner"], session=session)
    case.refresh_from_db()
    return case
