from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.snapshots import take_backlog_snapshot


class Command(BaseCommand):
    help = "Take the backlog snapshot of the current 5-minute slot (safe to repeat)."

    def handle(self, *args, **options):
        result = take_backlog_snapshot(now=timezone.now())
        values = {
            "slot": timezone.localtime(result.slot).strftime("%Y-%m-%d %H:%M"),
            "open": result.open_cases,
            "rows": result.rows,
            "inflow": result.inflow,
            "outflow": result.outflow,
            "seconds": result.seconds,
        }
        if not result.created:
            self.stdout.write(
                _("The snapshot of %(slot)s exists already: nothing written.") % values
            )
            return
        self.stdout.write(
            _(
                "Backlog snapshot of %(slot)s: %(open)d open cases in %(rows)d rows, "
                "%(inflow)d opened and %(outflow)d resolved or closed since the previous one, "
                "in %(seconds).3f s."
            )
            % values
        )
