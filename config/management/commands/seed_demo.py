from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from care.demo import seed_care_demo
from config import roles
from config.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo_users
from contracts.demo import seed_contracts_demo


class Command(BaseCommand):
    help = "Seed demo data (idempotent: a second run changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", choices=["small"], default="small", help="Size of the demo data set."
        )

    def handle(self, *args, scale: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates logins with a known password; it runs only with DJANGO_DEBUG=1."
            )
        created = seed_demo_users()
        self.stdout.write(
            f"Demo users: {created} created, {len(DEMO_USERS) - created} already present."
        )
        manager = get_user_model().objects.get(username="manager")
        counts = seed_contracts_demo(actor=manager)
        self.stdout.write(
            "Contracts demo: " + ", ".join(f"{n} {what} created" for what, n in counts.items())
        )
        operators = list(
            get_user_model()
            .objects.filter(groups__name__in=[roles.OPERATOR, roles.BACKOFFICE])
            .order_by("username")
        )
        self.stdout.write(f"Care demo: {seed_care_demo(operators=operators)} cases created")
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD}): "
            + ", ".join(username for username, *_ in DEMO_USERS)
        )
