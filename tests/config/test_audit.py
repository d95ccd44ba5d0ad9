"""The configuration audit keeps values, not objects, and skips changes that change nothing."""

from decimal import Decimal

import pytest

from config import roles
from config.audit import record_change, snapshot
from config.models import ConfigChange
from routing.models import OperatorProfile, Queue, Site
from routing.scope import supervisor_scope

pytestmark = pytest.mark.django_db


def test_a_change_keeps_before_and_after_as_values(operator, supervisor, now):
    profile = OperatorProfile.objects.create(user=operator, capacity=5)
    before = snapshot(profile, ["capacity", "backoffice_share", "site"])
    profile.capacity = 8
    profile.backoffice_share = Decimal("0.25")
    profile.save()
    change = record_change(
        actor=supervisor,
        now=now,
        target_type="profile",
        target_id=profile.pk,
        target_label=operator.username,
        action=ConfigChange.Action.CHANGED,
        before=before,
        after=snapshot(profile, ["capacity", "backoffice_share", "site"]),
    )
    change.refresh_from_db()
    assert change.before == {"capacity": 5, "backoffice_share": "0.40", "site": None}
    assert change.after == {"capacity": 8, "backoffice_share": "0.25", "site": None}
    assert change.changed_fields == ["backoffice_share", "capacity"]
    assert change.actor == supervisor
    assert change.at == now


def test_a_change_that_changes_nothing_is_not_kept(supervisor, now):
    same = {"capacity": 5}
    kept = record_change(
        actor=supervisor,
        now=now,
        target_type="profile",
        target_id=1,
        action=ConfigChange.Action.CHANGED,
        before=same,
        after=same,
    )
    assert kept is None
    assert not ConfigChange.objects.exists()


def test_an_unknown_target_is_refused(supervisor, now):
    with pytest.raises(ValueError, match="unknown configuration target"):
        record_change(actor=supervisor, now=now, target_type="x", target_id=1, action="created")


def test_many_to_many_fields_are_kept_as_sorted_ids(supervisor, user_factory):
    site = Site.objects.create(code="mi", name="Milano", province="MI")
    other = user_factory("sup.bianchi", roles.SUPERVISOR)
    site.supervisors.set([other, supervisor])
    assert snapshot(site, ["supervisors"]) == {"supervisors": sorted([supervisor.pk, other.pk])}


def test_a_supervisor_sees_their_sites_and_queues_only(supervisor, user_factory):
    milano = Site.objects.create(code="mi", name="Milano", province="MI")
    palermo = Site.objects.create(code="pa", name="Palermo", province="PA")
    milano.supervisors.add(supervisor)
    queue = Queue.objects.create(code="q-mi", name="Milano")
    queue.supervisors.add(supervisor)
    scope = supervisor_scope(supervisor)
    assert scope.covers_site(milano.pk)
    assert not scope.covers_site(palermo.pk)
    assert scope.covers_queue(queue.pk)
    assert not scope.empty

    nobody = supervisor_scope(user_factory("sup.nuovo", roles.SUPERVISOR))
    assert nobody.empty
    assert not nobody.covers_site(milano.pk)

    admin = supervisor_scope(user_factory("amministratore", roles.ADMIN))
    assert admin.national
    assert admin.covers_site(palermo.pk)
