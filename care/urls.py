from django.urls import path

from care import (
    api,
    article_api,
    article_views,
    incident_api,
    incident_views,
    intake,
    mail_api,
    mail_views,
    privacy_views,
    reply_api,
    reply_views,
    views,
)

api_urlpatterns = [
    path("mail/inbound/", mail_api.MailInboundApi.as_view(), name="mail-inbound"),
    path("cases/", api.CaseListCreateApi.as_view(), name="case-list"),
    path("cases/search/", api.CaseSearchApi.as_view(), name="case-search"),
    path("cases/<str:reference>/", api.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<str:reference>/notes/", api.CaseNotesApi.as_view(), name="case-notes"),
    path(
        "cases/<str:reference>/transition/", api.CaseTransitionApi.as_view(), name="case-transition"
    ),
    path("cases/<str:reference>/handoff/", api.CaseHandoffApi.as_view(), name="case-handoff"),
    path(
        "cases/<str:reference>/handoff/<id:handoff_id>/answer/",
        api.CaseHandoffAnswerApi.as_view(),
        name="case-handoff-answer",
    ),
    path("cases/<str:reference>/reopen/", api.CaseReopenApi.as_view(), name="case-reopen"),
    path("cases/<str:reference>/contacts/", api.CaseContactApi.as_view(), name="case-contact"),
    path(
        "cases/<str:reference>/sla-ledger/", api.CaseSlaLedgerApi.as_view(), name="case-sla-ledger"
    ),
    path("notifications/", api.NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/read-all/",
        api.NotificationReadAllApi.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<id:notification_id>/read/",
        api.NotificationReadApi.as_view(),
        name="notification-read",
    ),
    path("replies/", reply_api.ReplyListCreateApi.as_view(), name="reply-list"),
    path("replies/<id:reply_id>/", reply_api.ReplyDetailApi.as_view(), name="reply-detail"),
    path("incidents/", incident_api.IncidentListCreateApi.as_view(), name="incident-list"),
    path(
        "incidents/<id:incident_id>/",
        incident_api.IncidentDetailApi.as_view(),
        name="incident-detail",
    ),
    path(
        "incidents/<id:incident_id>/link/",
        incident_api.IncidentLinkApi.as_view(),
        name="incident-link",
    ),
    path(
        "incidents/<id:incident_id>/unlink/",
        incident_api.IncidentUnlinkApi.as_view(),
        name="incident-unlink",
    ),
    path(
        "incidents/<id:incident_id>/resolve/",
        incident_api.IncidentResolveApi.as_view(),
        name="incident-resolve",
    ),
    path("articles/", article_api.ArticleListCreateApi.as_view(), name="article-list"),
    path(
        "articles/<id:article_id>/", article_api.ArticleDetailApi.as_view(), name="article-detail"
    ),
    path(
        "articles/<id:article_id>/publish/",
        article_api.ArticlePublishApi.as_view(),
        name="article-publish",
    ),
]

app_name = "care"
urlpatterns = [
    path("intake/", intake.intake, name="intake"),
    path("intake/caller/", intake.choose_caller, name="intake-caller"),
    path("mail/", mail_views.triage_list, name="mail-triage"),
    path("mail/<id:mail_id>/", mail_views.triage_item, name="mail-triage-item"),
    path("mail/<id:mail_id>/case/", mail_views.triage_open_case, name="mail-triage-case"),
    path("mail/<id:mail_id>/discard/", mail_views.triage_discard, name="mail-triage-discard"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/mine/", views.my_cases, name="my-cases"),
    path("cases/<str:reference>/", views.case_detail, name="case-detail"),
    path("cases/<str:reference>/notes/", views.case_add_note, name="case-add-note"),
    path("cases/<str:reference>/transition/", views.case_transition, name="case-transition"),
    path("cases/<str:reference>/handoff/", views.case_handoff, name="case-handoff"),
    path(
        "cases/<str:reference>/handoff/<id:handoff_id>/answer/",
        views.case_handoff_answer,
        name="case-handoff-answer",
    ),
    path("cases/<str:reference>/reopen/", views.case_reopen, name="case-reopen"),
    path("cases/<str:reference>/merge/", views.case_merge, name="case-merge"),
    path("cases/<str:reference>/link/", views.case_link, name="case-link"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notification_read_all, name="notifications-read-all"),
    path(
        "notifications/<id:notification_id>/read/",
        views.notification_read,
        name="notification-read",
    ),
    path("attachments/<id:attachment_id>/", views.attachment_download, name="attachment-download"),
    path("retention/", privacy_views.retention_page, name="retention"),
    path("retention/start/", privacy_views.retention_start, name="retention-start"),
    path(
        "retention/runs/<id:run_id>/",
        privacy_views.retention_run_progress,
        name="retention-run",
    ),
    path("data-subjects/", privacy_views.subject_search, name="subject-search"),
    path("data-subjects/<id:end_user_id>/", privacy_views.subject_request, name="subject-request"),
    path(
        "data-subjects/<id:end_user_id>/export/",
        privacy_views.subject_export,
        name="subject-export",
    ),
    path(
        "data-subjects/<id:end_user_id>/erase/", privacy_views.subject_erase, name="subject-erase"
    ),
    path("replies/", reply_views.reply_list, name="reply-list"),
    path("replies/<id:reply_id>/", reply_views.reply_edit, name="reply-edit"),
    path("replies/<id:reply_id>/delete/", reply_views.reply_delete, name="reply-delete"),
    path("incidents/", incident_views.incident_list, name="incident-list"),
    path("incidents/new/", incident_views.incident_create, name="incident-create"),
    path("incidents/<id:incident_id>/", incident_views.incident_detail, name="incident-detail"),
    path("incidents/<id:incident_id>/edit/", incident_views.incident_edit, name="incident-edit"),
    path("incidents/<id:incident_id>/link/", incident_views.incident_link, name="incident-link"),
    path(
        "incidents/<id:incident_id>/unlink/",
        incident_views.incident_unlink,
        name="incident-unlink",
    ),
    path(
        "incidents/<id:incident_id>/confirm/",
        incident_views.incident_confirm,
        name="incident-confirm",
    ),
    path(
        "incidents/<id:incident_id>/resolve/",
        incident_views.incident_resolve,
        name="incident-resolve",
    ),
    path("articles/", article_views.article_list, name="article-list"),
    path("articles/new/", article_views.article_create, name="article-create"),
    path("articles/review/", article_views.article_review_queue, name="article-review"),
    path("articles/suggest/", article_views.article_suggest, name="article-suggest"),
    path("articles/use/", article_views.article_use, name="article-use"),
    path("articles/<id:article_id>/", article_views.article_detail, name="article-detail"),
    path("articles/<id:article_id>/edit/", article_views.article_edit, name="article-edit"),
    path("articles/<id:article_id>/submit/", article_views.article_submit, name="article-submit"),
    path(
        "articles/<id:article_id>/publish/",
        article_views.article_publish,
        name="article-publish",
    ),
    path("articles/<id:article_id>/return/", article_views.article_return, name="article-return"),
    path(
        "articles/<id:article_id>/archive/",
        article_views.article_archive,
        name="article-archive",
    ),
]
