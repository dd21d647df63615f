"""Benchmark the deadline sweep: its cost must follow the number due, not the number stored.

Seeds N complaints (100k by default, 1M with --million) into a database of its own, with a
fraction of them (1% by default) past their response deadline at a fixed benchmark "now",
then times complaints.services.enforcement.deadlines_sweep and counts its queries:

  nothing due   a sweep just before the first alarm falls due
  due set       the sweep at "now": one response-overdue action per due complaint
  nothing due   the next sweep at "now", after the due set was handled

Run from the repository root:

  .venv/bin/python bench/sweep.py [--complaints N] [--million] [--due-fraction 0.01] [--keep]
  .venv/bin/python bench/sweep.py --scaling
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sweep .venv/bin/python bench/sweep.py

The database is var/bench/sweep.sqlite3 unless DATABASE_URL is given; its name must contain
"bench", because the benchmark deletes (SQLite) or drops (PostgreSQL) it. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import resource
import statistics
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
DEFAULT_DATABASE_URL = f"sqlite:///{BENCH_DIR / 'sweep.sqlite3'}"

# The benchmark's fixed timeline (March 2026 has no bank holiday in England and Wales, and
# British Summer Time starts on the 29th). Response due is 17:00 on the 2nd working day after
# day 0; the next clock (a progress update) is 2 working days after that.
LONDON = ZoneInfo("Europe/London")
# "now": Thursday 12 March 2026, 12:00.
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=LONDON)
# The due set is first made Thu 5 Mar 00:00 to Mon 9 Mar 16:59: response due Mon 9, Tue 10
# or Wed 11 Mar at 17:00 (before NOW); progress update due Thu 12, Fri 13 or Mon 16 Mar at
# 17:00 (after NOW). Everything else about them is due weeks later.
DUE_FROM = datetime(2026, 3, 5, 0, 0, tzinfo=LONDON)
DUE_UNTIL = datetime(2026, 3, 9, 17, 0, tzinfo=LONDON)
# The rest is first made Tue 10 Mar 00:00 to Thu 12 Mar 11:59: response due Thu 12 Mar 17:00
# at the earliest, after NOW.
RECENT_FROM = datetime(2026, 3, 10, 0, 0, tzinfo=LONDON)
# Just before the earliest alarm of all (the due set's Mon 9 Mar 17:00).
NOTHING_DUE_AT = datetime(2026, 3, 9, 16, 59, tzinfo=LONDON)

DUE_MINUTES = int((DUE_UNTIL - DUE_FROM).total_seconds() // 60)
RECENT_MINUTES = int((NOW - RECENT_FROM).total_seconds() // 60)
SCOPE = "CMP-2026"


# --- Settings and the benchmark's own database ------------------------------------------


def configure_environment() -> str:
    """Point Django at the benchmark's database and state directory; return DATABASE_URL."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("REDRESS_VAR_DIR", str(BENCH_DIR))
    # Query logging stays off except inside CaptureQueriesContext (it slows seeding).
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    return os.environ["DATABASE_URL"]


def database_config(url: str) -> dict:
    import environ

    config = environ.Env.db_url_config(url)
    name = str(config.get("NAME", ""))
    if "bench" not in name.lower():
        sys.exit(
            f"Refusing to use database {name!r}: the benchmark deletes or drops its database, "
            "so its name or path must contain 'bench' (e.g. .../bench_sweep)."
        )
    return config


def _postgres_admin(config: dict):
    import psycopg2

    params = {"dbname": "postgres"}
    for key, param in (("USER", "user"), ("PASSWORD", "password"), ("HOST", "host")):
        if config.get(key):
            params[param] = config[key]
    if config.get("PORT"):
        params["port"] = int(config["PORT"])
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


