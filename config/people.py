"""People as pages name them: the full name, the username when a person has none."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q


def names_of(
    *, ids: Iterable[int | None] = (), usernames: Iterable[str] = ()
) -> tuple[dict[int, str], dict[str, str]]:
    """Names by id and by username of the people with these ids or usernames, in one query
    (none when there is nobody to name). Whoever is not found is left out."""
    wanted_ids = {i for i in ids if i is not None}
    wanted_usernames = {u for u in usernames if u}
    if not wanted_ids and not wanted_usernames:
        return {}, {}
    by_id: dict[int, str] = {}
    by_username: dict[str, str] = {}
    people = get_user_model().objects.filter(
        Q(id__in=wanted_ids) | Q(username__in=wanted_usernames)
    )
    for person in people.only("id", "username", "first_name", "last_name"):
        name = person.get_full_name() or person.get_username()
        by_id[person.pk] = by_username[person.get_username()] = name
    return by_id, by_username
