"""Reads of the routing app shared by the API, the services and (later) the pages."""

from routing.exceptions import NoOperatorProfile
from routing.models import OperatorProfile


def profile_of(user) -> OperatorProfile:
    """The user's operator profile; `NoOperatorProfile` if there is none."""
    profile = OperatorProfile.objects.filter(user_id=user.id).order_by("id").first()
    if profile is None:
        raise NoOperatorProfile()
    return profile
