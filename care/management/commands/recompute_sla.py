from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from care.sla import recompute_sla_states


class Command(BaseCommand):
    help = "Recompute the SLA states of the open cases once (safe to repeat)."

    def handle(self, *args, **options):
        result = recompute_sla_states(now=timezone.now())
        if result.skipped:
            self.stdout.write(_("Another SLA recompute is running: nothing done."))
            return
        self.stdout.write(
            _(
                "SLA recompute: %(at_risk)d targets at risk, %(breached)d breached, "
                "%(scanned)d open cases scanned in %(seconds).3f s."
            )
            % result.as_detail()
        )
