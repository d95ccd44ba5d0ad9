from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.rollups import rebuild_rollups


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from error


class Command(BaseCommand):
    help = "Write the daily rollups from scratch: every day, or the days from --since to --until."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_day, help="first day (YYYY-MM-DD)")
        parser.add_argument("--until", type=_day, help="last day (YYYY-MM-DD), at most today")

    def handle(self, *args, **options):
        since, until = options.get("since"), options.get("until")
        if since and until and until < since:
            raise CommandError(_("The end of the period comes before its start."))

        def progress(first: date, last: date, rows: int) -> None:
            self.stdout.write(
                _("%(first)s to %(last)s: %(rows)d rows")
                % {"first": first.isoformat(), "last": last.isoformat(), "rows": rows}
            )

        result = rebuild_rollups(now=timezone.now(), since=since, until=until, progress=progress)
        self.stdout.write(
            _("Rollups rebuilt: %(days)d days, %(rows)d rows, in %(seconds).1f s.")
            % {"days": result.days, "rows": result.rows, "seconds": result.seconds}
        )
