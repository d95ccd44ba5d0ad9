from django.urls import path

from contracts import api, views

api_urlpatterns = [
    path("clients/", api.ClientListCreateApi.as_view(), name="client-list"),
    path("clients/<id:pk>/", api.ClientDetailApi.as_view(), name="client-detail"),
    path("calendars/", api.CalendarListCreateApi.as_view(), name="calendar-list"),
    path("calendars/<id:pk>/", api.CalendarDetailApi.as_view(), name="calendar-detail"),
    path("contracts/", api.ContractListCreateApi.as_view(), name="contract-list"),
    path("contracts/<str:code>/", api.ContractDetailApi.as_view(), name="contract-detail"),
    path("contracts/<str:code>/versions/", api.ContractAmendApi.as_view(), name="contract-amend"),
    path(
        "contracts/<str:code>/order-validation/",
        api.ContractOrderValidationApi.as_view(),
        name="contract-order-validation",
    ),
    path(
        "contracts/<str:code>/sla-preview/",
        api.ContractSlaPreviewApi.as_view(),
        name="contract-sla-preview",
    ),
    path("end-users/", api.EndUserListCreateApi.as_view(), name="end-user-list"),
    path("end-users/import/", api.EndUserImportApi.as_view(), name="end-user-import"),
    path("end-users/<id:pk>/", api.EndUserDetailApi.as_view(), name="end-user-detail"),
    path("lookup/", api.CallerLookupApi.as_view(), name="lookup"),
]

app_name = "contracts"
urlpatterns = [
    path("", views.contract_list, name="contract-list"),
    path("new/", views.contract_create, name="contract-create"),
    path("lookup/", views.caller_lookup, name="lookup"),
    path("lookup/panel/", views.caller_panel, name="lookup-panel"),
    path("clients/", views.client_list, name="client-list"),
    path("clients/new/", views.client_form, name="client-create"),
    path("clients/<id:pk>/", views.client_form, name="client-edit"),
    path("calendars/", views.calendar_list, name="calendar-list"),
    path("calendars/new/", views.calendar_form, name="calendar-create"),
    path("calendars/<id:pk>/", views.calendar_form, name="calendar-edit"),
    path("end-users/import/", views.end_user_import, name="end-user-import"),
    path("<str:code>/", views.contract_detail, name="contract-detail"),
    path("<str:code>/amend/", views.contract_amend, name="contract-amend"),
    path("<str:code>/edit/", views.contract_edit, name="contract-edit"),
    path(
        "<str:code>/order-validation/",
        views.contract_order_validation,
        name="contract-order-validation",
    ),
]
