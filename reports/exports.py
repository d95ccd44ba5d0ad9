"""Every export of every report: CSV (streamed), XLSX (openpyxl write-only) and JSON.

One place decides how a value becomes a cell, so CSV and XLSX agree:

- text that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`, `@`, a tab
  or a carriage return) gets a leading apostrophe, and in XLSX every text cell is a string
  cell, never a formula;
- numbers and dates stay typed (a negative number is a number, not text);
- CSV is UTF-8 with a BOM (Excel reads the accents right); the Italian option separates with
  `;` and writes decimals with a comma.

The bookkeeping of exports (the log of who exported what, the job of a big export) is written
here too, by `log_export`, `create_export_job`, `record_export_progress` and
`finish_export_job`: the only writers of those rows.
"""

import csv
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from config.tasks import enqueue, enqueue_after_commit

FORMATS = ("json", "csv", "xlsx")
FILE_FORMATS = ("csv", "xlsx")
BOM = "\ufeff"
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 (so XLSX) cannot hold: control characters other than tab, newline, return.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XLSX_MAX_TEXT = 32_767  # Excel's limit for one cell
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_DATE_FORMAT = "dd/mm/yyyy"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class ColumnType:
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy translation
    type: str = ColumnType.TEXT


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str = ","
    decimal: str = "."


COMMA = CsvDialect()
ITALIAN = CsvDialect(delimiter=";", decimal=",")


def dialect_for(sep: str | None) -> CsvDialect:
    return ITALIAN if sep == "semicolon" else COMMA


def neutralise(text: str) -> str:
    """A text a spreadsheet would run as a formula gets a leading apostrophe."""
    if text and text.startswith(DANGEROUS_FIRST):
        return "'" + text
    return text


def local(value: datetime) -> datetime:
    """Aware instants are shown in Rome's time, as the pages show them."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _number_text(value, dialect: CsvDialect) -> str:
    if isinstance(value, float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(float(value))
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", dialect.decimal)
    return str(value)


def csv_cell(value, column: Column, dialect: CsvDialect = COMMA) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if column.type in (ColumnType.INT, ColumnType.DECIMAL) and isinstance(
        value, int | float | Decimal
    ):
        return _number_text(value, dialect)
    if isinstance(value, datetime):
        return local(value).isoformat(" ", "seconds")[:19]  # to the second, no offset
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_row_formatter(columns: list[Column], dialect: CsvDialect = COMMA):
    """`csv_cell` for a whole row, set up once per export: `format_row(row) -> list[str]`.
    Text (every type's text takes the same path in `csv_cell`), empty cells and aware
    instants take a short path inline; anything else goes through `csv_cell`. A million-row
    export would otherwise walk every type test for every cell."""
    keys = [c.key for c in columns]
    cells = [_csv_cell_of(c, dialect) for c in columns]

    def format_row(row: dict) -> list[str]:
        return [
            ("'" + value if value.startswith(DANGEROUS_FIRST) else value)
            if value.__class__ is str
            else ("" if value is None else cell(value))
            for value, cell in zip(map(row.get, keys), cells, strict=True)
        ]

    return format_row


def _csv_cell_of(column: Column, dialect: CsvDialect) -> Callable[[object], str]:
    if column.type == ColumnType.DATETIME:

        def datetime_cell(value) -> str:
            if value.__class__ is datetime and value.tzinfo is not None:
                return timezone.localtime(value).isoformat(" ", "seconds")[:19]
            return csv_cell(value, column, dialect)

        return datetime_cell
    return partial(csv_cell, column=column, dialect=dialect)


def xlsx_text(value) -> str:
    text = XML_ILLEGAL.sub("\ufffd", str(value))
    return neutralise(text)[:XLSX_MAX_TEXT]


def xlsx_cell(sheet, value, column: Column) -> WriteOnlyCell:
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    if column.type in (ColumnType.INT, ColumnType.DECIMAL) and isinstance(
        value, int | float | Decimal
    ):
        cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
        if column.type == ColumnType.DECIMAL:
            cell.number_format = "0.0#"
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=local(value).replace(tzinfo=None))
        cell.number_format = XLSX_DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    cell = WriteOnlyCell(sheet)
    cell.value = xlsx_text(value)
    cell.data_type = "s"  # text is text: never a formula, whatever it begins with
    return cell


class _Echo:
    """A file-like object whose write returns what it was given (for streaming csv)."""

    def write(self, value: str) -> str:
        return value


def _csv_header(columns: list[Column]) -> list[str]:
    return [neutralise(str(c.label)) for c in columns]


def csv_lines(
    columns: list[Column], rows: Iterable[dict], dialect: CsvDialect = COMMA
) -> Iterator[str]:
    """The CSV text, a line at a time: BOM, header, one line per row."""
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    yield BOM + writer.writerow(_csv_header(columns))
    format_row = csv_row_formatter(columns, dialect)
    for row in rows:
        yield writer.writerow(format_row(row))


def write_xlsx(
    target, columns: list[Column], rows: Iterable[dict], *, title: str = "Report", progress=None
) -> int:
    """Write an XLSX workbook (write-only mode: constant memory) to a path or a file object.
    `progress(n)` is called every 1,000 rows. Returns the number of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Report")
    for index, column in enumerate(columns, start=1):
        width = 20 if column.type in (ColumnType.DATETIME, ColumnType.TEXT) else 12
        sheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet)
        cell.value = xlsx_text(column.label)
        cell.data_type = "s"
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(sheet, row.get(c.key), c) for c in columns])
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    workbook.save(target)
    return count


