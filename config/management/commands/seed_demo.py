from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from care.demo import refresh_care_demo, seed_care_demo
from care.demo_knowledge import seed_knowledge_demo
from care.models import Case
from config import roles
from config.bench import back_office
from config.bench import data as bench_data
from config.bench import rollups as rollups_step
from config.demo import DEMO_USERS, seed_demo_users
from contracts.demo import seed_contracts_demo
from contracts.orders.demo import seed_orders_demo
from routing.demo import seed_routing_demo


class Command(BaseCommand):
    help = (
        "Seed demo data. `small` (default) writes through the services and is idempotent; "
        "`national` and `bench-small` load the benchmark data set with PostgreSQL COPY "
        "(config/bench/data.py) into an empty database, once per seed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["small", *bench_data.SCALES],
            default="small",
            help="Size of the demo data set.",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed of the benchmark data sets."
        )
        parser.add_argument(
            "--as-of",
            default="",
            help="ISO instant the benchmark data set is 'now' at (default: today 00:00 UTC).",
        )

    def handle(self, *args, scale: str, seed: int, as_of: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates logins with a known password; it runs only with DJANGO_DEBUG=1."
            )
        if scale != "small":
            self._bench(scale, seed, as_of)
            return
        if self._seeded():  # a second `make run`: one query, then only a stale demo's refresh
            operators = self._operators()
            refreshed = refresh_care_demo(operators=operators)
            self.stdout.write(
                "Demo data already seeded"
                + (f"; refreshed to now: {refreshed} cases opened." if refreshed else ".")
            )
            return
        created = seed_demo_users()
        self.stdout.write(
            f"Demo users: {created} created, {len(DEMO_USERS) - created} already present."
        )
        manager = get_user_model().objects.get(username="manager")
        counts = seed_contracts_demo(actor=manager)
        self.stdout.write(
            "Contracts demo: " + ", ".join(f"{n} {what} created" for what, n in counts.items())
        )
        counts = seed_routing_demo(actor=manager)
        self.stdout.write(
            "Routing demo: " + ", ".join(f"{n} {what} created" for what, n in counts.items())
        )
        operators = self._operators()
        self.stdout.write(f"Care demo: {seed_care_demo(operators=operators)} cases created")
        self.stdout.write(f"Back-office demo: {seed_orders_demo()}")
        knowledge = seed_knowledge_demo(now=timezone.now())
        self.stdout.write(
            "Knowledge demo: " + ", ".join(f"{n} {what}" for what, n in knowledge.items())
        )
        # The logins are printed by `make run` (scripts/run.py), once, beside the address.

    @staticmethod
    def _seeded() -> bool:
        demo_users = get_user_model().objects.filter(username__in=[u[0] for u in DEMO_USERS])
        return demo_users.count() == len(DEMO_USERS) and Case.objects.exists()

    @staticmethod
    def _operators() -> list:
        return list(
            get_user_model()
            .objects.filter(groups__name__in=[roles.OPERATOR, roles.BACKOFFICE])
            .order_by("username")
        )

    def _bench(self, scale: str, seed: int, as_of: str) -> None:
        try:
            moment = datetime.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError(f"--as-of must be an ISO instant, got {as_of!r}.") from None
        if moment is not None and moment.tzinfo is None:
            raise CommandError("--as-of needs a UTC offset, e.g. 2026-11-30T00:00:00+00:00.")
        try:
            bench_data.require_postgresql(scale)
            marker = bench_data.read_marker()
            if marker is not None:
                if marker["scale"] == scale and marker["seed"] == seed:
                    self.stdout.write(
                        f"Data set {scale} (seed {seed}) already built on {marker['built_at']}"
                    )
                    self._back_office(seed)
                    self._rollups()
                    return
                raise CommandError(
                    f"This database holds the {marker['scale']} data set (seed {marker['seed']}); "
                    "build another one into an empty database."
                )
            seed_demo_users()
            result = bench_data.build(scale=scale, seed=seed, as_of=moment)
        except bench_data.BuildError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Built {scale} (seed {seed}) in {result['seconds']:.1f}s: "
            + bench_data.describe(result["counts"])
        )
        self._back_office(seed)
        self._rollups()
        self.stdout.write(
            f"Benchmark logins: bench001..bench{bench_data.SCALES[scale].operators:03d}, "
            f"password {bench_data.BENCH_PASSWORD}"
        )

    def _back_office(self, seed: int) -> None:
        """The incremental back-office step (orders, loyalty): runs once per step version."""
        try:
            counts = back_office.build_back_office(seed=seed)
        except bench_data.BuildError as error:
            raise CommandError(str(error)) from error
        if counts:
            self.stdout.write("Back-office step: " + bench_data.describe(counts))
        else:
            self.stdout.write("Back-office step already there: nothing to do.")

    def _rollups(self) -> None:
        """The incremental rollups step (daily rollups written once on the data set)."""
        try:
            counts = rollups_step.build_rollups()
        except bench_data.BuildError as error:
            raise CommandError(str(error)) from error
        if counts:
            self.stdout.write("Rollups step: " + bench_data.describe(counts))
        else:
            self.stdout.write("Rollups step already there: nothing to do.")
