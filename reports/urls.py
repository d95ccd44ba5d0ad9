from django.urls import path

from reports import api, change_api, change_views, views

api_urlpatterns = [
    path("changes/", change_api.ChangeListApi.as_view(), name="change-list"),
    # The name DESIGN §7 gives the same list.
    path("audit/", change_api.ChangeListApi.as_view(), name="audit-list"),
    path("reports/", api.ReportListApi.as_view(), name="report-list"),
    path("reports/jobs/<id:job_id>/", api.ExportJobApi.as_view(), name="report-job"),
    path(
        "reports/jobs/<id:job_id>/download/",
        api.ExportJobDownloadApi.as_view(),
        name="report-job-download",
    ),
    path("reports/<slug:name>/", api.ReportDetailApi.as_view(), name="report-detail"),
]

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("changes/", change_views.change_list, name="change-list"),
    path("jobs/<id:job_id>/download/", views.job_download, name="job-download"),
    path("subscriptions/<id:subscription_id>/stop/", views.unsubscribe, name="unsubscribe"),
    path("<slug:name>/subscribe/", views.subscribe, name="subscribe"),
    path("<slug:name>/", views.report_page, name="report"),
]
