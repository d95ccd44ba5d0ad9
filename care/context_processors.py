"""Template context shared by every page."""

from django.utils.functional import SimpleLazyObject

from care.notifications import unread_count


def notifications(request) -> dict:
    """The unread count of the header: one indexed COUNT, and only if the page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
