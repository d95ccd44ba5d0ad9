"""`manage.py verify_access_log`: check the access log's hash chain now (it runs nightly)."""

import time

from django.core.management.base import BaseCommand, CommandError

from config.access_log import verify_chain


class Command(BaseCommand):
    help = "Recompute the access log's hash chain and report the first row that does not match."

    def handle(self, *args, **options):
        started = time.perf_counter()
        check = verify_chain()
        seconds = time.perf_counter() - started
        if not check.intact:
            raise CommandError(
                f"Access log altered: the chain breaks at row {check.first_broken_id} "
                f"({check.rows} rows read in {seconds:.1f} s)."
            )
        self.stdout.write(f"Access log intact: {check.rows} rows checked in {seconds:.1f} s.")
