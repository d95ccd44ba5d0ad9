"""The chart beside a report's table. Its data come from the very rows the table shows, so
the two always agree; static/js/reports.js draws it from what the page passes with
json_script (the CSP forbids inline scripts), and the table is its text alternative."""

from datetime import date, datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reports.definitions import ReportDefinition
from reports.formats import ColumnType


def _shown(value, kind: str) -> str:
    """A label as the table shows it (dates in the reader's format and zone)."""
    if kind == ColumnType.DATETIME and isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if kind == ColumnType.DATE and isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def chart_data(definition: ReportDefinition, rows: list[dict]) -> dict | None:
    """{"kind", "labels", "datasets": [{"label", "values"}], "percent"} for the rows shown,
    or None when the report has no chart or the table is empty."""
    chart = definition.chart
    if chart is None or not rows:
        return None
    columns = {column.key: column for column in definition.columns}

    def label_of(row: dict) -> str:
        parts = [
            _shown(row[key], columns[key].type)
            for key in chart.label
            if row.get(key) not in (None, "")
        ]
        return " · ".join(parts) or "—"

    if chart.count_by:
        counts: dict[str, int] = {}
        for row in rows:
            label = label_of(row)
            counts[label] = counts.get(label, 0) + 1
        labels = list(counts)
        datasets = [{"label": _("Rows in the table"), "values": list(counts.values())}]
    elif chart.sum_by_label:
        totals: dict[str, list] = {}
        for row in rows:
            sums = totals.setdefault(label_of(row), [0] * len(chart.series))
            for i, key in enumerate(chart.series):
                sums[i] += row.get(key) or 0
        largest = sorted(totals.items(), key=lambda item: -item[1][0])[: chart.top or None]
        labels = [label for label, _sums in largest]
        datasets = [
            {"label": str(columns[key].label), "values": [sums[i] for _label, sums in largest]}
            for i, key in enumerate(chart.series)
        ]
    else:
        labels = [label_of(row) for row in rows]
        datasets = [
            {"label": str(columns[key].label), "values": [row.get(key) for row in rows]}
            for key in chart.series
        ]
    return {"kind": chart.kind, "labels": labels, "datasets": datasets, "percent": chart.percent}
