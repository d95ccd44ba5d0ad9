"""`make bench`: measure Presidio against the targets of DESIGN.md section 8.

    scripts/bench.sh [--quick]       starts the throwaway servers, then runs this file
    scripts/bench.py --server-url postgres://presidio@127.0.0.1:PORT/postgres [--quick]

Steps (docs/performance.md has the method and the plans):
1. the data set lives in its own database `bench_<scale>_s<seed>`, built once with
   `manage.py seed_demo --scale national|bench-small --seed N` (COPY) and recognised later by
   its marker row (scale, seed, builder version);
2. every run works on a fresh copy of it (`CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY`),
   so measurements that write (case create, take-next, SLA recompute) never change the data
   set and every run starts from the same rows; the copy is dropped afterwards;
3. a child process with Django set up on the copy (DEBUG off, Redis cache, gunicorn on
   127.0.0.1 for the HTTP measurements) runs each measurement and writes JSON; exports run in
   their own processes so their peak memory is theirs alone;
4. results go to bench/results.json (targets beside each figure) and a table on stdout.
"""

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")
DEFAULT_OUTPUT = ROOT / "bench" / "results.json"
QUICK_OUTPUT = ROOT / "bench" / "results-quick.json"  # a quick run never hides the national one
QUICK_SCALE, FULL_SCALE = "bench-small", "national"
CASE_PAGE_QUERIES = 15  # issue #25: queries, not counting BEGIN/COMMIT (transaction control)
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
# Managers' pages (issue #25 point 4): the dashboard and every report, as a manager over the
# whole request (middleware, view, template), at 30 days and at two years up to today.
REPORT_RANGES = {"30d": 30, "2y": 730}
RANGE_LABELS = {"30d": "30 days", "2y": "two years"}
DASHBOARD_P95_MS, REPORT_P95_MS = 300, 500

# name: (label, target text, unit)
TARGETS = {
    "caller_lookup_selector": ("Caller lookup, selector (p95)", "< 30 ms", "ms"),
    "caller_lookup_http": ("Caller lookup, POST /api/v1/lookup/ (p95)", "< 30 ms", "ms"),
    # DESIGN.md §8 says < 60 ms; issue #25 asks < 40 ms.
    "case_create_http": ("Case create, POST /api/v1/cases/ (p95)", "< 40 ms", "ms"),
    "queue_page": ("Queue page /care/cases/ (p95)", "< 120 ms, queries flat", "ms"),
    "case_page": ("Case page /care/cases/<ref>/ (p95)", "<= 15 queries", "ms"),
    "case_search": (
        "Case search by text, POST /api/v1/cases/search/ (p95)",
        "< 150 ms",
        "ms",
    ),
    "take_next": ("Take-next, 32 operators", ">= 300 /s, 0 doubles", "/s"),
    "sla_recompute_all_changing": (
        "SLA recompute, every state changes",
        # DESIGN.md §8 retired the absolute "< 1 s" on this 2-core machine (the bare UPDATE
        # alone takes longer); issue #25 asks <= 1.6x the bare UPDATE.
        "<= 1.6x UPDATE",
        "s",
    ),
    "sla_recompute_steady": ("SLA recompute, steady state", "<= 3x scan", "s"),
    "backlog_snapshot": ("Backlog snapshot (median)", "—", "s"),
    "export_csv": ("CSV export of all cases", "< 30 s (1M), < 200 MB", "s"),
    "export_xlsx": ("XLSX export, 100,000 rows", "—", "s"),
    "telephony_events_http": (
        "Telephony events, POST /api/v1/telephony/events/",
        ">= 300 /s, p95 < 50 ms",
        "/s",
    ),
    "wallboard": ("Wallboard data, 2M past calls (p95)", "< 100 ms", "ms"),
    "screen_pop": ("Screen pop, answer event to intake ready (p95)", "< 1 s", "ms"),
    "incident_banner": ("Intake banner, incidents covering a caller (p95)", "< 5 ms", "ms"),
    "incident_resolve": (
        "Incident resolution, 10,000 linked open cases",
        "< 3 s, queries constant",
        "s",
    ),
    "email_ingestion": ("E-mail ingestion, messages/s including threading", ">= 50 /s", "/s"),
    "article_suggest": ("Article suggestions, selector (p95)", "< 50 ms", "ms"),
}
TELEPHONY_SECRET = "bench-telephony-secret"  # noqa: S105 - a throwaway bench server


# Indexes docs/performance.md proposes that are not in a migration yet (case_takeable landed
# in care 0005). `--with-proposed-indexes` creates them on the run's copy, to measure them.
OPEN_SQL = "('new', 'assigned', 'in_progress', 'waiting_customer', 'waiting_unit')"
PROPOSED_INDEXES = [
    f"CREATE INDEX case_open_recent ON care_case (opened_at DESC, id DESC) "
    f"WHERE status IN {OPEN_SQL}",
    f"CREATE INDEX case_running ON care_case (id) WHERE status IN {OPEN_SQL} AND paused_at IS NULL",
]


# --- small helpers ---------------------------------------------------------------------------


def log(text: str) -> None:
    sys.stderr.write(f"[bench {datetime.now(UTC):%H:%M:%S}] {text}\n")
    sys.stderr.flush()


