"""`python manage.py simulate_calls --rate 2/s --minutes 10`: the demo's PBX (routing.simulator)."""

import random
import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contracts.models import EndUserPhone
from routing import simulator
from routing.models import OperatorProfile, PresenceState, TelephonyLine

RATE = re.compile(r"^(\d+(?:\.\d+)?)/(s|m|min)$")


def per_second(text: str) -> float:
    match = RATE.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise CommandError("--rate: calls per second or minute, e.g. 2/s or 30/m")
    value = float(match.group(1))
    return value if match.group(2) == "s" else value / 60


class Command(BaseCommand):
    help = (
        "Send realistic signed telephony events to a running portal on this machine: calls "
        "arrive, wait, are answered by available operators (by extension) or abandoned, and "
        "hang up. The wallboard, the screen pop and callbacks come alive."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rate", default="2/s", help="arrivals, e.g. 2/s or 30/m")
        parser.add_argument("--minutes", type=float, default=10.0)
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the portal (loopback)")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, rate, minutes, url, seed, **options):
        secret = next((s for s in settings.TELEPHONY_SECRETS if s), "")
        if not secret:
            raise CommandError("Set PRESIDIO_TELEPHONY_SECRET (the portal's PBX secret).")
        operators = list(
            OperatorProfile.objects.exclude(extension="")
            .exclude(presence=PresenceState.OFFLINE)
            .values_list("extension", flat=True)
        )
        lines = list(TelephonyLine.objects.values_list("number", flat=True))
        if not operators or not lines:
            raise CommandError("No operator with an extension or no line: run seed_demo first.")
        numbers = list(EndUserPhone.objects.order_by("?").values_list("number", flat=True)[:500])
        planned = simulator.plan_calls(
            rng=random.Random(seed),  # noqa: S311 - a simulation, not security
            rate_per_second=per_second(rate),
            seconds=minutes * 60,
            start=timezone.now(),
            numbers=numbers,
            lines=lines,
            operators=operators,
        )
        try:
            sender = simulator.Sender(url, secret)
        except simulator.NotLoopback as error:
            raise CommandError(str(error)) from error
        calls = sum(1 for p in planned if p.body["event"] == "newCall")
        self.stdout.write(
            f"Simulating {calls} calls over {minutes:g} minutes to {url} "
            f"({len(operators)} operators, {len(lines)} lines). Ctrl+C stops."
        )
        try:
            answers = simulator.replay(planned, sender, report=self.stdout.write)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
            return
        except OSError as error:
            raise CommandError(f"The portal at {url} does not answer: {error}") from error
        self.stdout.write("Done: " + simulator._summary(answers))
