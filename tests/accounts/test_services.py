import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import PhysicianProfile, User
from accounts.services import account_create, physician_apply, physician_decide
from forum.models import Category
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_created_account_can_sign_in_with_a_confirmed_address():
    user = account_create(email="Ann@Example.com", password=PASSWORD, name="Ann")
    assert user.email == "ann@example.com"
    assert user.check_password(PASSWORD)
    assert user.is_active
    assert EmailAddress.objects.get(user=user).verified


def test_moderator_account_is_staff():
    user = account_create(email="mod@example.com", password=PASSWORD, role="moderator")
    assert user.is_staff and user.is_moderator


def test_doctor_account_waits_for_verification_unless_told_otherwise():
    waiting = account_create(email="a@example.com", password=PASSWORD, role="doctor")
    verified = account_create(
        email="b@example.com", password=PASSWORD, role="doctor", verified=True
    )
    assert waiting.physician_profile.status == PhysicianProfile.Status.PENDING
    assert verified.physician_profile.is_verified
    assert verified.physician_profile.specialties.count() == Category.objects.count()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "surgeon"}, "Unknown role"),
        ({"email": "taken@example.com"}, "already exists"),
        ({"email": "TAKEN@example.com"}, "already exists"),
        ({"password": "12345678"}, "too common"),
        ({"email": "not-an-address"}, "valid e-mail"),
        ({"email": "dr.@example.com"}, "valid e-mail"),
    ],
)
def test_bad_account_details_are_refused_and_nothing_is_created(kwargs, message):
    account_create(email="taken@example.com", password=PASSWORD)
    before = User.objects.count()
    details = {"email": "new@example.com", "password": PASSWORD, "role": "patient"} | kwargs
    with pytest.raises(ValidationError, match=message):
        account_create(**details)
    assert User.objects.count() == before


def test_application_waits_for_a_moderator(patient):
    category = Category.objects.first()
    profile = physician_apply(
        user=patient,
        title="attending",
        hospital="Shu-Kang Hospital",
        department="GI Oncology",
        licence_number="110101199001",
        specialties=[category],
    )
    assert profile.status == PhysicianProfile.Status.PENDING
    assert list(profile.specialties.all()) == [category]
    patient.refresh_from_db()
    assert patient.role == User.Role.PATIENT


def test_application_without_licence_number_is_refused(patient):
    with pytest.raises(ValidationError):
        physician_apply(
            user=patient,
            title="attending",
            hospital="H",
            department="D",
            licence_number="  ",
            specialties=list(Category.objects.all()[:1]),
        )
    assert not PhysicianProfile.objects.filter(user=patient).exists()


def test_verifying_makes_the_applicant_a_doctor(patient, moderator):
    profile = physician_apply(
        user=patient,
        title="resident",
        hospital="H",
        department="D",
        licence_number="LIC-1",
        specialties=list(Category.objects.all()[:2]),
    )
    physician_decide(profile=profile, moderator=moderator, approve=True)
    profile.refresh_from_db()
    patient.refresh_from_db()
    assert profile.is_verified and profile.decided_by == moderator and profile.decided_at
    assert patient.role == User.Role.DOCTOR


def test_a_decided_application_is_not_decided_twice(pending_physician, moderator):
    physician_decide(
        profile=pending_physician, moderator=moderator, approve=False, reason="Licence unknown"
    )
    with pytest.raises(ValidationError, match="already been decided"):
        physician_decide(profile=pending_physician, moderator=moderator, approve=True)
    pending_physician.refresh_from_db()
    assert pending_physician.status == PhysicianProfile.Status.REFUSED


def test_refusal_needs_a_reason(pending_physician, moderator):
    with pytest.raises(ValidationError):
        physician_decide(profile=pending_physician, moderator=moderator, approve=False)


def test_only_moderators_decide(pending_physician, patient):
    with pytest.raises(PermissionDenied):
        physician_decide(profile=pending_physician, moderator=patient, approve=True)
    pending_physician.refresh_from_db()
    assert pending_physician.status == PhysicianProfile.Status.PENDING


def test_visitors_lists_follow_a_members_new_name_and_deletion(
    client, patient, question_factory, django_capture_on_commit_callbacks
):
    from accounts.services import account_delete, user_update_profile

    question_factory(author=patient, title="Which foods are easy after a gastrectomy?")
    assert patient.name in client.get("/questions/").content.decode()  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=patient, name="Lan Mei", timezone_name="")
    assert "Lan Mei" in client.get("/questions/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=patient, password=PASSWORD)
    page = client.get("/questions/").content.decode()
    assert "Lan Mei" not in page and "Former member" in page


def test_signing_in_keeps_the_forum_caches_and_a_rename_in_the_admin_empties_them(
    client, patient, question_factory, django_capture_on_commit_callbacks
):
    from forum import listcache

    question_factory(author=patient, title="Is walking after surgery safe?")
    before = listcache.version()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.login(email=patient.email, password=PASSWORD)  # saves last_login
        client.logout()
    assert listcache.version() == before
    with django_capture_on_commit_callbacks(execute=True):
        patient.name = "Renamed By A Moderator"
        patient.save()  # as the admin saves
    assert listcache.version() != before
    assert "Renamed By A Moderator" in client.get("/questions/").content.decode()


def test_doctor_created_without_a_hospital_gets_the_departments_names_in_both_languages(
    settings,
):
    settings.SHUKANG_HOSPITAL, settings.SHUKANG_HOSPITAL_ZH = "Shu-Kang Hospital", "舒康医院"
    settings.SHUKANG_DEPARTMENT, settings.SHUKANG_DEPARTMENT_ZH = "GI Oncology", "胃肠肿瘤科"
    profile = account_create(
        email="d@example.com", password=PASSWORD, role="doctor"
    ).physician_profile
    assert (profile.hospital, profile.hospital_zh) == ("Shu-Kang Hospital", "舒康医院")
    assert (profile.department, profile.department_zh) == ("GI Oncology", "胃肠肿瘤科")


def test_a_hospital_given_without_its_chinese_name_is_not_given_the_defaults_one():
    profile = account_create(
        email="d@example.com", password=PASSWORD, role="doctor", hospital="Union Hospital"
    ).physician_profile
    assert (profile.hospital, profile.hospital_zh) == ("Union Hospital", "")