def stats(samples: list[float]) -> dict:
    """Milliseconds: n, median, p95, max."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def db_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def builder_version() -> int:
    text = (ROOT / "config" / "bench" / "data.py").read_text()
    return int(re.search(r"^BUILDER_VERSION = (\d+)", text, re.MULTILINE).group(1))


def step_version(module: str) -> int:
    """The version of an incremental data-set step (config/bench/MODULE.py)."""
    text = (ROOT / "config" / "bench" / f"{module}.py").read_text()
    return int(re.search(r"^STEP_VERSION = (\d+)", text, re.MULTILINE).group(1))


# step name in bench_dataset_step -> its module in config/bench
DATASET_STEPS = {"back_office": "back_office", "rollups": "rollups"}


def manage(*args: str, env: dict, quiet: bool = False) -> None:
    out = subprocess.DEVNULL if quiet else None
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=out)


# --- orchestration (no Django in this process) ------------------------------------------------


def orchestrate(args) -> int:
    import psycopg

    scale = QUICK_SCALE if args.quick else FULL_SCALE
    prefix = args.db_prefix
    seed_db = f"{prefix}_{scale.replace('-', '_')}_s{args.seed}"
    run_db = f"{seed_db}_run"
    admin = psycopg.connect(args.server_url, autocommit=True)
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("DATABASE_URL",)
    }
    base_env["PYTHONPATH"] = str(ROOT)
    results: dict = {
        "scale": scale,
        "seed": args.seed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(admin),
        "quick": bool(args.quick),
    }
    started = time.perf_counter()

    marker = read_marker(args.server_url, seed_db)
    wanted = {"scale": scale, "seed": args.seed, "version": builder_version()}
    reuse = (
        marker is not None
        and not args.rebuild
        and all(marker.get(k) == v for k, v in wanted.items())
    )
    if reuse:
        log(f"reusing data set {seed_db} (built {marker['built_at']} in {marker['seconds']:.0f}s)")
        missing = [
            step
            for step, module in DATASET_STEPS.items()
            if read_step(args.server_url, seed_db, step) != step_version(module)
        ]
        if missing:
            # Incremental steps (config/bench/back_office.py, rollups.py): no rebuild of the rest.
            log(f"adding the steps {', '.join(missing)} to the data set")
            env = base_env | {"DATABASE_URL": db_url(args.server_url, seed_db), "DJANGO_DEBUG": "1"}
            t0 = time.perf_counter()
            manage("migrate", "--noinput", env=env, quiet=True)
            manage("seed_demo", "--scale", scale, "--seed", str(args.seed), env=env)
            results["dataset_steps_seconds"] = round(time.perf_counter() - t0, 1)
            marker = read_marker(args.server_url, seed_db) or marker
        results["dataset"] = {"database": seed_db, "reused": True, **marker}
    else:
        log(f"building data set {scale} (seed {args.seed}) into {seed_db}")
        admin.execute(f'DROP DATABASE IF EXISTS "{seed_db}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{seed_db}"')
        env = base_env | {"DATABASE_URL": db_url(args.server_url, seed_db), "DJANGO_DEBUG": "1"}
        t0 = time.perf_counter()
        manage("migrate", "--noinput", env=env, quiet=True)
        migrated = time.perf_counter() - t0
        manage("seed_demo", "--scale", scale, "--seed", str(args.seed), env=env)
        marker = read_marker(args.server_url, seed_db)
        results["dataset"] = {
            "database": seed_db,
            "reused": False,
            "migrate_seconds": round(migrated, 1),
            "build_wall_seconds": round(time.perf_counter() - t0, 1),
            **(marker or {}),
        }

    log(f"copying {seed_db} to {run_db}")
    t0 = time.perf_counter()
    admin.execute(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{run_db}" TEMPLATE "{seed_db}" STRATEGY FILE_COPY')
    results["dataset"]["copy_seconds"] = round(time.perf_counter() - t0, 1)
    static_root = ROOT / ".tmp" / "bench" / "static"
    env = base_env | {
        "DATABASE_URL": db_url(args.server_url, run_db),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    try:
        manage("migrate", "--noinput", env=env, quiet=True)  # migrations newer than the data set
        with psycopg.connect(db_url(args.server_url, run_db), autocommit=True) as conn:
            rolled = conn.execute("SELECT EXISTS (SELECT 1 FROM reports_rolluprefresh)").fetchone()
        if not rolled[0]:  # a data set without the rollups step: build them on the copy
            log("building the daily rollups on the copy")
            t0 = time.perf_counter()
            manage("rebuild_rollups", env=env, quiet=True)
            results["dataset"]["rollups_seconds"] = round(time.perf_counter() - t0, 1)
        manage("collectstatic", "--noinput", env=env, quiet=True)
        if args.with_proposed_indexes:
            log("creating the proposed indexes on the copy")
            with psycopg.connect(db_url(args.server_url, run_db), autocommit=True) as conn:
                for statement in PROPOSED_INDEXES:
                    conn.execute(statement)  # constant DDL
                conn.execute("ANALYZE care_case")
        results["proposed_indexes_applied"] = bool(args.with_proposed_indexes)
        with tempfile.TemporaryDirectory(prefix="presidio-bench-") as tmp:
            out = Path(tmp) / "measure.json"
            cmd = [PY, __file__, "_measure", "--out", str(out), "--seed", str(args.seed)]
            if args.quick:
                cmd.append("--quick")
            if args.skip:
                cmd += ["--skip", args.skip]
            subprocess.run(cmd, cwd=ROOT, env=env, check=True)
            results |= json.loads(out.read_text())
    finally:
        if not args.keep_run_db:
            admin.execute(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')
        if args.drop_dataset:
            admin.execute(f'DROP DATABASE IF EXISTS "{seed_db}" WITH (FORCE)')
        admin.close()
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["summary"] = summary(results)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    print(f"\nWritten {output} ({results['total_seconds']:.0f}s in all).")
    return 0


def read_marker(server_url: str, name: str) -> dict | None:
    import psycopg

    try:
        conn = psycopg.connect(db_url(server_url, name), autocommit=True)
    except psycopg.OperationalError:
        return None
    with conn:
        if conn.execute("SELECT to_regclass('bench_dataset')").fetchone()[0] is None:
            return None
        row = conn.execute(
            "SELECT scale, seed, version, as_of, built_at, seconds, counts FROM bench_dataset "
            "ORDER BY built_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    return {
        "scale": row[0],
        "seed": row[1],
        "version": row[2],
        "as_of": row[3].isoformat(),
        "built_at": row[4].isoformat(),
        "seconds": round(row[5], 1),
        "counts": row[6],
    }


def read_step(server_url: str, name: str, step: str) -> int | None:
    """The version of an incremental step in the data set, or None."""
    import psycopg

    with psycopg.connect(db_url(server_url, name), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('bench_dataset_step')").fetchone()[0] is None:
            return None
        row = conn.execute(
            "SELECT max(version) FROM bench_dataset_step WHERE step = %s", [step]
        ).fetchone()
    return row[0] if row else None


def machine_info(admin) -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) // 1024
    settings = dict(
        admin.execute(
            "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name IN "
            "('shared_buffers', 'work_mem', 'fsync', 'synchronous_commit', 'max_connections')"
        ).fetchall()
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_mb": memory,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": admin.execute("SHOW server_version").fetchone()[0],
        "postgresql_settings": settings,
    }


# --- the results table ------------------------------------------------------------------------


def summary(results: dict) -> list[dict]:
    """One row per measurement: figure, target, met (None when there is no target)."""
    m = results.get("measurements", {})
    rows = []

    def add(name, figure, met, note=""):
        label, target, _unit = TARGETS[name]
        rows.append(
            {"name": name, "label": label, "figure": figure, "target": target, "met": met}
            | ({"note": note} if note else {})
        )

    def failed(name):
        item = m.get(name)
        if item is None:
            add(name, "not run", None)
            return True
        if "error" in item:
            add(name, "error: " + item["error"][:60], False)
            return True
        if item.get("available") is False:
            add(name, "not available", None, item.get("note", ""))
            return True
        return False

    for name, limit in (
        ("caller_lookup_selector", 30),
        ("caller_lookup_http", 30),
        ("case_create_http", 40),
        ("article_suggest", 50),
    ):
        if not failed(name):
            p95 = m[name]["p95_ms"]
            figure = f"{p95} ms"
            if m[name].get("queries") is not None:  # beside the figure (issue #25)
                figure += f", {m[name]['queries']} queries"
            add(name, figure, p95 < limit, f"median {m[name]['median_ms']} ms")
    if not failed("queue_page"):
        q = m["queue_page"]
        flat = q["queries_full_page"] == q["queries_small_page"]
        add(
            "queue_page",
            f"{q['p95_ms']} ms, {q['queries_full_page']} queries",
            q["p95_ms"] < 120 and flat,
            f"median {q['median_ms']} ms; {q['queries_small_page']} queries for a one-row page",
        )
    if not failed("case_search"):
        c = m["case_search"]
        add(
            "case_search",
            f"{c['p95_ms']} ms, {c['queries_max']} queries max",
            c["p95_ms"] < 150,
            f"median {c['median_ms']} ms; operator p95 {c['operator']['p95_ms']} ms, "
            f"supervisor p95 {c['supervisor']['p95_ms']} ms; {len(c['searches'])} searches",
        )
    if not failed("case_page"):
        c = m["case_page"]
        add(
            "case_page",
            f"{c['p95_ms']} ms, {c['queries_max']} queries max",
            c["queries_max"] <= CASE_PAGE_QUERIES,
            f"median {c['median_ms']} ms; {c.get('statements_max')} statements max with "
            "BEGIN/COMMIT",
        )
    rows.extend(page_rows(m))
    if not failed("take_next"):
        t = m["take_next"]
        add(
            "take_next",
            f"{t['per_second']} /s, {t['double_assignments']} doubles",
            t["per_second"] >= 300 and t["double_assignments"] == 0,
            f"{t['assignments']} assignments in {t['seconds']} s",
        )
    if not failed("sla_recompute_all_changing"):
        s = m["sla_recompute_all_changing"]
        add(
            "sla_recompute_all_changing",
            f"{s['median_s']:.2f} s = {s['ratio']}x UPDATE",
            s["ratio"] <= 1.6,
            f"{s['changed']:,} targets changed; bare UPDATE {s['reference_median_s']:.2f} s",
        )
    if not failed("sla_recompute_steady"):
        s = m["sla_recompute_steady"]
        add(
            "sla_recompute_steady",
            f"{s['median_s']:.3f} s = {s['ratio']}x scan",
            s["ratio"] <= 3,
            f"bare scan {s['reference_median_s']:.3f} s of {s['scanned']:,} running open cases",
        )
    if not failed("backlog_snapshot"):
        b = m["backlog_snapshot"]
        add("backlog_snapshot", f"{b['median_s']:.2f} s", None, b.get("implementation", ""))
    if not failed("export_csv"):
        e = m["export_csv"]
        add(
            "export_csv",
            f"{e['seconds']} s, {e['peak_rss_mb']} MB",
            e["seconds"] < 30 and e["peak_rss_mb"] < 200,
            f"{e['rows']:,} rows, {e['implementation']}",
        )
    if not failed("telephony_events_http"):
        t = m["telephony_events_http"]
        add(
            "telephony_events_http",
            f"{t['per_second']} /s, p95 {t['p95_ms']} ms",
            t["per_second"] >= 300 and t["p95_ms"] < 50 and not t["errors"],
            f"{t['events']} events from {t['clients']} clients, median {t['median_ms']} ms",
        )
    if not failed("wallboard"):
        w = m["wallboard"]
        add("wallboard", f"{w['p95_ms']} ms", w["p95_ms"] < 100, f"{w['calls']:,} calls stored")
    if not failed("screen_pop"):
        p = m["screen_pop"]
        add(
            "screen_pop",
            f"{p['p95_ms']} ms",
            p["p95_ms"] < 1000,
            f"answer event, the page's poll (every {p['poll_ms']} ms) and the intake page; "
            f"median {p['median_ms']} ms",
        )
    if not failed("incident_banner"):
        b = m["incident_banner"]
        add(
            "incident_banner",
            f"{b['p95_ms']} ms, {b['queries']} query",
            b["p95_ms"] < 5,
            f"median {b['median_ms']} ms; 5 active incidents",
        )
    if not failed("incident_resolve"):
        r = m["incident_resolve"]
        add(
            "incident_resolve",
            f"{r['seconds']:.2f} s, {r['queries']} queries",
            r["seconds"] < 3,
            f"{r['cases']:,} cases resolved ({r['events_written']:,} events); "
            f"linked in bulk in {r['link_seconds']:.2f} s"
            + (
                f"; {r['cases_copied_for_the_run']:,} open cases copied to reach 10,000"
                if r.get("cases_copied_for_the_run")
                else ""
            ),
        )
    if not failed("email_ingestion"):
        e = m["email_ingestion"]
        add(
            "email_ingestion",
            f"{e['per_second']} /s, p95 {e['p95_ms']} ms",
            e["per_second"] >= 50,
            f"{e['messages']} messages: "
            + ", ".join(f"{count} {outcome}" for outcome, count in sorted(e["outcomes"].items())),
        )
    if not failed("export_xlsx"):
        e = m["export_xlsx"]
        add(
            "export_xlsx",
            f"{e['seconds']} s, {e['peak_rss_mb']} MB",
            None,
            f"{e['rows']:,} rows, {e['implementation']}",
        )
    return rows


def page_rows(m: dict) -> list[dict]:
    """The dashboard and each report at both ranges: one row each, p95 and its queries."""
    rows = []

    def row(name: str, label: str, item: dict | None, limit: int) -> None:
        base = {"name": name, "label": label, "target": f"< {limit} ms"}
        if item is None:
            rows.append(base | {"figure": "not run", "met": None})
        elif "error" in item:
            rows.append(base | {"figure": "error: " + item["error"][:60], "met": False})
        else:
            rows.append(
                base
                | {
                    "figure": f"{item['p95_ms']} ms, {item['queries']} queries",
                    "met": item["p95_ms"] < limit,
                    "note": f"median {item['median_ms']} ms; {item['n']} requests",
                }
            )

    def ranges(measure: dict | None) -> dict:
        if measure is not None and "error" in measure:
            return dict.fromkeys(REPORT_RANGES, measure)
        return measure or {}

    if "dashboard" in m:
        dashboard = ranges(m["dashboard"])
        for key in REPORT_RANGES:
            label = f"Reports dashboard /reports/, {RANGE_LABELS[key]} (p95)"
            row(f"dashboard_{key}", label, dashboard.get(key), DASHBOARD_P95_MS)
    reports = m.get("reports") or {}
    if "error" in reports:
        rows.append(
            {
                "name": "reports",
                "label": "Report pages /reports/<name>/ (p95)",
                "figure": "error: " + reports["error"][:60],
                "target": f"< {REPORT_P95_MS} ms",
                "met": False,
            }
        )
        return rows
    for report, measure in (reports.get("pages") or {}).items():
        measure = ranges(measure)
        for key in REPORT_RANGES:
            label = f"Report {report}, {RANGE_LABELS[key]} (p95)"
            row(f"report_{report}_{key}", label, measure.get(key), REPORT_P95_MS)
    return rows


def markdown(results: dict) -> str:
    """The table of a results file, as Markdown (for README.md and docs/performance.md)."""
    counts = results.get("dataset", {}).get("counts", {})
    machine = results["machine"]
    lines = [
        f"Scale `{results['scale']}` (seed {results['seed']}: {counts.get('care.Case', 0):,} "
        f"cases, {counts.get('care.Note', 0):,} notes), {results['date'][:16]} UTC, "
        f"{machine['cpus']} CPUs ({machine['cpu_model']}), load average at start "
        f"{machine['load_average'][0]}, PostgreSQL {machine['postgresql'].split()[0]}"
        + (", **with the proposed indexes**." if results.get("proposed_indexes_applied") else "."),
        "",
        "| measurement | figure | target | met | detail |",
        "|---|---|---|---|---|",
    ]
    for r in results["summary"]:
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        lines.append(
            f"| {r['label']} | {r['figure']} | {r['target']} | {met} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def table(results: dict) -> str:
    rows = results["summary"]
    header = ("measurement", "figure", "target", "met")
    body = [
        (r["label"], r["figure"], r["target"], {True: "yes", False: "NO", None: "—"}[r["met"]])
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(4)]
    counts = results.get("dataset", {}).get("counts", {})
    lines = [
        f"Presidio bench — scale {results['scale']} (seed {results['seed']}), "
        f"{counts.get('care.Case', '?'):,} cases, {results['date']}, "
        f"{results['machine']['cpus']} CPUs, PostgreSQL {results['machine']['postgresql']}"
        + (", WITH the proposed indexes" if results.get("proposed_indexes_applied") else ""),
        "",
    ]
    for i, row in enumerate([header, *body]):
        lines.append(" | ".join(str(v).ljust(widths[k]) for k, v in enumerate(row)).rstrip())
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


# --- the measurements (child process, Django set up on the copy) ------------------------------


class Measure:
    def __init__(self, quick: bool, seed: int, skip: set[str] | None = None):
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.utils import timezone

        self.quick = quick
        self.skip = skip or set()
        self.rng = random.Random(seed)  # noqa: S311 - sampling, not security
        self.now = timezone.now()
        self.today = self.now.date()
        self.reps = 60 if quick else 300
        self.results: dict = {}
        self.server: subprocess.Popen | None = None
        self.port = 0

    # --- fixtures of the run ---
    def setup(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.utils import timezone

        from config import tokens

        user_model = get_user_model()
        self.operators = list(
            user_model.objects.filter(
                username__startswith="bench", operator_profile__isnull=False
            ).order_by("id")
        )
        if len(self.operators) < 32:
            raise RuntimeError("the data set has fewer than 32 benchmark operators")
        now = timezone.now()
        self.tokens = [
            tokens.issue_token(
                actor=None,
                owner=u,
                name="bench",
                scopes=list(tokens.SCOPES),
                expires_at=now + timedelta(days=1),  # the run's own tokens
                now=now,
            )[1]
            for u in self.operators
        ]
        with connection.cursor() as cursor:
            # 32 operators at work: available, and capacity that does not stop the run.
            cursor.execute(
                "UPDATE routing_operatorprofile SET presence = 'available', capacity = 10000, "
                "backoffice_share = 0 WHERE user_id = ANY(%s)",
                [[u.id for u in self.operators[:32]]],
            )
        self.admin = user_model.objects.filter(username="admin").first() or self.operators[0]

    def start_server(self) -> None:
        self.port = free_port()
        workers = str(max(2, (os.cpu_count() or 1) + 1))
        self.server = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                workers,
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env={**os.environ, "PRESIDIO_TELEPHONY_SECRET": TELEPHONY_SECRET},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _body = self.http("GET", "/healthz")
                if status in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer on /healthz within 60 s")

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                self.server.kill()
            self.server = None

    def http(self, method: str, path: str, body=None, token: str = ""):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "127.0.0.1", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def run(self, name: str, function) -> None:
        if name in self.skip:
            return
        log(f"measuring {name}")
        started = time.perf_counter()
        try:
            self.results[name] = function()
        except Exception as error:
            import traceback

            traceback.print_exc()
            self.results[name] = {"error": f"{type(error).__name__}: {error}"}
        self.results[name]["wall_seconds"] = round(time.perf_counter() - started, 1)

    # --- samples ---
    def phones(self, count: int) -> list[str]:
        from contracts.models import EndUserPhone

        ids = list(EndUserPhone.objects.order_by("id").values_list("id", flat=True))
        chosen = self.rng.sample(ids, min(count, len(ids)))
        numbers = list(EndUserPhone.objects.filter(id__in=chosen).values_list("number", flat=True))
        self.rng.shuffle(numbers)
        # As an operator types them: national format with spaces.
        return [f"{n[3:6]} {n[6:9]} {n[9:]}" for n in numbers]

    # --- caller lookup ---
    def lookup_selector(self) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from contracts.selectors import caller_lookup

        phones = self.phones(self.reps + 10)
        for phone in phones[:10]:
            caller_lookup(on=self.today, phone=phone)
        samples, found = [], 0
        for phone in phones[10:]:
            t0 = time.perf_counter()
            matches = caller_lookup(on=self.today, phone=phone)
            samples.append(time.perf_counter() - t0)
            found += bool(matches)
        connection.queries_log.clear()  # a full log (9,000) would count 0
        with CaptureQueriesContext(connection) as queries:
            caller_lookup(on=self.today, phone=phones[0])
        return stats(samples) | {"found": found, "queries": len(queries)}

    def lookup_http(self) -> dict:
        phones = self.phones(self.reps + 10)
        samples, errors = [], {}
        for i, phone in enumerate(phones):
            token = self.tokens[i % len(self.tokens)]
            t0 = time.perf_counter()
            status, body = self.http("POST", "/api/v1/lookup/", {"phone": phone}, token)
            elapsed = time.perf_counter() - t0
            if status != 200:
                errors[status] = body[:200].decode(errors="replace")
            elif i >= 10:
                samples.append(elapsed)
        return stats(samples) | {"errors": errors, "server": "gunicorn, sync workers"}

    # --- article suggestions (the intake and case page panel) ---
    def article_suggest(self) -> dict:
        """The best five articles for a contract, a category and what an operator typed, as
        a certified operator asks them (their reach read each time, as per request)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from care.article_selectors import suggested_articles
        from contracts.demo import CATEGORIES
        from contracts.models import Contract

        contracts = list(Contract.objects.order_by("id"))
        operator = next(u for u in self.operators if u.has_perm("config.handle_cases"))
        texts = [
            "il dipendente è in Francia e il roaming non funziona",
            "SIM bloccata dopo tre PIN sbagliati, serve il PUK",
            "linea sospesa da ieri, chiede quando torna attiva",
            "nessun servizio in ufficio da stamattina",
            "ha perso il telefono aziendale e vuole una nuova SIM",
            "chiamate verso l'estero non partono",
        ]

        def ask(i: int):
            operator.__dict__.pop("_presidio_article_reach", None)
            return suggested_articles(
                operator,
                contract=contracts[i % len(contracts)],
                category_code=CATEGORIES[i % len(CATEGORIES)].code,
                text=texts[self.rng.randrange(len(texts))],
            )

        for i in range(10):
            ask(i)
        samples, found = [], 0
        for i in range(self.reps):
            t0 = time.perf_counter()
            result = ask(i)
            samples.append(time.perf_counter() - t0)
            found += len(result)
        connection.queries_log.clear()  # a full log (9,000) would count 0
        with CaptureQueriesContext(connection) as queries:
            ask(1)
        return stats(samples) | {
            "suggested_per_ask": round(found / self.reps, 2),
            "queries": len(queries),
        }

    # --- case create ---
    def case_create_http(self) -> dict:
        from django.db import connection

        from contracts.demo import CATEGORIES

        count = (40 if self.quick else 200) + 5
        with connection.cursor() as cursor:
            # End users with no open and no recent case: the duplicate guard lets them through.
            cursor.execute(
                "SELECT u.id, min(c.code), u.employee_code FROM contracts_enduser u "
                "JOIN contracts_contract c "
                "ON c.client_id = u.client_id AND c.status = 'active' WHERE NOT EXISTS (SELECT 1 "
                "FROM care_case k WHERE k.end_user_id = u.id AND (k.status NOT IN ('resolved', "
                "'closed') OR k.resolved_at > now() - interval '8 days' OR k.closed_at > now() - "
                "interval '8 days')) GROUP BY u.id "
                "ORDER BY md5(u.id::text || %s) LIMIT %s",
                [str(self.rng.random()), count],
            )
            callers = cursor.fetchall()
        counted = callers.pop() if callers else None  # opened once more, in-process, counted
        samples, errors, created = [], {}, 0
        for i, (end_user, contract, employee_code) in enumerate(callers):
            category = CATEGORIES[i % len(CATEGORIES)]
            token = self.tokens[i % len(self.tokens)]
            # As at intake: a case names only a caller this user looked up (not timed).
            self.http("POST", "/api/v1/lookup/", {"employee_code": employee_code}, token)
            body = {
                "contract": contract,
                "end_user": end_user,
                "category": category.code,
                "channel": "phone",
                "subject": f"Richiesta di prova {i}",
                "description": f"Descrizione della richiesta di prova numero {i}.",
            }
            t0 = time.perf_counter()
            status, text = self.http("POST", "/api/v1/cases/", body, token)
            elapsed = time.perf_counter() - t0
            if status == 201:
                created += 1
                if i >= 5:
                    samples.append(elapsed)
            else:
                errors[status] = text[:300].decode(errors="replace")
        queries = self.case_create_queries(counted, CATEGORIES[0].code) if counted else None
        return stats(samples) | {"created": created, "errors": errors, "queries": queries}

    def case_create_queries(self, caller: tuple, category: str) -> int:
        """The queries of one more case opened through the API, in this process (the timed
        requests go to gunicorn, whose queries this process cannot see)."""
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        end_user, contract, employee_code = caller
        client = Client(HTTP_AUTHORIZATION=f"Token {self.tokens[0]}")
        client.post("/api/v1/lookup/", {"employee_code": employee_code}, "application/json")
        body = {
            "contract": contract,
            "end_user": end_user,
            "category": category,
            "channel": "phone",
            "subject": "Richiesta contata",
            "description": "La richiesta di cui si contano le query.",
        }
        connection.queries_log.clear()  # a full log (9,000) would count 0
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/cases/", body, "application/json")
        if response.status_code != 201:
            raise RuntimeError(f"case create answered {response.status_code}")
        return len(captured)

    # --- pages ---
    def client(self):
        from django.test import Client

        client = Client()
        operator = next(u for u in self.operators if u.has_perm("config.handle_cases"))
        client.force_login(operator)
        return client

    def timed_pages(
        self, client, paths: list[str], *, without_transaction_control: bool = False
    ) -> tuple[list[float], list[int]]:
        """Each page's time and statements (or, `without_transaction_control`, its queries:
        the statements other than BEGIN, COMMIT and savepoints)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        samples, queries = [], []
        for path in paths:
            connection.queries_log.clear()  # a full log (9,000) would count 0
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                response = client.get(path)
                body = response.content
                samples.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}: {body[:200]!r}")
            sent = [q["sql"] for q in captured.captured_queries]
            if without_transaction_control:
                sent = [sql for sql in sent if not sql.startswith(TRANSACTION_CONTROL)]
            queries.append(len(sent))
        return samples, queries

    def queue_page(self) -> dict:
        from care.models import Case

        client = self.client()
        reps = 20 if self.quick else 60
        pages = ["/care/cases/", "/care/cases/?open=true", "/care/cases/?open=true&page=3"]
        self.timed_pages(client, pages)  # warm-up
        samples, queries = self.timed_pages(client, [pages[i % 3] for i in range(reps)])
        # The last page, fewer rows: the query count must not depend on the rows shown. (Not a
        # search by reference: a search is logged, which adds its own queries.)
        from care.views import PAGE_SIZE, CappedPaginator

        paginator = CappedPaginator(Case.objects.order_by("id"), PAGE_SIZE)
        last = paginator.num_pages
        _s, small = self.timed_pages(client, [f"/care/cases/?page={last}"])
        return stats(samples) | {
            "pages": pages,
            "queries_full_page": max(queries),
            "queries_small_page": small[0],
            "small_page_rows": len(paginator.page(last).object_list),
        }

    def case_page(self) -> dict:
        from care.models import OPEN_STATUSES, Case

        client = self.client()
        reps = 20 if self.quick else 100
        open_refs = list(
            Case.objects.filter(status__in=OPEN_STATUSES)
            .order_by("id")
            .values_list("reference", flat=True)
        )
        last_id = Case.objects.order_by("-id").values_list("id", flat=True).first()
        ids = self.rng.sample(range(1, last_id + 1), min(reps, last_id))
        any_refs = list(Case.objects.filter(id__in=ids).values_list("reference", flat=True))
        refs = self.rng.sample(open_refs, min(reps // 2, len(open_refs))) + any_refs
        refs = refs[:reps]
        self.timed_pages(client, [f"/care/cases/{r}/" for r in refs[:3]])
        pages = [f"/care/cases/{r}/" for r in refs]
        samples, queries = self.timed_pages(client, pages, without_transaction_control=True)
        _samples, statements = self.timed_pages(client, pages[:10])
        return stats(samples) | {
            "queries_median": statistics.median(queries),
            "queries_max": max(queries),
            "statements_max": max(statements),  # BEGIN and COMMIT included
        }

    # --- managers' pages: the dashboard and the reports (issue #25 point 4) ---
    def manager_client(self):
        """A manager signed in (national: every report row), as a browser asks the pages."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Permission
        from django.test import Client
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        reports = Permission.objects.get(codename="view_reports")
        manager = (
            get_user_model().objects.filter(username="manager", is_active=True).first()
            or get_user_model()
            .objects.filter(is_active=True, groups__permissions=reports)
            .order_by("id")
            .first()
        )
        if manager is None:
            raise RuntimeError("the data set has no user who may view the reports")
        client = Client()
        client.force_login(manager)
        # A whole sign-in: the password and the second factor (a device on the run's copy).
        device = TOTPDevice.objects.filter(user=manager, confirmed=True).first()
        device = device or TOTPDevice.objects.create(user=manager, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    def range_query(self, key: str) -> str:
        start = self.today - timedelta(days=REPORT_RANGES[key] - 1)
        return f"date_from={start.isoformat()}&date_to={self.today.isoformat()}"

    def timed_ranges(self, path: str) -> dict:
        """One page at each range: warm-up once, then the samples; the queries of one call."""
        client = self.manager_client()
        # 20: the p95 of ten requests is their slowest, one stray pause (a checkpoint, the
        # first read of a cold page) decides it; of twenty it is the second slowest.
        reps = 3 if self.quick else 20
        measured = {}
        for key in REPORT_RANGES:
            url = f"{path}?{self.range_query(key)}"
            self.timed_pages(client, [url])  # warm-up
            samples, queries = self.timed_pages(client, [url] * reps)
            measured[key] = stats(samples) | {"queries": max(queries), "path": url}
        return measured

    def dashboard(self) -> dict:
        return self.timed_ranges("/reports/")

    def reports(self) -> dict:
        from reports import definitions

        pages = {}
        for definition in definitions.all_definitions():
            log(f"  report {definition.name}")
            try:
                pages[definition.name] = self.timed_ranges(f"/reports/{definition.name}/")
            except Exception as error:  # one report failing leaves the others measured
                pages[definition.name] = {"error": f"{type(error).__name__}: {error}"}
        return {"pages": pages}

    def case_search(self) -> dict:
        """Text search over cases and notes (care.search) as people type it, through the API
        the page shares (ranked, snippets, access log), as an operator and as a supervisor."""
        from django.contrib.auth.models import Group
        from django.test import Client

        from config import roles

        supervisor = next((u for u in self.operators if u.has_perm("config.supervise")), None)
        if supervisor is None:  # bench-small's 40 operators hold none: one becomes one here
            supervisor = self.operators[-1]
            supervisor.groups.add(Group.objects.get(name=roles.SUPERVISOR))
            supervisor = type(supervisor).objects.get(pk=supervisor.pk)  # permissions afresh
        users = {
            "operator": next(u for u in self.operators if u.has_perm("config.handle_cases")),
            "supervisor": supervisor,
        }
        reps = 2 if self.quick else 4
        result: dict = {"searches": CASE_SEARCHES}
        samples_all, queries_all = [], []
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            self.timed_searches(client, CASE_SEARCHES[:3])  # warm-up
            samples, queries, found = self.timed_searches(client, CASE_SEARCHES * reps)
            samples_all += samples
            queries_all += queries
            result[role] = stats(samples) | {
                "user": user.username,
                "found_median": statistics.median(found),
            }
        return (
            result
            | stats(samples_all)
            | {
                "queries_median": statistics.median(queries_all),
                "queries_max": max(queries_all),
            }
        )

    def timed_searches(self, client, texts: list[str]) -> tuple[list[float], list[int], list]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        samples, queries, found = [], [], []
        for text in texts:
            connection.queries_log.clear()  # a full log (9,000) would count 0
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                response = client.post(
                    "/api/v1/cases/search/", {"q": text}, content_type="application/json"
                )
                body = response.content
                samples.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(
                    f"search {text!r} answered {response.status_code}: {body[:200]!r}"
                )
            queries.append(len(captured))
            found.append(len(response.json()["results"]))
        return samples, queries, found

    # --- take-next ---
    def take_next(self) -> dict:
        from django.db import connection, connections

        from routing.services import take_next_case

        operators = self.operators[:32]
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(max(id), 0) FROM routing_assignment")
            first_assignment = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM care_case WHERE status = 'new' AND assignee_id IS NULL"
            )
            waiting = cursor.fetchone()[0]
        budget = 10.0 if self.quick else 20.0
        # One process per operator, each with its own connection (as gunicorn workers are).
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(len(operators) + 1)
        results = context.Queue()
        connections.close_all()

        def work(k: int) -> None:
            count, errors = 0, {}
            try:
                # Warm-up outside the clock: this process's connections (database, broker)
                # and lazy caches; the case it takes counts in the double-assignment check.
                with contextlib.suppress(Exception):
                    take_next_case(operator=operators[k])
                barrier.wait()
                stop_at = time.perf_counter() + budget
                while time.perf_counter() < stop_at:
                    try:
                        case = take_next_case(operator=operators[k])
                    except Exception as error:
                        name = type(error).__name__
                        errors[name] = errors.get(name, 0) + 1
                        if errors[name] > 50:
                            break
                        continue
                    if case is None:
                        break
                    count += 1
            finally:
                connections.close_all()
                results.put((count, errors))

        workers = [context.Process(target=work, args=(k,)) for k in range(len(operators))]
        for worker in workers:
            worker.start()
        barrier.wait()
        t0 = time.perf_counter()
        outcomes = [results.get(timeout=budget + 120) for _ in workers]
        seconds = time.perf_counter() - t0
        for worker in workers:
            worker.join(30)
        counts = [count for count, _errors in outcomes]
        errors: dict[str, int] = {}
        for _count, found in outcomes:
            for name, n in found.items():
                errors[name] = errors.get(name, 0) + n
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT case_id FROM routing_assignment WHERE id > %s "
                "GROUP BY case_id HAVING count(*) > 1) doubled",
                [first_assignment],
            )
            doubles = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM routing_assignment a JOIN care_case c ON c.id = a.case_id "
                "WHERE a.id > %s AND c.assignee_id IS DISTINCT FROM a.operator_id",
                [first_assignment],
            )
            mismatched = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM routing_assignment WHERE id > %s", [first_assignment]
            )
            logged = cursor.fetchone()[0]
        total = sum(counts)
        return {
            "operators": len(operators),
            "workers": "one process and connection per operator",
            "assignments": total,
            "assignments_logged": logged,
            "seconds": round(seconds, 2),
            "per_second": round(total / seconds, 1) if seconds else 0,
            "double_assignments": doubles,
            "assignee_mismatches": mismatched,
            "waiting_new_cases_before": waiting,
            "ran_out_of_cases": total + len(operators) >= waiting,
            "warm_up": "one take per operator before the clock starts (not counted)",
            "errors": errors,
        }

    # --- SLA recompute ---
    def sla(self) -> None:
        from django.db import connection, transaction

        from care.sla import recompute_sla_states

        running = (
            "status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'waiting_unit') "
            "AND paused_at IS NULL"
        )
        reps = 5

        def timed(function) -> float:
            t0 = time.perf_counter()
            function()
            return time.perf_counter() - t0

        def scan():
            # Read the compared columns of every running open case, server side.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*), max(first_response_state), max(first_response_due_at), "  # noqa: S608 - constant SQL
                    "max(first_response_at_risk_at), max(resolution_state), "
                    "max(resolution_due_at), max(resolution_at_risk_at) FROM care_case "
                    f"WHERE {running}"
                )
                return cursor.fetchone()[0]

        # Steady state: one run settles what changed since the data set was built.
        settle = recompute_sla_states(now=self.now)
        steady = [timed(lambda: recompute_sla_states(now=self.now)) for _ in range(reps)]
        last = recompute_sla_states(now=self.now)
        scans = [timed(scan) for _ in range(reps)]
        self.results["sla_recompute_steady"] = {
            "median_s": round(statistics.median(steady), 4),
            "reference_median_s": round(statistics.median(scans), 4),
            "ratio": round(statistics.median(steady) / statistics.median(scans), 2),
            "samples_s": [round(x, 4) for x in steady],
            "reference_samples_s": [round(x, 4) for x in scans],
            "scanned": last.scanned,
            "settled_first": {"at_risk": settle.at_risk, "breached": settle.breached},
            "reference": "SELECT count(*), max(<each compared column>) of the running open cases",
        }

        # Every state changes: all live targets back to ok, alerts of them removed, then a
        # `now` past every due instant: each running case's targets turn breached.
        def reset():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE care_case SET first_response_state = CASE WHEN first_response_state "  # noqa: S608 - constant SQL
                    "IN ('at_risk', 'breached') THEN 'ok' ELSE first_response_state END, "
                    "resolution_state = CASE WHEN resolution_state IN ('at_risk', 'breached') "
                    f"THEN 'ok' ELSE resolution_state END WHERE {running}"
                )
                cursor.execute(
                    f"DELETE FROM care_slaalert WHERE case_id IN (SELECT id FROM care_case "  # noqa: S608
                    f"WHERE {running})"
                )
            with connection.cursor() as cursor:
                cursor.execute("VACUUM care_case")
                cursor.execute("VACUUM care_slaalert")

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT max(resolution_due_at) FROM care_case WHERE {running}")  # noqa: S608
            latest = cursor.fetchone()[0] or self.now
        future = max(latest, self.now) + timedelta(days=1)

        def bare_update():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE care_case SET first_response_state = CASE WHEN first_response_state "  # noqa: S608 - constant SQL
                    "IN ('ok', 'at_risk') THEN 'breached' ELSE first_response_state END, "
                    "resolution_state = CASE WHEN resolution_state IN ('ok', 'at_risk') THEN "
                    "'breached' ELSE resolution_state END, row_version = row_version + 1, "
                    f"updated_at = %s WHERE {running} AND (first_response_state IN ('ok', "
                    "'at_risk') OR resolution_state IN ('ok', 'at_risk'))",
                    [future],
                )
                return cursor.rowcount

        changing, references, changed, rows = [], [], 0, 0
        for _ in range(3):
            reset()
            t0 = time.perf_counter()
            result = recompute_sla_states(now=future)
            changing.append(time.perf_counter() - t0)
            changed = result.at_risk + result.breached
            reset()
            t0 = time.perf_counter()
            rows = bare_update()
            references.append(time.perf_counter() - t0)
        self.results["sla_recompute_all_changing"] = {
            "median_s": round(statistics.median(changing), 4),
            "reference_median_s": round(statistics.median(references), 4),
            "ratio": round(statistics.median(changing) / statistics.median(references), 2),
            "samples_s": [round(x, 4) for x in changing],
            "reference_samples_s": [round(x, 4) for x in references],
            "changed": changed,
            "reference_rows": rows,
            "reference": "one UPDATE … SET states = 'breached' of the same rows, committed",
        }

    # --- plans of the hot queries ---
    def plans(self) -> dict:
        """EXPLAIN (ANALYZE, BUFFERS) of the SELECTs each hot path runs: the queries are
        captured from the real code, then explained in a transaction that is rolled back."""
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext

        from care.models import OPEN_STATUSES, Case
        from care.sla import recompute_sla_states
        from contracts.selectors import caller_lookup
        from routing.services import take_next_case

        client = self.client()
        phone = self.phones(1)[0]
        reference = (
            Case.objects.filter(status__in=OPEN_STATUSES)
            .order_by("-id")
            .values_list("reference", flat=True)
            .first()
        )
        scenarios = {
            "caller_lookup": lambda: caller_lookup(on=self.today, phone=phone),
            "queue_page_open": lambda: client.get("/care/cases/?open=true"),
            "case_list_all": lambda: client.get("/care/cases/"),
            "case_page": lambda: client.get(f"/care/cases/{reference}/"),
            "take_next": lambda: take_next_case(operator=self.operators[0]),
            "sla_recompute_steady": lambda: recompute_sla_states(now=self.now),
        }
        found: dict[str, list] = {}
        for name, scenario in scenarios.items():
            scenario()  # warm
            connection.queries_log.clear()  # a full log (9,000) would count 0
            with CaptureQueriesContext(connection) as captured:
                scenario()
            explained = []
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT") or "pg_try_advisory" in sql:
                    continue
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    transaction.set_rollback(True)
                match = re.search(r"Execution Time: ([\d.]+) ms", plan)
                explained.append(
                    {
                        "sql": sql if len(sql) < 3000 else sql[:3000] + " …",
                        "execution_ms": float(match.group(1)) if match else None,
                        "plan": plan,
                    }
                )
            explained.sort(key=lambda e: -(e["execution_ms"] or 0))
            found[name] = {"queries": len(captured), "slowest": explained[:4]}
        return found

    # --- backlog snapshot ---
    def snapshot(self) -> dict:
        try:
            from reports.snapshots import take_backlog_snapshot
        except ImportError:
            return {"available": False, "note": "reports.snapshots.take_backlog_snapshot missing"}
        samples, created = [], 0
        for k in range(3):
            t0 = time.perf_counter()
            result = take_backlog_snapshot(now=self.now + timedelta(minutes=5 * (k + 1)))
            samples.append(time.perf_counter() - t0)
            created += bool(getattr(result, "created", True))
        return {
            "median_s": round(statistics.median(samples), 4),
            "samples_s": [round(x, 4) for x in samples],
            "created": created,
            "implementation": "reports.snapshots.take_backlog_snapshot",
        }

    # --- e-mail ingestion ---
    def email_ingestion(self) -> dict:
        """Messages through `care.mail.receive_mail` as a mailbox poll hands them over (parse,
        once-only claim, threading, case or note, acknowledgement to the outbox): new cases
        from known senders, replies by In-Reply-To and by [CS-...] in the subject, unknown
        senders (triage) and auto-replies; messages per second over the whole stream. A first
        round with other senders warms up (not counted): on the run's fresh copy of the data
        set the first writes cost several times the steady ones."""
        from django.conf import settings
        from django.db import connection

        from contracts.demo import CATEGORIES

        settings.MAILBOX_CATEGORIES = {"*": CATEGORIES[0].code}
        new = 60 if self.quick else 300
        with connection.cursor() as cursor:
            # Active end users with an address of their own, a contract in force and no open
            # or recent case (the duplicate guard would send their message to triage).
            cursor.execute(
                "SELECT u.email, u.first_name, u.last_name FROM contracts_enduser u "
                "WHERE u.is_active AND u.email <> '' AND EXISTS (SELECT 1 FROM "
                "contracts_contract c WHERE c.client_id = u.client_id AND c.status = 'active') "
                "AND NOT EXISTS (SELECT 1 FROM care_case k WHERE k.end_user_id = u.id AND "
                "(k.status NOT IN ('resolved', 'closed') OR k.resolved_at > now() - interval "
                "'15 days' OR k.closed_at > now() - interval '15 days')) AND NOT EXISTS (SELECT "
                "1 FROM contracts_enduser v WHERE v.email = u.email AND v.is_active AND "
                "v.id <> u.id) ORDER BY md5(u.id::text || %s) LIMIT %s",
                [str(self.rng.random()), new + new // 3],
            )
            senders = cursor.fetchall()
        self.mail_round(senders[new:], "warm")
        samples, by_outcome = self.mail_round(senders[:new], "timed")
        total = sum(samples)
        return stats(samples) | {
            "messages": len(samples),
            "per_second": round(len(samples) / total, 1) if total else 0,
            "seconds": round(total, 2),
            "outcomes": {outcome: len(times) for outcome, times in by_outcome.items()},
            "median_ms_by_outcome": {
                outcome: round(statistics.median(times) * 1000, 2)
                for outcome, times in by_outcome.items()
            },
            "warm_up": f"{len(senders) - new} senders' messages before the clock starts",
            "implementation": "care.mail.receive_mail, in process, one message after another",
        }

    def mail_round(self, senders: list, tag: str) -> tuple[list, dict]:
        from care import mail as care_mail
        from care.models import OutboundMail

        run = f"{tag}{self.rng.getrandbits(32):08x}"
        samples, by_outcome = [], {}

        def feed(raws: list[bytes]) -> list:
            received = []
            for raw in raws:
                t0 = time.perf_counter()
                result = care_mail.receive_mail(raw, mailbox="assistenza")
                samples.append(time.perf_counter() - t0)
                by_outcome.setdefault(str(result.outcome), []).append(samples[-1])
                received.append(result)
            return received

        # First the new messages, with some unknown senders between them.
        first, whose = [], []
        for i, (address, first_name, last_name) in enumerate(senders):
            who = f"{first_name} {last_name} <{address}>"
            first.append(
                bench_mail(who, f"<new{i}.{run}@mail.example.it>", "SIM muta", html=i % 2 == 0)
            )
            whose.append(who)
            if i % 3 == 0:
                first.append(
                    bench_mail(
                        f"Sconosciuto <nuovo{i}.{run}@example.org>",
                        f"<unknown{i}.{run}@example.org>",
                        "Informazioni",
                    )
                )
                whose.append("")
        opened = [(r.reference, who) for r, who in zip(feed(first), whose, strict=True) if who]
        opened = [(reference, who) for reference, who in opened if reference]
        acks = dict(
            OutboundMail.objects.filter(
                case__reference__in=[reference for reference, _who in opened], kind="ack"
            ).values_list("case__reference", "message_id")
        )
        # Then the end users answer, by In-Reply-To to the acknowledgement or with the
        # reference in the subject; some out-of-office robots answer too.
        replies = []
        for i, (reference, who) in enumerate(opened):
            ack = acks.get(reference, "")
            if i % 2 == 0:
                replies.append(
                    bench_mail(who, f"<re{i}.{run}@mail.example.it>", "Re: SIM", in_reply_to=ack)
                )
            else:
                replies.append(
                    bench_mail(who, f"<ref{i}.{run}@mail.example.it>", f"Re: [{reference}]")
                )
            if i % 4 == 0:
                replies.append(
                    bench_mail(
                        who,
                        f"<ooo{i}.{run}@mail.example.it>",
                        "Fuori ufficio",
                        in_reply_to=ack,
                        auto=True,
                    )
                )
        feed(replies)
        return samples, by_outcome

    # --- telephony ---
    def telephony_events_http(self) -> dict:
        """Concurrent PBX connections posting signed events (new call, answer, hang-up) for
        fresh calls, through gunicorn: events per second and each event's latency."""
        import threading

        from routing.simulator import Sender

        clients = 8
        calls_each = 25 if self.quick else 250
        url = f"http://127.0.0.1:{self.port}"
        phones = [f"+39{p.replace(' ', '')}" for p in self.phones(200)]
        # Operators other than take-next's 32: the calls leave them in after-call work, and
        # take-next gives nothing to an operator who is not available.
        answering = self.operators[32:64] or self.operators[:32]
        names = [u.username for u in answering]
        latencies: list[list[float]] = [[] for _ in range(clients)]
        errors: dict = {}
        stamp = int(time.time())

        def client(k: int) -> None:
            sender = Sender(url, TELEPHONY_SECRET)
            for n in range(calls_each):
                call_id = f"bench-{stamp}-{k}-{n}"
                at = datetime.now(UTC).isoformat()
                for body in (
                    {"event": "newCall", "from": phones[n % len(phones)], "to": "800100200"},
                    {"event": "answer", "operator": names[(k + n) % len(names)]},
                    {"event": "hangup", "cause": "normal"},
                ):
                    t0 = time.perf_counter()
                    status, answer = sender.post({**body, "call_id": call_id, "at": at})
                    latencies[k].append(time.perf_counter() - t0)
                    if status != 202:
                        errors[status] = str(answer)[:200]

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        self.available_again(answering)
        samples = [x for per_client in latencies for x in per_client]
        return stats(samples) | {
            "events": len(samples),
            "clients": clients,
            "seconds": round(seconds, 2),
            "per_second": round(len(samples) / seconds, 1),
            "errors": errors,
            "server": "gunicorn, sync workers",
        }

    def available_again(self, users) -> None:
        """Calls leave operators in after-call work: the next measurements find them
        available, as `setup` left them."""
        from routing.models import OperatorProfile

        OperatorProfile.objects.filter(user__in=users).update(
            presence="available", presence_until=None
        )

    def screen_pop(self) -> dict:
        """An available operator's page polls /routing/my-call/ (as static/js/callpop.js,
        every 0.6 s); the PBX's answer event arrives at a random moment of that cycle; then
        the intake opens on the call (a redirect and the page with the caller). Measured end
        to end through gunicorn, the poll's wait included."""
        from django.conf import settings as django_settings
        from django.contrib.auth import get_user_model
        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import timezone as tz

        from routing.models import OperatorProfile
        from routing.simulator import Sender

        poll = 0.6
        reps = 10 if self.quick else 40
        user = get_user_model().objects.get(id=self.operators[40 % len(self.operators)].id)
        OperatorProfile.objects.filter(user=user).update(presence="available")
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "config.permissions.PermissionsInOneQuery"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={session.session_key}"
        sender = Sender(f"http://127.0.0.1:{self.port}", TELEPHONY_SECRET)
        phones = [f"+39{p.replace(' ', '')}" for p in self.phones(reps)]

        def get(path: str):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1", "Cookie": cookie})
                response = conn.getresponse()
                return response.status, response.getheader("Location"), response.read()
            finally:
                conn.close()

        def expect_accepted(answer) -> None:
            if answer[0] != 202:
                raise RuntimeError(f"the events endpoint answered {answer}")

        samples = []
        for n in range(reps):
            call_id = f"pop-{int(time.time())}-{n}"
            at = tz.now().isoformat()
            expect_accepted(
                sender.post({"event": "newCall", "call_id": call_id, "from": phones[n], "at": at})
            )
            time.sleep(self.rng.uniform(0, poll))  # where in the poll cycle the answer lands
            t0 = time.perf_counter()
            answer = {"event": "answer", "call_id": call_id, "operator": user.username}
            expect_accepted(sender.post({**answer, "at": tz.now().isoformat()}))
            deadline = t0 + poll  # the next poll of the page
            while True:
                time.sleep(max(0.0, deadline - time.perf_counter()))
                _status, _location, body = get("/routing/my-call/")
                if json.loads(body).get("call") == call_id:
                    break
                if time.perf_counter() - t0 > 10:
                    raise RuntimeError(f"the page never saw the call: {body[:200]!r}")
                deadline += poll
            status, location, _body = get(f"/care/intake/?call={call_id}")
            status, _location, page = get(location or "/care/intake/")
            if status != 200 or b"on-call-banner" not in page:
                raise RuntimeError(f"the intake did not open on the call ({status})")
            samples.append(time.perf_counter() - t0)
            sender.post({"event": "hangup", "call_id": call_id, "at": tz.now().isoformat()})
            OperatorProfile.objects.filter(user=user).update(presence="available")
        return stats(samples) | {"poll_ms": int(poll * 1000)}

    def wallboard(self) -> dict:
        from django.utils import timezone as tz

        from routing.call_selectors import wallboard
        from routing.models import Call

        reps = 20 if self.quick else 100
        for _ in range(3):
            wallboard(now=tz.now())
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            wallboard(now=tz.now())
            samples.append(time.perf_counter() - t0)
        return stats(samples) | {"calls": Call.objects.count()}

    # --- major incidents (#23) ---
    def _incident(self, title: str, **scope):
        from care import incidents

        return incidents.open_incident(
            actor=self.admin,
            data=incidents.IncidentData(
                title=title, started_at=self.now, public_message="Guasto in corso.", **scope
            ),
        )

    def incident_banner(self) -> dict:
        """What the banner adds to the intake page: the incidents covering a caller (one
        query over the active incidents, the scope tested on their value lists), with five
        active incidents of different scopes, for callers of random contracts."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from care.incident_selectors import active_incidents_for_caller
        from contracts.models import Contract

        contracts = list(Contract.objects.select_related("client").order_by("id"))
        provinces = sorted({c.client.province for c in contracts})
        self._incident("Rete mobile nazionale", services=["mobile"])
        for n, province in enumerate(provinces[:4]):
            services = ["mobile"] if n % 2 else ["data", "fixed"]
            self._incident(f"Guasto {province}", services=services, provinces=[province])
        reps = 200 if self.quick else 1000
        samples, shown = [], 0
        for i in range(reps + 20):
            contract = contracts[self.rng.randrange(len(contracts))]
            t0 = time.perf_counter()
            found = active_incidents_for_caller(
                client=contract.client, contract_services=contract.services
            )
            if i >= 20:
                samples.append(time.perf_counter() - t0)
                shown += bool(found)
        connection.queries_log.clear()  # a full log (9,000) would count 0
        with CaptureQueriesContext(connection) as queries:
            active_incidents_for_caller(
                client=contracts[0].client, contract_services=contracts[0].services
            )
        return stats(samples) | {"queries": len(queries), "callers_shown_a_banner": shown}

    def incident_resolve(self) -> dict:
        """10,000 open cases linked in bulk (set-based), then the incident resolved: its
        seconds and statements (the same whatever the number of cases)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from care import incidents
        from care.models import Case, CaseEvent

        wanted = 10_000
        incident = self._incident("Rete mobile giù: bench", services=["mobile"])
        padded = self._pad_open_cases(wanted)
        ids = list(
            incidents.cases_matching()
            .filter(status__in=incidents.RESOLVABLE)
            .order_by("id")
            .values_list("id", flat=True)[:wanted]
        )
        t0 = time.perf_counter()
        linked = incidents.link_cases(
            actor=self.admin, incident=incident, cases=Case.objects.filter(id__in=ids)
        )
        link_seconds = time.perf_counter() - t0
        events_before = CaseEvent.objects.count()
        connection.queries_log.clear()  # a full log (9,000) would count 0
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            result = incidents.resolve_incident(actor=self.admin, incident=incident)
            seconds = time.perf_counter() - t0
        return {
            "seconds": round(seconds, 3),
            "cases": len(result.resolved_case_ids),
            "linked": linked,
            "link_seconds": round(link_seconds, 3),
            "queries": len(queries),
            "events_written": CaseEvent.objects.count() - events_before,
            "cases_copied_for_the_run": padded,
            "slowest_statements": [
                {"seconds": float(q["time"]), "sql": q["sql"][:160]}
                for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]
            ],
        }

    def _pad_open_cases(self, wanted: int) -> int:
        """The small data set has a few hundred open cases: copies of one (new references,
        set-based) make up the 10,000 the target names. None on the national data set."""
        from django.db import connection

        from care import incidents
        from care.models import Case

        have = incidents.cases_matching().filter(status__in=incidents.RESOLVABLE).count()
        missing = max(0, wanted - have)
        if not missing:
            return 0
        columns = [f.column for f in Case._meta.concrete_fields if f.column != "id"]
        values = [
            "'INC-BENCH-' || g" if column == "reference" else f"c.{column}" for column in columns
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO care_case ({', '.join(columns)}) "  # noqa: S608 - model columns
                f"SELECT {', '.join(values)} FROM generate_series(1, %s) g CROSS JOIN LATERAL "
                "(SELECT * FROM care_case WHERE status = 'new' ORDER BY id LIMIT 1) c",
                [missing],
            )
        return missing

    # --- exports (own processes: their peak memory alone) ---
    def export(self, fmt: str) -> dict:
        with tempfile.TemporaryDirectory(prefix="presidio-export-") as tmp:
            out = Path(tmp) / "export.json"
            cmd = [PY, __file__, "_export", fmt, "--out", str(out)]
            subprocess.run(cmd, cwd=ROOT, env=os.environ.copy(), check=True)
            return json.loads(out.read_text())

    def all(self) -> dict:
        self.setup()
        self.run("caller_lookup_selector", self.lookup_selector)
        http_measures = {"caller_lookup_http", "case_create_http", "telephony_events_http"}
        if not (http_measures | {"screen_pop"}) <= self.skip:
            self.start_server()
        try:
            self.run("caller_lookup_http", self.lookup_http)
            self.run("case_create_http", self.case_create_http)
            self.run("telephony_events_http", self.telephony_events_http)
            self.run("screen_pop", self.screen_pop)
        finally:
            self.stop_server()
        self.run("wallboard", self.wallboard)
        self.run("queue_page", self.queue_page)
        self.run("case_page", self.case_page)
        self.run("dashboard", self.dashboard)
        self.run("reports", self.reports)
        self.run("article_suggest", self.article_suggest)
        self.run("case_search", self.case_search)
        log("explaining the hot queries")
        try:
            plans = {} if "plans" in self.skip else self.plans()
        except Exception as error:
            import traceback

            traceback.print_exc()
            plans = {"error": f"{type(error).__name__}: {error}"}
        self.run("take_next", self.take_next)
        log("measuring SLA recompute")
        try:
            if "sla" not in self.skip:
                self.sla()
        except Exception as error:
            import traceback

            traceback.print_exc()
            for name in ("sla_recompute_steady", "sla_recompute_all_changing"):
                self.results.setdefault(name, {"error": f"{type(error).__name__}: {error}"})
        self.run("backlog_snapshot", self.snapshot)
        self.run("email_ingestion", self.email_ingestion)
        self.run("export_csv", lambda: self.export("csv"))
        self.run("export_xlsx", lambda: self.export("xlsx"))
        # Last: the resolution moves 10,000 open cases to resolved.
        self.run("incident_banner", self.incident_banner)
        self.run("incident_resolve", self.incident_resolve)
        return {
            "measurements": self.results,
            "measured_at": self.now.isoformat(),
            "plans": plans,
        }


