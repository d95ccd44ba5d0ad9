"""Output shapes of the reports API."""

from django.urls import reverse
from rest_framework import serializers

from reports.models import ExportJob


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()


class ReportListSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    uses_period = serializers.BooleanField()
    columns = ReportColumnSerializer(many=True)
    url = serializers.URLField()


class ExportJobSerializer(serializers.ModelSerializer):
    job = serializers.IntegerField(source="id")
    status = serializers.CharField(help_text="pending, running, ready, failed or expired")
    status_label = serializers.CharField(
        source="get_status_display", help_text="The status in the user's language."
    )
    percent = serializers.IntegerField()
    progress_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "job",
            "report",
            "format",
            "status",
            "status_label",
            "rows_done",
            "rows_total",
            "percent",
            "created_at",
            "expires_at",
            "progress_url",
            "download_url",
        ]

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_progress_url(self, job) -> str:
        return self._absolute(reverse("api:report-job", args=[job.id]))

    def get_download_url(self, job) -> str | None:
        if job.status != ExportJob.Status.READY:
            return None
        return self._absolute(reverse("reports:job-download", args=[job.id]))


class ChangeFieldSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The stored key.")
    label = serializers.CharField(help_text="The field's name in the user's language.")
    before = serializers.CharField()
    after = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    """One configuration change, from `config.ConfigChange` or the contracts' trail."""

    at = serializers.DateTimeField()
    source = serializers.CharField(help_text="config or contracts")
    target_type = serializers.CharField()
    what = serializers.CharField()
    target_id = serializers.CharField()
    target = serializers.CharField()
    action = serializers.CharField(source="action_code")
    action_label = serializers.CharField(source="action")
    actor = serializers.CharField()
    actor_username = serializers.CharField()
    changes = ChangeFieldSerializer(many=True)
    reason = serializers.CharField()


class ChangePageSerializer(serializers.Serializer):
    """One page of configuration changes, with the filters that chose them."""

    filters = serializers.DictField(help_text="The filters applied, as query parameters.")
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = ChangeSerializer(many=True)