def write_csv(
    target: Path, columns: list[Column], rows: Iterable[dict], *, dialect=COMMA, progress=None
) -> int:
    """Write the CSV to a file (what `csv_lines` streams, straight into the file)."""
    count = 0
    with open(target, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
        out.write(BOM)
        writer.writerow(_csv_header(columns))
        format_row = csv_row_formatter(columns, dialect)
        for row in rows:
            writer.writerow(format_row(row))
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
    return count


def json_rows(columns: list[Column], rows: Iterable[dict]) -> list[dict]:
    """Plain JSON values: instants ISO 8601 with offset, decimals as numbers."""
    out = []
    for row in rows:
        item = {}
        for column in columns:
            value = row.get(column.key)
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, datetime):
                value = local(value).isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            item[column.key] = value
        out.append(item)
    return out


def filename(name: str, fmt: str, now: datetime | None = None) -> str:
    stamp = local(now or timezone.now()).strftime("%Y%m%d-%H%M")
    return f"presidio-{name}-{stamp}.{fmt}"


def csv_response(
    name: str, columns: list[Column], rows: Iterable[dict], dialect=COMMA
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(columns, rows, dialect), content_type=CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(name, "csv")}"'
    return response


def xlsx_response(name: str, title: str, columns: list[Column], rows: Iterable[dict]):
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    write_xlsx(spool, columns, rows, title=title)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename(name, "xlsx"),
        content_type=CONTENT_TYPES["xlsx"],
    )