# What operators type in the case search: the data set's subjects, descriptions and notes,
# whole or being typed, a word with its accent, and words found nowhere (the worst case: no
# window fills up).
CASE_SEARCHES = [
    "sim rubata",
    "roaming francia",
    "linea assente",
    "nessun segnale in ufficio",
    "fattura doppia",
    "addebito roaming contestato",
    "schermo rotto",
    "smartphone non si accende",
    "attivazione sim dati",
    "nuova linea neoassunto",
    "smarrimento sim trasferta",
    "rete svizzera",
    "denuncia",
    "provisioning",
    "assurance rete",
    "servizio tornato regolare",
    "identità del chiamante",
    "modello del terminale",
    "perché",
    "linea sospesa",
    "questura",
    "roam",
    "fattur",
    "imei",
]

BENCH_MAIL_TEXT = (
    "Buongiorno,\n\nda ieri sera la SIM del mio telefono aziendale non si registra sulla "
    'rete: il telefono mostra "Nessun servizio" anche dopo il riavvio. Ho provato a '
    "inserirla in un altro telefono con lo stesso risultato. Potete verificare se la linea "
    "e' attiva?\n\nCordiali saluti\n{name}\nUfficio protocollo\n"
)
BENCH_QUOTE = (
    "\n\nIl giorno mer 2 dic 2026 alle 10:00 Servizio clienti ha scritto:\n"
    "> Gentile cliente,\n> abbiamo ricevuto la sua richiesta.\n> Cordiali saluti\n"
)


