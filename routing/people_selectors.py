"""Reads of the people pages and API (routing.staff writes them).

- `people_visible_to(user)`: administrators see every account; a supervisor the operators
  of their sites and the active operators who have no profile yet (whom they may place at
  one of their sites); anybody else nobody. Profiles, sites and roles come along (a fixed
  number of queries whatever the number of people).
- `person_for(actor, user_id)`: one account the actor may manage; 404 when there is no
  such account, 403 (`OutsideYourSites`) when it works at a site the actor does not run.
"""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from config import roles
from config.errors import NotFound
from routing.models import Certification, OperatorProfile, Site
from routing.scope import supervisor_scope
from routing.staff import OutsideYourSites, may_manage_site

PROFILE_ROLES = (roles.OPERATOR, roles.BACKOFFICE, roles.SUPERVISOR)


def _with_details(people: QuerySet) -> QuerySet:
    return people.select_related("operator_profile__site").prefetch_related(
        "groups",
        Prefetch(
            "operator_profile__certifications",
            queryset=Certification.objects.select_related("contract", "client").order_by("id"),
        ),
    )


def people_visible_to(user) -> QuerySet:
    people = get_user_model().objects.order_by("last_name", "first_name", "username")
    if user.has_perm("config.administer"):
        return _with_details(people)
    if not user.has_perm("config.supervise"):
        return people.none()
    scope = supervisor_scope(user)
    without_profile = Q(
        operator_profile__isnull=True, is_active=True, groups__name__in=PROFILE_ROLES
    )
    reach = Q(operator_profile__site_id__in=scope.site_ids) | without_profile
    ids = people.filter(reach).values("id")
    return _with_details(people.filter(id__in=ids))


def person_for(actor, user_id: int):
    """The account `user_id` with its profile and certifications, if the actor manages it."""
    person = _with_details(get_user_model().objects.filter(id=user_id)).first()
    if person is None or not (
        actor.has_perm("config.administer") or actor.has_perm("config.supervise")
    ):
        raise NotFound()
    profile = getattr(person, "operator_profile", None)
    if profile is not None:
        if not may_manage_site(actor, profile.site_id):
            raise OutsideYourSites()
    elif not actor.has_perm("config.administer") and not (
        person.is_active and set(roles.roles_of(person)) & set(PROFILE_ROLES)
    ):
        raise OutsideYourSites()
    return person


def profile_of_person(person) -> OperatorProfile | None:
    return getattr(person, "operator_profile", None)


def sites_managed_by(user) -> QuerySet:
    """The sites a profile may be placed at by `user`."""
    sites = Site.objects.order_by("name")
    if user.has_perm("config.administer"):
        return sites
    return sites.filter(id__in=supervisor_scope(user).site_ids)


def certification_of(person, certification_id: int) -> Certification:
    profile = profile_of_person(person)
    certification = (
        Certification.objects.select_related("profile__user", "contract", "client")
        .filter(id=certification_id, profile=profile)
        .first()
        if profile is not None
        else None
    )
    if certification is None:
        raise NotFound()
    return certification
