"""Presence pages: the supervisor's "who is signed in" with the day's time per operator and
per site (their sites only, `routing.scope`), and an operator's own days."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.permissions import capability_required
from routing import presence
from routing.forms import PresenceDayForm, PresenceHistoryForm
from routing.models import OperatorProfile, PresenceState
from routing.scope import supervisor_scope


@capability_required("supervise")
@require_GET
def presence_board(request):
    now = timezone.now()
    today = timezone.localtime(now).date()
    form = PresenceDayForm(request.GET or None)
    valid = form.is_bound is False or form.is_valid()
    day = form.chosen_day(today) if form.is_bound and valid else today
    scope = supervisor_scope(request.user)
    rows = presence.operator_days(scope, day=day, now=now) if valid else []
    context = {
        "form": form,
        "day": day,
        "today": day == today,
        "scope_empty": scope.empty,
        "online": [row for row in rows if row.presence != PresenceState.OFFLINE],
        "rows": rows,
        "sites": presence.site_totals(rows),
    }
    return render(request, "routing/presence_board.html", context, status=200 if valid else 400)


@capability_required("handle_cases")
@require_GET
def presence_history(request):
    now = timezone.now()
    form = PresenceHistoryForm(request.GET, today=timezone.localtime(now).date())
    profile = OperatorProfile.objects.filter(user=request.user).first()
    context: dict = {"form": form, "profile": profile, "days": [], "total": None}
    if not form.is_valid():
        return render(request, "routing/presence_history.html", context, status=400)
    if profile is not None:
        days = presence.own_days(
            profile,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            now=now,
        )
        context["days"] = days
        context["total"] = presence.summed(dict(days))
    return render(request, "routing/presence_history.html", context)
