from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo_users


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
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD}): "
            + ", ".join(username for username, *_ in DEMO_USERS)
        )
