from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import roles, two_factor
from config.health import health_report
from config.inputs import InputForm


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


class SecondFactorForm(InputForm):
    code = forms.CharField(label=_("Code from the app"), max_length=12)


@never_cache
def two_factor_page(request):
    """Second step of a manager's or admin's sign-in: a TOTP code, or the enrolment of the
    authenticator app the first time."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if not two_factor.second_factor_pending(request.user):
        return redirect(next_url or "home")
    if (
        request.method == "GET" and "link" in request.GET
    ):  # an enrolment link: token out of the address
        if not two_factor.accept_enrolment_link(request, request.GET["link"]):
            messages.error(request, _("This enrolment link is not valid, used or expired."))
        return redirect("two_factor")
    device = two_factor.confirmed_device(request.user)
    if device is None and not two_factor.may_enrol(request):
        return render(
            request,
            "registration/two_factor.html",
            {"enrolling": True, "link_required": True, "next": next_url},
        )
    form = SecondFactorForm(request.POST or None)
    if form.is_valid():
        if two_factor.verify(request, form.cleaned_data["code"]):
            return redirect(next_url or "home")
        form.add_error("code", _("The code is not valid: type the one your app shows now."))
    context = {"form": form, "next": next_url, "enrolling": device is None}
    if device is None:
        enrolment = two_factor.enrolment_device(request.user)
        context |= {
            "qr_svg": two_factor.qr_svg(enrolment),
            "secret": two_factor.secret_of(enrolment),
        }
    return render(request, "registration/two_factor.html", context)