def json_dumps(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


# --- Bookkeeping: the export log and the jobs of big exports --------------------------------


def exports_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_export(*, user, report: str, filters: dict, fmt: str, row_count: int, now=None):
    """Every export is logged: who, which report, with which filters, format and rows."""
    from reports.models import ExportLog

    return ExportLog.objects.create(
        user=user,
        report=report,
        filters=filters,
        format=fmt,
        row_count=row_count,
        at=now or timezone.now(),
    )


def create_export_job(*, user, report: str, filters: dict, fmt: str, total: int, now=None):
    from reports.models import ExportJob

    return ExportJob.objects.create(
        owner=user,
        report=report,
        filters=filters,
        format=fmt,
        rows_total=total,
        created_at=now or timezone.now(),
    )


def record_export_progress(*, job_id: int, rows_done: int, status: str | None = None) -> None:
    from reports.models import ExportJob

    changes = {"rows_done": rows_done, "heartbeat_at": timezone.now()}
    if status:
        changes["status"] = status
    ExportJob.objects.filter(id=job_id).update(**changes)


def finish_export_job(*, job, path: Path, rows_done: int, now=None) -> bool:
    """The file is ready: the job points at it, expires in a day, and the export is logged.
    False, and the file removed, if a later attempt took the job over meanwhile (this one
    was thought dead)."""
    from reports.models import ExportJob

    now = now or timezone.now()
    with transaction.atomic():
        finished = ExportJob.objects.filter(
            id=job.id, status=ExportJob.Status.RUNNING, attempts=job.attempts
        ).update(
            status=ExportJob.Status.READY,
            rows_done=rows_done,
            file_name=path.name,
            finished_at=now,
            expires_at=now + timedelta(hours=24),
        )
        if not finished:
            path.unlink(missing_ok=True)
            return False
        log_export(
            user=job.owner,
            report=job.report,
            filters=job.filters,
            fmt=job.format,
            row_count=rows_done,
            now=now,
        )
    return True


def fail_export_job(*, job_id: int, error: str) -> None:
    """The job failed: it says why, and the part of its file already written is removed."""
    from reports.models import ExportJob

    _remove_files_of(ExportJob.objects.filter(id=job_id))
    ExportJob.objects.filter(id=job_id).update(
        status=ExportJob.Status.FAILED, error=error[:300], file_name=""
    )


def _remove_files_of(jobs) -> None:
    for file_name in jobs.exclude(file_name="").values_list("file_name", flat=True):
        (exports_dir() / file_name).unlink(missing_ok=True)


# A job is written by one worker at a time. A worker that dies leaves its job "running" with
# an old heartbeat: the task, redelivered, or the sweep below starts it again, at most
# EXPORT_MAX_ATTEMPTS times in all.
EXPORT_STALLED_AFTER = timedelta(minutes=5)
EXPORT_MAX_ATTEMPTS = 3
GAVE_UP = f"the worker writing it stopped {EXPORT_MAX_ATTEMPTS} times"  # a log, not shown


def _claimable(now: datetime):
    from django.db.models import Q

    from reports.models import ExportJob

    stalled = Q(status=ExportJob.Status.RUNNING) & (
        Q(heartbeat_at__lt=now - EXPORT_STALLED_AFTER) | Q(heartbeat_at__isnull=True)
    )
    return ExportJob.objects.filter(Q(status=ExportJob.Status.PENDING) | stalled)


def _claim(job_id: int, now: datetime) -> bool:
    """Take the job for this worker: waiting, or left running by a dead one (one UPDATE, so
    two deliveries never both write it)."""
    from django.db.models import F

    from reports.models import ExportJob

    claimed = (
        _claimable(now)
        .filter(id=job_id, attempts__lt=EXPORT_MAX_ATTEMPTS)
        .update(
            status=ExportJob.Status.RUNNING,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            rows_done=0,
        )
    )
    return bool(claimed)


def resume_stalled_exports(*, now=None) -> tuple[int, int]:
    """Beat's sweep: jobs left running by a dead worker, and jobs still waiting after
    `EXPORT_STALLED_AFTER` (their task was lost, e.g. with the broker down), are queued
    again; those that used their attempts fail with a message. Returns (queued, failed)."""
    from reports.models import ExportJob
    from reports.tasks import write_export_task

    now = now or timezone.now()
    cutoff = now - EXPORT_STALLED_AFTER
    stalled = _claimable(now).exclude(status=ExportJob.Status.PENDING, created_at__gte=cutoff)
    spent = stalled.filter(attempts__gte=EXPORT_MAX_ATTEMPTS)
    _remove_files_of(spent)
    failed = spent.update(status=ExportJob.Status.FAILED, error=GAVE_UP, file_name="")
    queued = list(stalled.filter(attempts__lt=EXPORT_MAX_ATTEMPTS).values_list("id", flat=True))
    for job_id in queued:
        enqueue(write_export_task, job_id)
    return len(queued), failed


def purge_expired_exports(*, now=None) -> int:
    """Delete the files of jobs older than their expiry and mark the jobs expired
    (idempotent: a second run finds nothing)."""
    from reports.models import ExportJob

    now = now or timezone.now()
    expired = ExportJob.objects.filter(status=ExportJob.Status.READY, expires_at__lte=now)
    count = 0
    for job in expired.only("id", "file_name"):
        if job.file_name:
            (exports_dir() / job.file_name).unlink(missing_ok=True)
        count += 1
    expired.update(status=ExportJob.Status.EXPIRED, file_name="")
    return count


# --- One entry point for the page and the API -----------------------------------------------


def async_threshold() -> int:
    return int(getattr(settings, "REPORTS_ASYNC_EXPORT_ROWS", 50_000))


def export_report(definition, filters, user, fmt: str, *, sep: str | None = None, now=None):
    """Export a report in `fmt` (csv or xlsx): a response streamed now, or, over the
    threshold, an ExportJob written by a worker (returned instead of a response)."""
    now = now or timezone.now()
    rows = definition.rows(filters, user, now)
    total = rows.count()
    query = filters.as_query()
    if total > async_threshold():
        from reports.tasks import write_export_task

        job = create_export_job(
            user=user,
            report=definition.name,
            filters={**query, **({"sep": sep} if sep else {})},
            fmt=fmt,
            total=total,
            now=now,
        )
        enqueue_after_commit(write_export_task, job.id)
        return job
    log_export(user=user, report=definition.name, filters=query, fmt=fmt, row_count=total, now=now)
    columns = list(definition.columns)
    if fmt == "csv":
        return csv_response(definition.name, columns, rows, dialect_for(sep))
    return xlsx_response(definition.name, str(definition.title), columns, rows)


def write_export_file(job, definition, filters) -> tuple[Path, int]:
    """The worker's half: write the job's file under MEDIA_ROOT/exports/, reporting progress."""
    import uuid

    path = exports_dir() / f"{definition.name}-{job.id}-{uuid.uuid4().hex[:12]}.{job.format}"
    # Named before it is written: an attempt that dies leaves a file the next one removes.
    type(job).objects.filter(id=job.id).update(file_name=path.name)
    rows = definition.rows(filters, job.owner)

    def progress(done: int) -> None:
        record_export_progress(job_id=job.id, rows_done=done)

    columns = list(definition.columns)
    if job.format == "csv":
        sep = job.filters.get("sep")
        done = write_csv(path, columns, rows, dialect=dialect_for(sep), progress=progress)
    else:
        done = write_xlsx(path, columns, rows, title=str(definition.title), progress=progress)
    return path, done


def run_export_job(*, job_id: int) -> str:
    """Write the file of a pending job, or of one a dead worker left running (state-based: a
    job being written, finished or failed is left alone, so a repeated delivery does
    nothing)."""
    from reports import definitions
    from reports.forms import ReportFilterForm
    from reports.models import ExportJob

    if not _claim(job_id, timezone.now()):
        return "skipped"
    job = ExportJob.objects.select_related("owner").get(id=job_id)
    if job.file_name:  # what an earlier attempt, which died, had begun to write
        (exports_dir() / job.file_name).unlink(missing_ok=True)
    definition = definitions.get(job.report)
    form = ReportFilterForm(job.filters)
    if definition is None or not form.is_valid():
        fail_export_job(job_id=job.id, error="invalid report or filters")
        return ExportJob.Status.FAILED
    try:
        path, done = write_export_file(job, definition, form.filters())
    except Exception as error:
        fail_export_job(job_id=job.id, error=f"{type(error).__name__}: {error}")
        raise
    if not finish_export_job(job=job, path=path, rows_done=done):
        return "superseded"
    return ExportJob.Status.READY