def bench_mail(
    sender: str,
    message_id: str,
    subject: str,
    *,
    html: bool = False,
    in_reply_to: str = "",
    auto: bool = False,
) -> bytes:
    """A message as a mail client writes it: text (and HTML) body, quoted history on replies."""
    from email.message import EmailMessage
    from email.utils import formatdate

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "assistenza@presidio.example"
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    if auto:
        msg["Auto-Submitted"] = "auto-replied"
    text = BENCH_MAIL_TEXT.format(name=sender.split("<")[0].strip())
    if in_reply_to or subject.startswith("Re:"):
        text += BENCH_QUOTE
    msg.set_content(text)
    if html:
        paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n") if line)
        msg.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return msg.as_bytes()


def measure_child(args) -> int:
    measure = Measure(args.quick, args.seed, skip=set(filter(None, args.skip.split(","))))
    try:
        result = measure.all()
    finally:
        measure.stop_server()
    Path(args.out).write_text(json.dumps(result, default=str))
    return 0


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the address space, which exec
    renews; `getrusage().ru_maxrss` would carry over the parent's peak across fork+exec."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def export_child(args) -> int:
    """Export every case (CSV) or 100,000 (XLSX) to a file; report time, rows, peak RSS."""
    import itertools

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    limit = None if args.format == "csv" else 100_000
    baseline = peak_rss_mb()
    user = get_user_model().objects.filter(is_superuser=True).first()
    user = user or get_user_model().objects.filter(username="admin").first()
    with tempfile.TemporaryDirectory(prefix="presidio-export-") as tmp:
        target = Path(tmp) / f"cases.{args.format}"
        t0 = time.perf_counter()
        try:
            from reports import definitions, formats
            from reports.forms import ReportFilters

            report = definitions.get("cases")
            if report is None:
                raise ImportError("no 'cases' report")
            rows = report.rows(
                ReportFilters(date_from=date(2000, 1, 1), date_to=timezone.now().date()),
                user,
                timezone.now(),
            )
            columns = list(report.columns)
            rows = itertools.islice(rows, limit) if limit else rows
            if args.format == "csv":
                count = formats.write_csv(target, columns, rows)
            else:
                count = formats.write_xlsx(target, columns, rows, title="Cases")
            implementation = f"reports 'cases' report, formats.write_{args.format}"
        except ImportError as missing:
            count = reference_export(target, args.format, limit)
            implementation = f"reference implementation (no reports export: {missing})"
        except Exception as error:
            t0 = time.perf_counter()
            count = reference_export(target, args.format, limit)
            implementation = (
                "reference implementation (the reports export failed: "
                f"{type(error).__name__}: {str(error)[:120]})"
            )
        seconds = time.perf_counter() - t0
        size = target.stat().st_size
    peak = peak_rss_mb()
    Path(args.out).write_text(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "rows": count,
                "bytes": size,
                "peak_rss_mb": peak,
                "rss_before_export_mb": baseline,
                "implementation": implementation,
            }
        )
    )
    return 0


