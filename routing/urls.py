from django.urls import path

from routing import (
    api,
    people_api,
    people_views,
    presence_views,
    setup_views,
    telephony_api,
    views,
)

# Wired under /api/v1/ by config/urls.py (namespace "api").
api_urlpatterns = [
    path("routing/next/", api.RoutingNextApi.as_view(), name="routing-next"),
    path("routing/presence/", api.RoutingPresenceApi.as_view(), name="routing-presence"),
    path("routing/queues/", api.QueueListApi.as_view(), name="routing-queue-list"),
    path("routing/queues/<slug:code>/", api.QueueDetailApi.as_view(), name="routing-queue-detail"),
    path(
        "routing/queues/<slug:code>/archive/",
        api.QueueArchiveApi.as_view(),
        name="routing-queue-archive",
    ),
    path("routing/sites/", api.SiteListApi.as_view(), name="routing-site-list"),
    path("routing/sites/<slug:code>/", api.SiteDetailApi.as_view(), name="routing-site-detail"),
    path(
        "routing/queues/<slug:code>/emergency/",
        api.QueueEmergencyApi.as_view(),
        name="routing-queue-emergency",
    ),
    path("routing/operators/", api.OperatorListApi.as_view(), name="routing-operator-list"),
    path(
        "routing/operators/<id:user_id>/presence/",
        api.OperatorPresenceApi.as_view(),
        name="routing-operator-presence",
    ),
    path("routing/assign/", api.AssignApi.as_view(), name="routing-assign"),
    path("people/", people_api.PersonListApi.as_view(), name="person-list"),
    path("people/import/", people_api.PeopleImportApi.as_view(), name="person-import"),
    path("people/<id:user_id>/", people_api.PersonDetailApi.as_view(), name="person-detail"),
    path(
        "people/<id:user_id>/deactivate/",
        people_api.PersonDeactivateApi.as_view(),
        name="person-deactivate",
    ),
    path(
        "people/<id:user_id>/reactivate/",
        people_api.PersonReactivateApi.as_view(),
        name="person-reactivate",
    ),
    path(
        "people/<id:user_id>/sessions/end/",
        people_api.PersonSessionsEndApi.as_view(),
        name="person-sessions-end",
    ),
    path(
        "people/<id:user_id>/password-link/",
        people_api.PersonPasswordLinkApi.as_view(),
        name="person-password-link",
    ),
    path(
        "people/<id:user_id>/certifications/",
        people_api.PersonCertificationListApi.as_view(),
        name="person-certification-list",
    ),
    path(
        "people/<id:user_id>/certifications/<id:certification_id>/",
        people_api.PersonCertificationDetailApi.as_view(),
        name="person-certification-detail",
    ),
    path("telephony/events/", telephony_api.TelephonyEventApi.as_view(), name="telephony-events"),
    path("telephony/calls/", telephony_api.CallListApi.as_view(), name="telephony-call-list"),
    path(
        "telephony/calls/<str:call_id>/",
        telephony_api.CallDetailApi.as_view(),
        name="telephony-call-detail",
    ),
    path(
        "telephony/calls/<str:call_id>/recording/",
        telephony_api.CallRecordingApi.as_view(),
        name="telephony-call-recording",
    ),
]

app_name = "routing"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("live/", views.workspace_live, name="workspace-live"),
    path("presence/", views.my_presence, name="my-presence"),
    path("presence/history/", presence_views.presence_history, name="presence-history"),
    path("online/", presence_views.presence_board, name="presence-board"),
    path("next/", views.take_next, name="take-next"),
    path("console/", views.console, name="console"),
    path("console/live/", views.console_live, name="console-live"),
    path("console/reassign/", views.console_reassign, name="console-reassign"),
    path("console/presence/", views.console_presence, name="console-presence"),
    path("console/emergency/", views.console_emergency, name="console-emergency"),
    path("console/emergency/off/", views.console_emergency_off, name="console-emergency-off"),
    path(
        "console/access-alerts/<id:alert_id>/acknowledge/",
        views.console_access_alert_ack,
        name="console-access-alert-ack",
    ),
    path("cases/<str:reference>/decisions/", views.case_decisions, name="case-decisions"),
    path("my-call/", views.my_call, name="my-call"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/live/", views.wallboard_live, name="wallboard-live"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/next/", views.callback_next, name="callback-next"),
    path("callbacks/<id:callback_id>/take/", views.callback_take, name="callback-take"),
    path("callbacks/<id:callback_id>/done/", views.callback_done, name="callback-done"),
    path("people/", people_views.people, name="people"),
    path("people/new/", people_views.person_new, name="person-new"),
    path("people/import/", people_views.people_import, name="people-import"),
    path("people/<id:user_id>/", people_views.person, name="person"),
    path("people/<id:user_id>/account/", people_views.person_account, name="person-account"),
    path("people/<id:user_id>/profile/", people_views.person_profile, name="person-profile"),
    path(
        "people/<id:user_id>/certifications/",
        people_views.person_certification_add,
        name="person-certification-add",
    ),
    path(
        "people/<id:user_id>/certifications/<id:certification_id>/remove/",
        people_views.person_certification_remove,
        name="person-certification-remove",
    ),
    path(
        "people/<id:user_id>/password-link/",
        people_views.person_password_link,
        name="person-password-link",
    ),
    path(
        "people/<id:user_id>/sessions/end/",
        people_views.person_sessions_end,
        name="person-sessions-end",
    ),
    path(
        "people/<id:user_id>/deactivate/",
        people_views.person_deactivate,
        name="person-deactivate",
    ),
    path(
        "people/<id:user_id>/reactivate/",
        people_views.person_reactivate,
        name="person-reactivate",
    ),
    # The unit's set-up: sites and queues.
    path("sites/", setup_views.site_list, name="site-list"),
    path("sites/new/", setup_views.site_form, name="site-create"),
    path("sites/<slug:code>/", setup_views.site_form, name="site-edit"),
    path("sites/<slug:code>/delete/", setup_views.site_delete, name="site-delete"),
    path("queues/", setup_views.queue_list, name="queue-list"),
    path("queues/new/", setup_views.queue_form, name="queue-create"),
    path("queues/<slug:code>/", setup_views.queue_form, name="queue-edit"),
    path("queues/<slug:code>/archive/", setup_views.queue_archive, name="queue-archive"),
    path("queues/<slug:code>/delete/", setup_views.queue_delete, name="queue-delete"),
]