def database_prepare(config: dict, *, fresh: bool) -> None:
    """Create the benchmark database if missing; when `fresh`, drop or delete it first."""
    engine = config["ENGINE"]
    if engine.endswith("sqlite3"):
        path = Path(config["NAME"])
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if "postgresql" not in engine:
        sys.exit(f"Unsupported database engine {engine}; use SQLite or PostgreSQL.")
    from psycopg2 import sql

    name = config["NAME"]
    conn = _postgres_admin(config)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cur.fetchone() is not None
            if exists and fresh:
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            if fresh or not exists:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def database_reset(config: dict) -> None:
    """Close Django's connection, recreate the database and migrate it."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    database_prepare(config, fresh=True)
    call_command("migrate", verbosity=0)


def engine_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return f"PostgreSQL {cur.fetchone()[0]}"


# --- Seeding ----------------------------------------------------------------------------


@dataclass
class Seed:
    complaints: int
    due: int
    customers: int = 0
    alarms: int = 0
    seconds: float = 0.0
    analyze_seconds: float = 0.0
    reused: bool = False


def is_due(i: int, total: int, due: int) -> bool:
    """Spread exactly `due` of `total` complaints evenly over the id range."""
    return (i * due) // total != ((i + 1) * due) // total


def _insert(model, fields, rows: list[tuple]) -> None:
    """Insert prepared rows in one statement per page (executemany, or VALUES lists)."""
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            sql = f"INSERT INTO {table} ({columns}) VALUES %s"  # noqa: S608 - names are ours
            execute_values(cur.cursor, sql, rows, page_size=1000)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608


def _prepared(obj, fields) -> list:
    """Return `obj`'s column values as the database backend would insert them."""
    from django.db import connection

    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def seed(total: int, due: int, *, batch: int) -> Seed:
    """Insert customers, complaints with their stored clocks, and the complaints' alarms.

    Like bulk_create, but each distinct first-made minute is turned into a row once: its
    clocks (clocks_compute) and its alarms (alarms_for on the in-memory Complaint) are
    computed once and every complaint made in that minute copies the prepared row, with
    its own id, reference, customer and department.
    """
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from accounts.models import ContactMethod, Customer, CustomerType
    from complaints.clocks import alarms_for, clocks_compute, policy_for_new_complaint
    from complaints.models import (
        Channel,
        Complaint,
        DeadlineAlarm,
        Department,
        ReferenceCounter,
    )

    started = time.perf_counter()
    result = Seed(complaints=total, due=due, customers=max(1, total // 10))

    customer_fields = Customer._meta.concrete_fields
    customer_row = _prepared(
        Customer(
            id=0,
            name="",
            customer_type=CustomerType.CONSUMER,
            preferred_contact_method=ContactMethod.EMAIL,
            created_at=NOW - timedelta(days=365),
        ),
        customer_fields,
    )
    names = [f.attname for f in customer_fields]
    c_id, c_name, c_email = (names.index(n) for n in ("id", "name", "email"))
    for start in range(0, result.customers, batch):
        rows = []
        for i in range(start + 1, min(start + batch, result.customers) + 1):
            row = customer_row.copy()
            row[c_id], row[c_name], row[c_email] = i, f"Bench customer {i}", f"c{i}@bench.invalid"
            rows.append(tuple(row))
        with transaction.atomic():
            _insert(Customer, customer_fields, rows)

    complaint_fields = Complaint._meta.concrete_fields
    names = [f.attname for f in complaint_fields]
    k_id, k_ref, k_customer, k_department = (
        names.index(n) for n in ("id", "reference", "customer_id", "department")
    )
    alarm_fields = [DeadlineAlarm._meta.get_field(n) for n in ("id", "complaint", "kind", "due_at")]
    departments = [Department.TECHNICAL_SUPPORT.value, Department.ACCOUNTS.value]
    memo: dict[datetime, tuple[list, list[tuple[str, object]]]] = {}

    def template(first_made: datetime) -> tuple[list, list[tuple[str, object]]]:
        """The prepared complaint row and (kind, due) alarms of a complaint made then."""
        hit = memo.get(first_made)
        if hit is None:
            policy_key = policy_for_new_complaint(first_made).key
            complaint = Complaint(
                id=0,
                reference="",
                customer_id=0,
                channel=Channel.EMAIL,
                department=departments[0],
                subject="Broadband keeps dropping",
                description="The connection drops several times a day.",
                agreed_contact_method=ContactMethod.EMAIL,
                policy_key=policy_key,
                first_made_at=first_made,
                logged_at=first_made,
            )
            probe = Complaint(policy_key=policy_key, first_made_at=first_made)
            for name, value in clocks_compute(probe).as_fields().items():
                setattr(complaint, name, value)
            due_field = alarm_fields[3]
            alarms = [
                (kind, due_field.get_db_prep_save(due_at, connection))
                for kind, due_at in alarms_for(complaint).items()
            ]
            hit = memo[first_made] = (_prepared(complaint, complaint_fields), alarms)
        return hit

    due_base, recent_base = DUE_FROM.astimezone(UTC), RECENT_FROM.astimezone(UTC)
    due_seen = recent_seen = alarm_id = 0
    for start in range(0, total, batch):
        complaints, alarms = [], []
        for i in range(start, min(start + batch, total)):
            if is_due(i, total, due):
                first_made = due_base + timedelta(minutes=due_seen % DUE_MINUTES)
                due_seen += 1
            else:
                first_made = recent_base + timedelta(minutes=recent_seen % RECENT_MINUTES)
                recent_seen += 1
            row, complaint_alarms = template(first_made)
            row = row.copy()
            pk = i + 1
            row[k_id], row[k_ref] = pk, f"{SCOPE}-{pk:06d}"
            row[k_customer], row[k_department] = i % result.customers + 1, departments[i % 2]
            complaints.append(tuple(row))
            for kind, due_at in complaint_alarms:
                alarm_id += 1
                alarms.append((alarm_id, pk, kind, due_at))
        with transaction.atomic():
            _insert(Complaint, complaint_fields, complaints)
            _insert(DeadlineAlarm, alarm_fields, alarms)
    result.alarms = alarm_id
    ReferenceCounter.objects.update_or_create(scope=SCOPE, defaults={"last_value": total})
    models = [Customer, Complaint, DeadlineAlarm, ReferenceCounter]
    with connection.cursor() as cur:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cur.execute(statement)
    result.seconds = time.perf_counter() - started
    result.analyze_seconds = analyze()
    return result


def analyze() -> float:
    """Refresh the planner's statistics, as a live database's autovacuum would have.

    On PostgreSQL, VACUUM as well (outside a transaction): autovacuum also sets the
    visibility map of rows inserted and left alone, and without it an index-only scan (the
    dashboard's overdue count) reads every row's heap page too.
    """
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cur.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        if connection.vendor == "sqlite":
            # Fold the seed's write-ahead log into the file now, not during the sweep.
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def seed_reuse(total: int, due: int) -> Seed | None:
    """With --keep: reuse a database seeded with the same numbers, re-arming its due set.

    A previous run fired the due set; put it back as seeded (the response-overdue flag
    cleared, the alarm re-created, the alerts and clock events it wrote removed).
    """
    from django.db import connection, transaction

    from complaints.append_only import history_unlocked
    from complaints.models import AlarmKind, CaseEvent, Complaint, DeadlineAlarm, StaffAlert

    if Complaint.objects.count() != total:
        return None
    if Complaint.objects.filter(first_made_at__lt=RECENT_FROM).count() != due:
        return None
    started = time.perf_counter()
    with transaction.atomic():
        fired = Complaint.objects.filter(response_overdue_at__isnull=False)
        rearm = [
            DeadlineAlarm(complaint_id=pk, kind=AlarmKind.RESPONSE_OVERDUE, due_at=due_at)
            for pk, due_at in fired.values_list("pk", "response_due_at")
        ]
        fired.update(response_overdue_at=None)
        DeadlineAlarm.objects.bulk_create(rearm, batch_size=5000)
        StaffAlert.objects.filter(kind=AlarmKind.RESPONSE_OVERDUE).delete()
        # The history is append-only, in the ORM and in the database (triggers); these rows
        # are the bench's own, the last of each fired complaint's history: remove them
        # through the sanctioned unlock and move each head back to the event before.
        events = connection.ops.quote_name(CaseEvent._meta.db_table)
        complaints = connection.ops.quote_name(Complaint._meta.db_table)
        with history_unlocked(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {events} WHERE kind = %s", [CaseEvent.Kind.CLOCK])  # noqa: S608
            # Only the fired complaints have a history in this seed (history_count > 0).
            rows = f"FROM {events} e WHERE e.complaint_id = {complaints}.id"
            cur.execute(
                f"UPDATE {complaints} SET (history_count, history_head) ="  # noqa: S608
                f" (SELECT e.seq, e.hash {rows} ORDER BY e.seq DESC LIMIT 1)"
                f" WHERE history_count > 0 AND EXISTS (SELECT 1 {rows})"
            )
            cur.execute(
                f"UPDATE {complaints} SET history_count = 0, history_head = ''"  # noqa: S608
                f" WHERE history_count > 0 AND NOT EXISTS (SELECT 1 {rows})"
            )
    return Seed(
        complaints=total,
        due=due,
        alarms=DeadlineAlarm.objects.count(),
        seconds=time.perf_counter() - started,
        reused=True,
    )


def seed_check(result: Seed) -> None:
    """Fail loudly unless exactly the due set is due at NOW and nothing before."""
    from complaints.models import AlarmKind, DeadlineAlarm

    early = DeadlineAlarm.objects.filter(due_at__lte=NOTHING_DUE_AT).count()
    due = DeadlineAlarm.objects.filter(due_at__lte=NOW)
    kinds = set(due.values_list("kind", flat=True).distinct())
    problems = []
    if early:
        problems.append(f"{early} alarms are due by {NOTHING_DUE_AT:%a %d %b %H:%M}")
    if due.count() != result.due:
        problems.append(f"{due.count()} alarms are due at NOW, expected {result.due}")
    if kinds - {AlarmKind.RESPONSE_OVERDUE}:
        problems.append(f"unexpected kinds due: {sorted(kinds)}")
    if problems:
        sys.exit("Seed check failed: " + "; ".join(problems))


# --- Measuring --------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    complaints: int
    alarms: int
    due: int
    actions: int
    seconds: float
    queries: int
    kinds: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    # Seconds inside cursor.execute by kind of statement, and the whole sweep, of the last run.
    db_seconds: Counter = field(default_factory=Counter)
    last_seconds: float = 0.0

    @property
    def queries_per_action(self) -> str:
        return f"{self.queries / self.actions:.1f}" if self.actions else "-"

    @property
    def ms_per_action(self) -> str:
        return f"{1000 * self.seconds / self.actions:.2f}" if self.actions else "-"


_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
_WHERE_COLUMN = re.compile(r'"?(\w+)"?\s*(?:=|<=|>=|<|>|\bIN\b|\bIS\b)', re.IGNORECASE)


def query_kind(sql: str) -> str:
    """Summarise one statement as verb, table and the columns it filters on."""
    words = sql.split()
    verb = words[0].upper()
    if verb in {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}:
        return verb if verb in {"SAVEPOINT", "BEGIN", "COMMIT"} else f"{verb} SAVEPOINT"
    match = _TABLE.search(sql)
    table = match.group(1).removeprefix("complaints_") if match else "?"
    where = sql.upper().find(" WHERE ")
    columns = []
    if where >= 0:
        tail = re.split(r"\b(?:ORDER BY|LIMIT|RETURNING)\b", sql[where + 7 :])[0]
        columns = sorted({c for c in _WHERE_COLUMN.findall(tail) if not c.isdigit()})
    text = f"{verb} {table}"
    if columns:
        text += " WHERE " + ",".join(columns)
    if re.search(r"\bFOR UPDATE\b", sql, re.IGNORECASE):
        text += " FOR UPDATE"
    if re.search(r"\bINNER JOIN\b|\bLEFT OUTER JOIN\b", sql, re.IGNORECASE):
        text += " (joined)"
    return text


class _StatementTimer:
    """An execute wrapper noting each statement's SQL and the seconds its execute took."""

    def __init__(self):
        self.timings: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timings.append((sql, time.perf_counter() - started))


def sweep_measure(
    label: str, at: datetime, *, seed: Seed, repeat: int = 1, profile: bool = False
) -> Run:
    """Run deadlines_sweep(now=at) `repeat` times; report the median time and one's queries.

    With `profile`, run under cProfile and print where the project's code spends its time
    (the times reported are then inflated by the profiler).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import DeadlineAlarm
    from complaints.services.enforcement import deadlines_sweep

    alarms = DeadlineAlarm.objects.count()
    due = DeadlineAlarm.objects.filter(due_at__lte=at).count()
    times, actions, captured, timer = [], 0, [], _StatementTimer()
    commit = connection._commit  # timed too: commits do not pass the execute wrappers
    for _ in range(repeat):
        timer = _StatementTimer()

        def timed_commit(timer=timer):
            started = time.perf_counter()
            try:
                return commit()
            finally:
                timer.timings.append(("COMMIT", time.perf_counter() - started))

        connection._commit = timed_commit
        try:
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                profiler = cProfile.Profile() if profile else None
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                actions = len(deadlines_sweep(now=at))
                if profiler:
                    profiler.disable()
                times.append(time.perf_counter() - started)
        finally:
            del connection._commit
        captured = ctx.captured_queries
    if profile:
        print(f"cProfile of '{label}' (the project's functions, by cumulative time):")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(f"{REPO}/(complaints|escalation)/", 40)
        print(f"cProfile of '{label}' (every function, Django's too, by cumulative time):")
        stats.sort_stats("cumulative").print_stats(45)
    db_seconds: Counter = Counter()
    for sql, seconds in timer.timings:
        db_seconds[query_kind(sql)] += seconds
    return Run(
        label=label,
        complaints=seed.complaints,
        alarms=alarms,
        due=due,
        actions=actions,
        seconds=statistics.median(times),
        queries=len(captured),
        kinds=Counter(query_kind(q["sql"]) for q in captured),
        examples={query_kind(q["sql"]): q["sql"] for q in reversed(captured)},
        db_seconds=db_seconds,
        last_seconds=times[-1],
    )


def runs_table(runs: list[Run]) -> str:
    head = (
        "case",
        "complaints",
        "alarms",
        "due",
        "actions",
        "seconds",
        "queries",
        "queries/action",
        "ms/action",
    )
    rows = [head]
    for r in runs:
        rows.append(
            (
                r.label,
                f"{r.complaints:,}",
                f"{r.alarms:,}",
                f"{r.due:,}",
                f"{r.actions:,}",
                f"{r.seconds:.4f}",
                f"{r.queries:,}",
                r.queries_per_action,
                r.ms_per_action,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def breakdown(run: Run, *, show_sql: bool = False) -> str:
    """The due set's statements per action by kind, with the time spent executing them."""
    n = run.actions or 1
    in_db = sum(run.db_seconds.values())
    lines = [
        f"Statements per action in '{run.label}' ({run.actions:,} actions; "
        "ms = time inside cursor.execute or commit, per action):"
    ]
    for kind, count in run.kinds.most_common():
        seconds = run.db_seconds.get(kind)
        ms = f"{1000 * seconds / n:6.3f} ms" if seconds is not None else "   n/a   "
        lines.append(f"  {count / n:6.2f}  {ms}  {kind}")
        if show_sql:
            lines.append(f"                     {run.examples[kind][:400]}")
    rest = run.last_seconds - in_db
    lines.append(
        f"  total   {1000 * in_db / n:6.3f} ms executing statements, "
        f"{1000 * rest / n:6.3f} ms elsewhere (Django ORM and Python)"
    )
    return "\n".join(lines)


def rss_mib() -> float:
    """The process's resident memory now (VmRSS), in MiB; the peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return peak_mib()


def memory_measure(total: int, due: int) -> list[tuple[str, float, int]]:
    """Resident memory around two due-set sweeps, re-armed in between (--memory).

    Runs outside the query capture (nothing is logged), after the measured sweeps, with the
    benchmark's own query log emptied, so that the figures are the sweep's: a growth from
    the first run to the second would be memory the sweep keeps. Returns (moment, MiB,
    actions) rows.
    """
    import gc

    from django.db import connection

    from complaints.services.enforcement import deadlines_sweep

    connection.queries_log.clear()
    rows = []
    for run in ("first", "second"):
        if seed_reuse(total, due) is None:
            sys.exit("--memory: could not re-arm the due set")
        gc.collect()
        rows.append((f"before the {run} run", rss_mib(), 0))
        actions = len(deadlines_sweep(now=NOW))
        gc.collect()
        rows.append((f"after the {run} run", rss_mib(), actions))
    return rows


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def raise_query_log_limit() -> None:
    """Let CaptureQueriesContext keep every query of a large due set (default: last 9000)."""
    from django.db import connection

    connection.queries_limit = 10_000_000
    connection.queries_log = deque(maxlen=connection.queries_limit)


# --- Entry points -----------------------------------------------------------------------


def run_default(args, config: dict) -> None:
    from django.core.management import call_command

    total = 1_000_000 if args.million else args.complaints
    due = round(total * args.due_fraction)
    call_command("migrate", verbosity=0)
    raise_query_log_limit()
    print(f"Database: {engine_label()} ({config['NAME']})")
    result = seed_reuse(total, due) if args.keep else None
    if result is None:
        from complaints.models import Complaint

        if args.keep and Complaint.objects.exists():
            sys.exit("--keep: the database holds a different seed; run without --keep.")
        print(f"Seeding {total:,} complaints ({due:,} due at {NOW:%a %d %b %Y %H:%M}) ...")
        result = seed(total, due, batch=args.batch)
        print(
            f"Seeded {result.customers:,} customers, {result.complaints:,} complaints and "
            f"{result.alarms:,} alarms in {result.seconds:.1f} s "
            f"({result.complaints / result.seconds:,.0f} complaints/s); "
            f"ANALYZE {result.analyze_seconds:.1f} s"
        )
    else:
        print(f"Reused the seed of {total:,} complaints; re-armed in {result.seconds:.1f} s")
    seed_check(result)
    seed_peak = peak_mib()
    runs = [
        sweep_measure("nothing due", NOTHING_DUE_AT, seed=result, repeat=args.repeat),
        sweep_measure("due set", NOW, seed=result, profile=args.profile),
        sweep_measure("nothing due (after)", NOW, seed=result, repeat=args.repeat),
    ]
    print()
    print(runs_table(runs))
    print()
    print(breakdown(runs[1], show_sql=args.show_sql))
    if runs[1].actions != due:
        print(f"\nWARNING: the due set made {runs[1].actions:,} actions, expected {due:,}.")
    if args.memory:
        print()
        print("Resident memory (VmRSS) of this process around the due-set sweep, re-armed:")
        for moment, mib, actions in memory_measure(total, due):
            fired = f" ({actions:,} actions)" if actions else ""
            print(f"  {moment:<22} {mib:8.1f} MiB{fired}")
    print()
    print(f"Peak memory (ru_maxrss): {peak_mib():,.0f} MiB (after seeding: {seed_peak:,.0f} MiB)")
    print(f"Database: {engine_label()}; nothing-due times are the median of {args.repeat} runs.")


def run_scaling(args, config: dict) -> None:
    totals = [int(t) for t in args.scaling_totals.split(",")]
    runs: list[Run] = []
    engine = None
    for total in totals:
        database_reset(config)
        raise_query_log_limit()
        engine = engine or engine_label()
        due = min(args.scaling_due, total)
        print(f"Seeding {total:,} complaints ({due:,} due) ...", flush=True)
        result = seed(total, due, batch=args.batch)
        print(f"  seeded in {result.seconds:.1f} s (ANALYZE {result.analyze_seconds:.1f} s)")
        seed_check(result)
        label = f"@{total:,}"
        runs.append(
            sweep_measure(f"nothing due {label}", NOTHING_DUE_AT, seed=result, repeat=args.repeat)
        )
        runs.append(sweep_measure(f"due set {label}", NOW, seed=result))
    print()
    print(runs_table(runs))
    print()
    print(f"Peak memory (ru_maxrss): {peak_mib():,.0f} MiB")
    print(f"Database: {engine}; nothing-due times are the median of {args.repeat} runs.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 complaints")
    parser.add_argument("--due-fraction", type=float, default=0.01, help="default 0.01 (1%%)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the benchmark database if it holds the same seed (re-arming its due set) "
        "instead of recreating it",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="sweep a fixed due set at several totals (always on fresh databases)",
    )
    parser.add_argument("--scaling-totals", default="10000,100000", help="default 10000,100000")
    parser.add_argument("--scaling-due", type=int, default=500, help="default 500")
    parser.add_argument(
        "--show-sql", action="store_true", help="print an example of each kind of statement"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the due-set sweep under cProfile (slower)"
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="then re-arm and sweep the due set twice more, printing resident memory (VmRSS) "
        "before and after each run",
    )
    parser.add_argument("--batch", type=int, default=5000, help="rows per seeding batch")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each nothing-due sweep")
    args = parser.parse_args(argv)
    if not 0 <= args.due_fraction <= 1:
        parser.error("--due-fraction must be between 0 and 1")
    if args.complaints < 1 or args.batch < 1 or args.repeat < 1:
        parser.error("--complaints, --batch and --repeat must be at least 1")
    try:
        if any(int(t) < 1 for t in args.scaling_totals.split(",")):
            raise ValueError
    except ValueError:
        parser.error("--scaling-totals takes positive whole numbers, e.g. 10000,100000")

    url = configure_environment()
    config = database_config(url)
    if not args.scaling:  # --scaling recreates the database for each total
        database_prepare(config, fresh=not args.keep)

    import django

    django.setup()
    if args.scaling:
        run_scaling(args, config)
    else:
        run_default(args, config)


if __name__ == "__main__":
    main()