def reference_export(target: Path, fmt: str, limit: int | None) -> int:
    """Streams cases with values_list().iterator() (a server-side cursor) into csv/openpyxl
    write-only: what any export must at least match."""
    import csv

    from care.models import Case

    fields = [
        "reference",
        "opened_at",
        "client__name",
        "contract__code",
        "category__code",
        "priority",
        "status",
        "queue_code",
        "assignee__username",
        "first_response_state",
        "first_response_due_at",
        "resolution_state",
        "resolution_due_at",
        "resolved_at",
    ]
    rows = Case.objects.order_by("-opened_at", "-id").values_list(*fields)
    if limit:
        rows = rows[:limit]
    count = 0
    if fmt == "csv":
        with open(target, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(fields)
            for row in rows.iterator(chunk_size=5000):
                writer.writerow(row)
                count += 1
        return count
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Cases")
    sheet.append(fields)
    for row in rows.iterator(chunk_size=5000):
        sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
        count += 1
    book.save(target)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "table", "_measure", "_export"]
    )
    parser.add_argument("format", nargs="?", default="csv")
    parser.add_argument("--quick", action="store_true", help="small scale (bench-small)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL", ""))
    parser.add_argument(
        "--output",
        default="",
        help="results file (default bench/results.json; bench/results-quick.json with --quick)",
    )
    parser.add_argument("--out", default="")
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--keep-run-db", action="store_true")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated measurements to leave out (e.g. export_csv,export_xlsx,sla,plans)",
    )
    parser.add_argument(
        "--with-proposed-indexes",
        action="store_true",
        help="create docs/performance.md's proposed indexes on the copy before measuring",
    )
    parser.add_argument("--drop-dataset", action="store_true", help="drop the data set at the end")
    parser.add_argument("--db-prefix", default="bench", help="prefix of the databases created")
    args = parser.parse_args()
    if not args.output:
        args.output = str(QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT)
    if args.command == "_measure":
        return measure_child(args)
    if args.command == "_export":
        return export_child(args)
    if args.command == "table":  # print the table of an existing results file
        results = json.loads(Path(args.output).read_text())
        results["summary"] = summary(results)
        print(markdown(results) if args.format == "markdown" else table(results))
        return 0
    if not args.server_url:
        parser.error("--server-url (a PostgreSQL server URL) is required; make bench sets it")
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
