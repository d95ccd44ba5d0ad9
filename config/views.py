from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import roles
from config.health import health_report


@require_GET
def home(request):
    user_roles = roles.roles_of(request.user)
    return render(
        request,
        "home.html",
        {
            "role_labels": [roles.ROLE_LABELS[role] for role in user_roles],
        },
    )


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Open to load balancers: states only, no names, hosts or credentials."""
    report, healthy = health_report(now=timezone.now())
    return JsonResponse(report, status=200 if healthy else 503)
