"""Demo logins for `seed_demo`: one user per role (two in the back-office, whose orders are
validated by a colleague), created once and never changed after."""

from config import roles

DEMO_PASSWORD = "presidio-demo"  # noqa: S105 - a demo login, only seeded when DEBUG is on

DEMO_USERS = [
    # username, first name, last name, role
    ("operatore", "Giulia", "Romano", roles.OPERATOR),
    ("backoffice", "Marco", "Esposito", roles.BACKOFFICE),
    # A colleague: an order is validated by someone other than who submitted it (four eyes).
    ("backoffice2", "Chiara", "Greco", roles.BACKOFFICE),
    ("supervisore", "Francesca", "Bianchi", roles.SUPERVISOR),
    ("manager", "Luca", "Ferrari", roles.MANAGER),
    ("admin", "Anna", "Ricci", roles.ADMIN),
]


def seed_demo_users() -> int:
    """Returns how many users were created (0 on a second run)."""
    # Imported here so `make run` can print the logins before Django is set up.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    user_model = get_user_model()
    created_count = 0
    with transaction.atomic():
        groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLE_LABELS)}
        for username, first_name, last_name, role in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@presidio.invalid",
                    "is_staff": role == roles.ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.groups.add(groups[role])
                created_count += 1
    return created_count
