"""Certifications and supervised queues widen what a user sees in full (care.privacy)."""

import pytest
from django.contrib.auth import get_user_model

from care import privacy
from config import roles
from routing.models import Certification, Queue

pytestmark = pytest.mark.django_db


def fresh(user):
    """The same user as a new request would load it (the scope is kept per request)."""
    return get_user_model().objects.get(pk=user.pk)


def test_a_certification_on_the_contract_or_the_client_gives_the_full_view(
    routed_case, user_factory, profile_factory
):
    case = routed_case()
    colleague = user_factory("op.collega", roles.OPERATOR)
    profile = profile_factory(colleague)
    assert not privacy.sees_in_full(fresh(colleague), case)
    certification = Certification.objects.create(profile=profile, client=case.client)
    assert privacy.sees_in_full(fresh(colleague), case)
    certification.delete()
    Certification.objects.create(profile=profile, contract=case.contract)
    assert privacy.sees_in_full(fresh(colleague), case)


def test_a_supervisor_sees_the_callers_of_the_queues_they_run(routed_case, user_factory):
    supervisor = user_factory("sup.nuovo", roles.SUPERVISOR)
    case = routed_case()
    assert not privacy.sees_in_full(fresh(supervisor), case)
    Queue.objects.get(code=case.queue_code).supervisors.add(supervisor)
    assert privacy.sees_in_full(fresh(supervisor), case)


def test_back_office_sees_the_callers_of_its_clients_in_full(routed_case, backoffice_user):
    """DESIGN.md section 2: back-office sees "their clients in full": the clients whose
    account team they are in, and no other."""
    case = routed_case()
    assert not privacy.sees_in_full(fresh(backoffice_user), case)
    case.client.account_team.add(backoffice_user)
    assert privacy.sees_in_full(fresh(backoffice_user), case)
