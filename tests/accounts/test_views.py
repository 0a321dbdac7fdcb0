import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import PhysicianProfile, User
from forum.models import Category
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "mei@example.com",
    "name": "Mei",
    "password1": "quiet-river-morning-42",
    "password2": "quiet-river-morning-42",
}


def test_signup_sends_a_confirmation_and_does_not_sign_in(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # The e-mail is queued with the signup and sent once it commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), SIGNUP, follow=True)
    assert response.status_code == 200
    user = User.objects.get(email="mei@example.com")
    assert user.name == "Mei"
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mailoutbox) == 1 and "/accounts/confirm-email/" in mailoutbox[0].body
    assert "_auth_user_id" not in client.session


def test_signup_with_a_used_address_changes_nothing_and_tells_the_owner(
    client, patient, mailoutbox, django_capture_on_commit_callbacks
):
    # Saying "this address has an account" would reveal that its owner has
    # cancer; the page answers as for any signup and the owner is told by mail.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), SIGNUP | {"email": patient.email.upper()})
    assert response.status_code == 302
    assert User.objects.count() == 1
    assert [message.to for message in mailoutbox] == [[patient.email]]
    assert "already" in mailoutbox[0].body


def test_signup_with_a_weak_password_is_refused(client):
    response = client.post(
        reverse("account_signup"), SIGNUP | {"password1": "password", "password2": "password"}
    )
    assert "This password is too common." in response.content.decode()
    assert not User.objects.exists()


def test_login_before_confirming_the_address_is_refused(client):
    client.post(reverse("account_signup"), SIGNUP)
    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": SIGNUP["email"], "password": SIGNUP["password1"]},
        follow=True,
    )
    assert "_auth_user_id" not in client.session
    assert "Verify Your Email Address" in response.content.decode()


def test_signed_in_header_shows_the_name(client, patient):
    client.force_login(patient)
    response = client.get("/")
    assert 'data-testid="header-user-name">Patient Zhang<' in response.content.decode()


def application(**overrides):
    return {
        "title": "attending",
        "hospital": "Shu-Kang Hospital",
        "department": "GI Oncology",
        "specialties": [Category.objects.first().pk],
        "licence_number": "110101-2026",
        "bio": "",
    } | overrides


