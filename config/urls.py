from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from care.urls import api_urlpatterns as care_api
from config import account_api, account_views, api, views
from contracts.orders.urls import api_urlpatterns as orders_api
from contracts.urls import api_urlpatterns as contracts_api
from reports.urls import api_urlpatterns as reports_api
from routing import backoffice
from routing.urls import api_urlpatterns as routing_api

api_v1 = (
    [
        path("", api.ApiRootApi.as_view(), name="root"),
        path("me/", api.MeApi.as_view(), name="me"),
        path("me/sessions/", account_api.MySessionListApi.as_view(), name="me-session-list"),
        path(
            "me/sessions/<id:session_id>/end/",
            account_api.MySessionEndApi.as_view(),
            name="me-session-end",
        ),
        path("tokens/", account_api.TokenListApi.as_view(), name="token-list"),
        path(
            "tokens/<id:token_id>/revoke/",
            account_api.TokenRevokeApi.as_view(),
            name="token-revoke",
        ),
        *contracts_api,
        path("backoffice/next/", backoffice.TakeNextOrderApi.as_view(), name="order-next"),
        *orders_api,
        *care_api,
        *routing_api,
        *reports_api,
    ],
    "api",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views.two_factor_page, name="two_factor"),
    # A new user chooses their password from the one-time link e-mailed to them (config.users).
    path(
        "accounts/password/set/<uidb64>/<token>/",
        login_not_required(
            auth_views.PasswordResetConfirmView.as_view(
                template_name="registration/password_set.html",
                success_url="/accounts/password/set/done/",
            )
        ),
        name="password-set",
    ),
    path(
        "accounts/password/set/done/",
        login_not_required(
            auth_views.PasswordResetCompleteView.as_view(
                template_name="registration/password_set_done.html"
            )
        ),
        name="password-set-done",
    ),
    path("accounts/sessions/", account_views.my_sessions, name="my-sessions"),
    path(
        "accounts/sessions/<id:session_id>/end/",
        account_views.my_session_end,
        name="my-session-end",
    ),
    path(
        "accounts/sessions/end-others/",
        account_views.my_sessions_end_others,
        name="my-sessions-end-others",
    ),
    path("api-tokens/", account_views.token_list, name="token-list"),
    path("api-tokens/issue/", account_views.token_issue, name="token-issue"),
    path("api-tokens/<id:token_id>/revoke/", account_views.token_revoke, name="token-revoke"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("contracts/", include("contracts.urls")),
    path("care/", include("care.urls")),
    path("backoffice/next/", backoffice.take_next_order_page, name="backoffice-next"),
    path("backoffice/", include("contracts.orders.urls")),
    path("routing/", include("routing.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    re_path(r"^api/", login_not_required(api.not_found)),
]
