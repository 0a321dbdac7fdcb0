"""The department sets each group's target and lead in the admin."""

import pytest
from django.urls import reverse

from duty.models import TumourGroup


@pytest.mark.parametrize("model", ["tumourgroup", "holiday", "shift", "routing"])
def test_staff_open_every_duty_list(admin_client, question_factory, model):
    question_factory()
    assert admin_client.get(reverse(f"admin:duty_{model}_changelist")).status_code == 200


def test_a_groups_target_and_lead_change_and_its_category_stays(admin_client, doctor):
    group = TumourGroup.objects.get(category__slug="colorectal-cancer")
    url = reverse("admin:duty_tumourgroup_change", args=[group.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"target_hours": "24", "lead": doctor.pk, "category": "999"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.target_hours, group.lead, group.category.slug) == (
        24,
        doctor,
        "colorectal-cancer",
    )