def test_physician_application_is_filed(client, patient):
    client.force_login(patient)
    response = client.post(reverse("accounts:doctor-apply"), application(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert PhysicianProfile.objects.get(user=patient).status == PhysicianProfile.Status.PENDING


def test_application_without_licence_number_shows_an_error(client, patient):
    client.force_login(patient)
    response = client.post(reverse("accounts:doctor-apply"), application(licence_number=""))
    assert response.status_code == 200
    assert "Enter your medical licence number" in response.content.decode()
    assert not PhysicianProfile.objects.exists()


def test_application_with_another_physicians_licence_is_refused(client, patient, doctor):
    client.force_login(patient)
    number = doctor.physician_profile.licence_number
    response = client.post(reverse("accounts:doctor-apply"), application(licence_number=number))
    assert "already registered" in response.content.decode()
    assert not PhysicianProfile.objects.filter(user=patient).exists()


def test_application_page_needs_sign_in(client):
    response = client.get(reverse("accounts:doctor-apply"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unverified_doctor_has_no_public_profile(client, pending_physician):
    response = client.get(reverse("accounts:doctor-detail", args=[pending_physician.user_id]))
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_directory_lists_verified_physicians_only(client, doctor, pending_physician):
    response = client.get(reverse("accounts:doctor-list"))
    content = response.content.decode()
    assert doctor.name in content and pending_physician.user.name not in content


def test_directory_filters_by_specialty(client, doctor_factory):
    gastric, colorectal = Category.objects.all()[:2]
    doctor_factory(name="Dr. Gastric", specialties=[gastric])
    doctor_factory(name="Dr. Colon", specialties=[colorectal])
    content = client.get(
        reverse("accounts:doctor-list"), {"specialty": gastric.slug}
    ).content.decode()
    assert "Dr. Gastric" in content and "Dr. Colon" not in content


def test_directory_with_unknown_specialty_is_404(client):
    assert client.get(reverse("accounts:doctor-list"), {"specialty": "nope"}).status_code == 404


DIRECTORY_QUERIES = 4  # count, profiles with users, their specialties, categories for the filter


@pytest.mark.parametrize("n_doctors", [1, 25])
def test_directory_query_count_is_flat(
    client, doctor_factory, n_doctors, django_assert_num_queries
):
    for _ in range(n_doctors):
        doctor_factory()
    with django_assert_num_queries(DIRECTORY_QUERIES):
        response = client.get(reverse("accounts:doctor-list"))
    assert response.status_code == 200


def test_doctor_profile_query_count(client, doctor, django_assert_num_queries):
    with django_assert_num_queries(2):  # profile with user, specialties
        client.get(reverse("accounts:doctor-detail", args=[doctor.pk]))


def test_profile_form_saves_name_and_time_zone(client, patient):
    client.force_login(patient)
    client.post(reverse("accounts:profile"), {"name": "Zhang San", "timezone": "Europe/London"})
    patient.refresh_from_db()
    assert (patient.name, patient.timezone) == ("Zhang San", "Europe/London")


def test_profile_form_refuses_an_unknown_time_zone(client, patient):
    client.force_login(patient)
    response = client.post(reverse("accounts:profile"), {"name": "Zhang", "timezone": "Mars/Base"})
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.timezone == ""


def test_password_is_never_in_a_page(client, patient):
    client.force_login(patient)
    assert PASSWORD not in client.get(reverse("accounts:profile")).content.decode()


CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_physician_title_prompt_is_chinese_on_the_chinese_page(client, patient):
    client.force_login(patient)
    content = client.get(reverse("accounts:doctor-apply"), **CHINESE).content.decode()
    assert "- 请选择 -" in content and "Select an option" not in content


def test_application_keeps_the_chinese_names_of_hospital_and_department(client, patient):
    client.force_login(patient)
    client.post(
        reverse("accounts:doctor-apply"),
        application(hospital_zh="舒康医院", department_zh="胃肠肿瘤科"),
    )
    profile = PhysicianProfile.objects.get(user=patient)
    assert (profile.hospital_zh, profile.department_zh) == ("舒康医院", "胃肠肿瘤科")


def test_doctor_pages_name_hospital_and_department_in_the_readers_language(client, doctor):
    PhysicianProfile.objects.filter(user=doctor).update(
        hospital="Shu-Kang Hospital",
        hospital_zh="舒康医院",
        department="GI Oncology",
        department_zh="胃肠肿瘤科",
    )
    for url in (
        reverse("accounts:doctor-list"),
        reverse("accounts:doctor-detail", args=[doctor.pk]),
    ):
        chinese = client.get(url, **CHINESE).content.decode()
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "舒康医院" in chinese and "胃肠肿瘤科" in chinese
        assert "Shu-Kang Hospital" not in chinese and "GI Oncology" not in chinese
        assert "Shu-Kang Hospital" in english and "舒康医院" not in english


def test_doctor_without_a_chinese_hospital_name_shows_the_one_given(client, doctor):
    PhysicianProfile.objects.filter(user=doctor).update(hospital="协和医院", hospital_zh="")
    content = client.get(reverse("accounts:doctor-list"), **CHINESE).content.decode()
    assert "协和医院" in content


def test_time_zones_are_listed_by_their_chinese_names(client, patient):
    client.force_login(patient)
    content = client.get(reverse("accounts:profile"), **CHINESE).content.decode()
    assert '<option value="" selected>北京时间（网站默认）</option>' in content
    assert '<option value="Asia/Tokyo">日本时间（UTC+09:00）</option>' in content
    assert '<option value="Asia/Shanghai">北京时间（UTC+08:00）</option>' in content
    assert ">Asia/Tokyo<" not in content and "Asia/Shanghai）" not in content


def test_time_zones_are_listed_by_their_english_names_in_english(client, patient):
    client.force_login(patient)
    content = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="Asia/Shanghai">China Standard Time (UTC+08:00)</option>' in content
    assert '<option value="America/New_York">United States (New York) Time' in content


def test_a_time_zone_saved_under_an_old_name_stays_chosen(client, patient):
    User.objects.filter(pk=patient.pk).update(timezone="Asia/Calcutta")
    client.force_login(patient)
    content = client.get(reverse("accounts:profile"), **CHINESE).content.decode()
    assert '<option value="Asia/Calcutta" selected>印度时间（UTC+05:30）</option>' in content
    client.post(reverse("accounts:profile"), {"name": "Zhang", "timezone": "Asia/Calcutta"})
    patient.refresh_from_db()
    assert patient.timezone == "Asia/Calcutta"
