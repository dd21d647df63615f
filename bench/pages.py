"""Benchmark the busiest pages under gunicorn: throughput and latency against a bare view.

Seeds N complaints (100k by default) into the benchmark's own database with bench/sweep.py's
seeding, adds a portal customer owning 20 of them and a support agent, starts gunicorn with
bench/settings_bench.py, logs both in and loads each page for S seconds over C connections:

  ceiling        /bench/ceiling/, a view returning "ok" (bench/ceiling_urls.py)
  ceiling (signed in)  /bench/ceiling/signed-in/, the same after loading the signed-in user
  queue          the staff queue /admin/complaints/complaint/?queue=open, as the agent
  my list        /my/, as the customer
  my detail      /my/<reference>/, as the customer
  complain POST  /complain/, anonymous, a fresh form token on each post
  complain POST (signed in)  /complain/, as the customer (a session of its own for each
                 connection), a fresh form token on each post

GETs use wrk when it is installed, otherwise a Python client; the POST and the "ceiling (py)"
row always use the Python client (threads with keep-alive http.client connections). Then each
target runs again with one connection a worker, for latency without queueing: with C > W, a
request mostly waits behind others, and p99 measures the queue rather than the page.
With --concurrent-filings N, N anonymous complaints are then posted at the same moment
(N threads, one connection each, released together), and the status counts and p50/p99
printed; any 5xx fails the run. Last, in-process: every staff queue tab (as a manager and
as an agent), and the other staff pages that grow with every case (history, alerts, outbox,
formal complaints, register). With --only staff, only those staff pages run (no gunicorn,
no load); with --only dashboard, only the dashboard and yearly return rows.

With --memory, instead of all that: each gunicorn worker's resident memory (VmRSS, read from
/proc) after a warm-up of 1,000 requests and after 10,000 more (--memory-requests), a mix of
the customer's pages, the staff queue and staff case pages, each signed in as its user.

  .venv/bin/python bench/pages.py [--complaints N | --million] [--seconds S] [--connections C]
                                  [--workers W] [--keep] [--concurrent-filings N]
                                  [--only staff|dashboard] [--repeat N]
                                  [--memory [--memory-requests N] [--memory-rounds N]]
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages .venv/bin/python bench/pages.py

The database is var/bench/pages.sqlite3 unless DATABASE_URL is given; its name must contain
"bench". See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
PASSWORD = "bench-pages-Password-1"  # noqa: S105 - a throwaway login in a throwaway database
CUSTOMER_EMAIL = "known@bench.invalid"
AGENT_EMAIL = "agent@bench.invalid"
HOST = "127.0.0.1"


# --- Seeding ----------------------------------------------------------------------------


def seed_people(total: int) -> str:
    """Add the known customer (owning ~20 complaints) and the agent; return one reference."""
    from django.utils import timezone

    from accounts.models import Customer, User
    from accounts.roles import Role, user_role_add
    from accounts.services import customer_portal_user_create
    from complaints.models import Complaint

    customer = Customer.objects.create(
        name="Known Customer", email=CUSTOMER_EMAIL, email_confirmed_at=timezone.now()
    )
    customer_portal_user_create(customer=customer, email=CUSTOMER_EMAIL, password=PASSWORD)
    step = max(1, total // 20)
    pks = list(range(1, total + 1, step))[:20]
    Complaint.objects.filter(pk__in=pks).update(customer=customer)
    agent = User.objects.create_user(AGENT_EMAIL, PASSWORD, name="Bench Agent")
    user_role_add(user=agent, role=Role.SUPPORT_AGENT)
    return Complaint.objects.filter(customer=customer).order_by("pk").first().reference


def seed_complaints(total: int) -> None:
    """Seed `total` complaints with histories (bench/seed.py), as a real desk would hold.

    The seed writes rows in bulk, past the model signals, so the monthly figures behind the
    dashboard and the return are then counted from scratch (manage.py rebuild_figures).
    """
    from bench import seed
    from escalation.figures import figures_rebuild

    seed.seed_realistic(total)
    started = time.perf_counter()
    rows = figures_rebuild()
    print(f"Rebuilt {rows:,} monthly figure rows in {time.perf_counter() - started:.1f} s")


def seeded_reference(total: int) -> str | None:
    """With --keep: one of the known customer's references if the seed is already there."""
    from django.db.utils import DatabaseError

    from accounts.models import User
    from complaints.models import Complaint

    try:
        if (
            Complaint.objects.count() < total
            or not User.objects.filter(email__in=[CUSTOMER_EMAIL, AGENT_EMAIL]).count() == 2
        ):
            return None
    except DatabaseError:
        return None
    first = Complaint.objects.filter(customer__email=CUSTOMER_EMAIL).order_by("pk").first()
    return first.reference if first else None


def desk_ready(total: int, *, keep: bool) -> tuple[str, str]:
    """Set Django up on DATABASE_URL, migrated and seeded with `total` complaints, the known
    customer and the agent (reused with `keep` when already there): (engine, reference)."""
    from bench import sweep

    url = sweep.configure_environment()
    config = sweep.database_config(url)
    sweep.database_prepare(config, fresh=not keep)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    engine = sweep.engine_label()
    reference = seeded_reference(total) if keep else None
    if reference:
        print(f"Reusing the {total:,} complaints already seeded ({engine})")
        return engine, reference
    if keep:
        connections.close_all()
        sweep.database_prepare(config, fresh=True)
        call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed_complaints(total)
    reference = seed_people(total)
    seconds = time.perf_counter() - started
    print(f"Seeded {total:,} complaints in {seconds:.1f} s ({engine})")
    return engine, reference


def complain_form(n: int) -> dict[str, str]:
    from accounts.models import ContactMethod, CustomerType
    from complaints.models import Department

    return {
        "token": uuid.uuid4().hex,
        "name": f"Poster {n}",
        "email": f"poster{n}@bench.invalid",
        "phone": "",
        "account_reference": "",
        "about": Department.TECHNICAL_SUPPORT.value,
        "subject": "Broadband keeps dropping",
        "description": "The connection drops several times a day.",
        "preferred_contact_method": ContactMethod.EMAIL.value,
        "customer_type": CustomerType.CONSUMER.value,
        "employee_count": "",
    }


def query_counts(reference: str) -> dict[str, int]:
    """Queries per page, in-process through django.test.Client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    backend = "accounts.backends.PermissionsBackend"
    agent, customer, anonymous = Client(), Client(), Client()
    agent.force_login(User.objects.get(email=AGENT_EMAIL), backend=backend)
    customer.force_login(User.objects.get(email=CUSTOMER_EMAIL), backend=backend)
    pages = [
        ("ceiling", anonymous, "get", "/bench/ceiling/", 200),
        ("ceiling (signed in)", customer, "get", "/bench/ceiling/signed-in/", 200),
        ("queue", agent, "get", "/admin/complaints/complaint/?queue=open", 200),
        ("my list", customer, "get", "/my/", 200),
        ("my detail", customer, "get", f"/my/{reference}/", 200),
        ("home", anonymous, "get", "/", 200),
        ("form GET", anonymous, "get", "/complain/", 200),
        ("form GET (signed in)", customer, "get", "/complain/", 200),
        ("complain POST", anonymous, "post", "/complain/", 302),
        ("complain POST (signed in)", customer, "post", "/complain/", 302),
    ]
    counts = {}
    for label, client, method, path, expected in pages:
        kwargs = {"data": complain_form(0)} if method == "post" else {}
        getattr(client, method)(path, **kwargs)  # warm caches, as the load runs do
        if method == "post":
            kwargs = {"data": complain_form(-1)}
        with CaptureQueriesContext(connection) as ctx:
            response = getattr(client, method)(path, **kwargs)
        if response.status_code != expected:
            sys.exit(f"{label}: {path} answered {response.status_code}, expected {expected}")
        counts[label] = len(ctx.captured_queries)
    return counts


QUEUE_VARIANTS = [
    ("all", ""),
    ("open", "?queue=open"),
    ("mine", "?queue=mine"),
    ("unassigned", "?queue=unassigned"),
    ("due today", "?queue=due_today"),
    ("overdue", "?queue=overdue"),
    ("awaiting third party", "?queue=awaiting"),
    ("formal", "?queue=formal"),
    ("closed", "?queue=closed"),
    ("closed, last page", "?queue=closed&p=40"),
    ("search by reference", "?q=CMP-2026-000123"),
    ("search by name", "?q=Smith"),
]


def manager_ready():
    """The senior manager (who sees every department) the in-process runs sign in as."""
    from accounts.models import User
    from accounts.roles import Role, user_role_add

    manager = User.objects.filter(email="manager@bench.invalid").first()
    if manager is None:
        manager = User.objects.create_user("manager@bench.invalid", PASSWORD, name="Manager")
        user_role_add(user=manager, role=Role.SENIOR_MANAGER)
    return manager


def load_average() -> str:
    """The 1-minute load average, to note beside each figure (the machine is shared)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


DASHBOARD_PAGES = ("dashboard", "return", "return CSV")


def queue_variants(repeat: int = 10) -> list[tuple[str, int, int, float, float]]:
    """Every staff queue in-process, as a senior manager (who sees every department) and as
    the agent: (label, queries, rows, median ms manager, median ms agent).

    Checks that no queue's query plan walks the whole table: each should cost about the same
    at 100k and at 1M complaints.
    """
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.roles import Role

    backend = "accounts.backends.PermissionsBackend"
    manager = manager_ready()
    # The agent: a seeded support agent, who has a career of assigned cases ("mine").
    agent = (
        User.objects.filter(
            groups__name=Role.SUPPORT_AGENT.label, assigned_complaints__isnull=False
        )
        .order_by("pk")
        .first()
    ) or User.objects.get(email=AGENT_EMAIL)
    clients = {}
    for who, user in (("manager", manager), ("agent", agent)):
        clients[who] = Client()
        clients[who].force_login(user, backend=backend)
    rows = []
    base = "/admin/complaints/complaint/"
    for label, query in QUEUE_VARIANTS:
        times = {}
        for who, client in clients.items():
            response = client.get(base + query)
            if response.status_code != 200:
                sys.exit(f"queue {label}: {base + query} answered {response.status_code}")
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(base + query)
                samples.append((time.perf_counter() - started) * 1000)
            times[who] = statistics.median(samples)
            if who == "manager":
                queries = len(ctx.captured_queries)
                shown = len(set(re.findall(rb"CMP-\d{4}-\d{6}", response.content)))
        rows.append((label, queries, shown, times["manager"], times["agent"]))
    return rows


def staff_pages(
    repeat: int = 5, labels: tuple[str, ...] | None = None
) -> list[tuple[str, str, int, float]]:
    """The other staff pages in-process as a senior manager: (label, path, queries, median ms).

    The desk's long lists (every case's history, alerts, the outbox) and the formal
    complaint pages grow with every case; each should cost about the same at 100k and 1M.
    """
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from complaints.models import Complaint
    from escalation.models import FormalCase

    client = Client()
    client.force_login(
        User.objects.get(email="manager@bench.invalid"),
        backend="accounts.backends.PermissionsBackend",
    )
    complaint = Complaint.objects.order_by("-pk").only("pk").first()
    case = FormalCase.objects.order_by("-pk").only("register_reference").first()
    pages = [
        ("case page", f"/admin/complaints/complaint/{complaint.pk}/change/"),
        ("history, all cases", "/admin/complaints/caseevent/"),
        ("history, one kind", "/admin/complaints/caseevent/?kind__exact=status_changed"),
        ("alerts", "/admin/complaints/staffalert/"),
        ("alerts, unseen", "/admin/complaints/staffalert/?seen_at__isempty=1"),
        ("outbox", "/admin/complaints/outboxmessage/"),
        ("outbox, failed", "/admin/complaints/outboxmessage/?state__exact=failed"),
        ("customers", "/admin/accounts/customer/"),
        ("formal complaints", "/staff/formal/"),
        ("formal case", f"/staff/formal/{case.register_reference}/"),
        ("register", "/staff/reports/register/"),
        ("dashboard", "/staff/reports/dashboard/"),
        ("return", "/staff/reports/return/"),
        ("return CSV", "/staff/reports/return/?format=csv"),
    ]
    if labels is not None:
        pages = [(label, path) for label, path in pages if label in labels]
    rows = []
    for label, path in pages:
        if client.get(path).status_code != 200:
            sys.exit(f"{label}: {path} did not answer 200")
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        rows.append((label, path, len(ctx.captured_queries), statistics.median(samples)))
    return rows


def staff_table(rows) -> str:
    lines = ["| page | path | queries | ms |", "|---|---|---:|---:|"]
    for label, path, queries, ms in rows:
        lines.append(f"| {label} | `{path}` | {queries} | {ms:.1f} |")
    return "\n".join(lines)


def variants_table(rows) -> str:
    lines = [
        "| queue | queries | rows shown | ms (manager) | ms (agent) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, queries, shown, manager_ms, agent_ms in rows:
        lines.append(f"| {label} | {queries} | {shown} | {manager_ms:.1f} | {agent_ms:.1f} |")
    return "\n".join(lines)


# --- gunicorn ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def gunicorn_start(
    port: int,
    workers: int,
    *,
    venv: Path = REPO / ".venv",
    app: str = "config.wsgi",
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    probe: str = "/bench/ceiling/",
    log_name: str = "gunicorn.log",
) -> subprocess.Popen:
    """Start `app` with `venv`'s gunicorn and wait until `probe` answers 200.

    The defaults serve Redress with bench/settings_bench.py; bench/peer.py passes the peer's
    own virtualenv, project and login page.
    """
    env = env or dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings_bench")
    log_path = BENCH_DIR / log_name
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(venv / "bin" / "gunicorn"),
            app,
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            if request(port, "GET", probe)[0] == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    gunicorn_stop(proc)
    sys.exit("gunicorn did not answer within 30 s")


def gunicorn_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- HTTP -------------------------------------------------------------------------------


def request(port, method, path, *, cookies=None, body=None, conn=None):
    """One request; return (status, headers, body). Reuses `conn` when given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Host": f"{HOST}:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"http://{HOST}:{port}{path}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        if own:
            conn.close()


def cookies_from(headers, cookies: dict) -> dict:
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]
    return cookies


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf(port: int, path: str, cookies: dict) -> str:
    status, headers, body = request(port, "GET", path, cookies=cookies)
    cookies_from(headers, cookies)
    match = CSRF_INPUT.search(body)
    if not match:
        sys.exit(f"No CSRF token on {path} (status {status})")
    return match.group(1).decode()


def login(port: int, path: str, email: str, next_path: str) -> dict:
    cookies: dict = {}
    token = csrf(port, path, cookies)
    form = {"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD}
    status, headers, _ = request(
        port, "POST", f"{path}?next={next_path}", cookies=cookies, body=form
    )
    cookies_from(headers, cookies)
    if status != 302 or "sessionid" not in cookies:
        sys.exit(f"Login at {path} as {email} failed (status {status})")
    return {"sessionid": cookies["sessionid"]}


# --- Load -------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    tool: str
    rps: float
    p50: float
    p99: float
    errors: int
    requests: int


@contextmanager
def served(workers: int):
    """gunicorn on a free port with the agent and the customer signed in; stopped after.

    Yields (port, proc, agent's cookies, customer's cookies).
    """
    port = free_port()
    proc = gunicorn_start(port, workers)
    try:
        agent = login(port, "/admin/login/", AGENT_EMAIL, "/admin/")
        customer = login(port, "/account/login/", CUSTOMER_EMAIL, "/my/")
        yield port, proc, agent, customer
    finally:
        gunicorn_stop(proc)


def concurrent_filings(port: int, count: int) -> tuple[dict[int, int], float, float]:
    """Post `count` anonymous complaints at the same moment; return statuses, p50 and p99 ms.

    Each thread first fetches its own form (CSRF cookie and token), then all wait at a
    barrier and send together, one connection each: the database sees `count` filings
    contending for the reference counter, the figures rows and the workers.
    """
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def worker(n: int) -> None:
        jar: dict = {}
        token = csrf(port, "/complain/", jar)
        body = complain_form(10**8 + n) | {"csrfmiddlewaretoken": token}
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        barrier.wait()
        started = time.perf_counter()
        try:
            status, _, _ = request(
                port,
                "POST",
                "/complain/",
                cookies={"csrftoken": jar["csrftoken"]},
                body=body,
                conn=conn,
            )
        except (OSError, http.client.HTTPException):
            status = 0  # no answer
        elapsed = time.perf_counter() - started
        conn.close()
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def py_load(
    label, port, path, *, seconds, connections, cookies=None, post=False, sign_in=None
) -> Result:
    """Threads with one keep-alive connection each; a POST gets a fresh form each time.

    `sign_in` (a function returning session cookies) signs each connection in on its own,
    so the posts of one connection share a session and no two connections do.
    """
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    counter = iter(range(10**9))
    # Signed in before the clock starts: a login is not part of the page's time.
    sessions = [sign_in() if sign_in else dict(cookies or {}) for _ in range(connections)]
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        jar = dict(sessions[i])
        token = csrf(port, path, jar) if post else None
        # Anonymous posts: each one comes from a new visitor (no session cookie).
        sent = {"csrftoken": jar["csrftoken"]} if post and not sign_in else jar
        while time.monotonic() < stop:
            body = None
            if post:
                body = complain_form(next(counter)) | {"csrfmiddlewaretoken": token}
            started = time.perf_counter()
            try:
                status, _, _ = request(
                    port, "POST" if post else "GET", path, cookies=sent, body=body, conn=conn
                )
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            latencies[i].append(time.perf_counter() - started)
            # A POST answered 200 re-rendered the form with errors: not filed.
            if (post and status != 302) or not 200 <= status < 400:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = [x for part in latencies for x in part]
    return Result(
        label,
        "python",
        len(flat) / elapsed,
        percentile(flat, 0.50) * 1000,
        percentile(flat, 0.99) * 1000,
        sum(errors),
        len(flat),
    )


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")


def wrk_load(label, port, path, *, seconds, connections, cookies=None) -> Result:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "60s",
        f"http://{HOST}:{port}{path}",
    ]
    if cookies:
        command[1:1] = ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = (
        _ms(m.group(1)) if (m := re.search(rf"^\s+{q}%\s+(\S+)", out, re.M)) else float("nan")
        for q in (50, 99)
    )
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(label, "wrk", rps, p50, p99, errors, total)


def check_get(port: int, path: str, cookies: dict | None) -> None:
    """Warm the page and make sure it is the page (200), not a redirect to a login."""
    for _ in range(5):
        status, _, _ = request(port, "GET", path, cookies=cookies)
    if status != 200:
        sys.exit(f"{path} answered {status}, expected 200")


def table(results: list[Result], queries: dict[str, int]) -> str:
    """Each row's req/s is compared with both ceilings measured by the same client: the
    bare view, and the bare view behind the signed-in user's session (issue 17)."""
    ceiling = {r.tool: r.rps for r in results if r.label in ("ceiling", "ceiling (py)")}
    signed_in = {r.tool: r.rps for r in results if r.label == "ceiling (signed in)"}
    lines = [
        "| target | client | req/s | p50 ms | p99 ms | errors | requests | vs ceiling "
        "| vs signed-in ceiling | queries |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        q = queries.get(r.label.removesuffix(" (py)"), "")
        vs_signed_in = f"{r.rps / signed_in[r.tool]:.1%}" if r.tool in signed_in else ""
        lines.append(
            f"| {r.label} | {r.tool} | {r.rps:,.0f} | {r.p50:.1f} | {r.p99:.1f} | {r.errors} "
            f"| {r.requests:,} | {r.rps / ceiling[r.tool]:.1%} | {vs_signed_in} | {q} |"
        )
    return "\n".join(lines)


def latency_table(results: list[Result]) -> str:
    lines = [
        "| target | client | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.label} | {r.tool} | {r.rps:,.0f} | {r.p50:.1f} | {r.p99:.1f} | {r.errors} |"
        )
    return "\n".join(lines)


# --- Memory (--memory) ------------------------------------------------------------------

PROC = Path("/proc")
MEMORY_WARM_UP = 1_000


def status_rss_kib(text: str) -> int | None:
    """VmRSS from the text of /proc/<pid>/status, in KiB (None for a zombie, which has none)."""
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"VmRSS in {unit!r}, expected kB")
            return int(value)
    return None


def stat_parent(text: str) -> int:
    """The parent pid from the text of /proc/<pid>/stat.

    The second field is the command in parentheses, which may itself hold spaces and
    parentheses ("(gunicorn: worker [config.wsgi])"), so the fields are counted after the
    last ")": state, then the parent pid.
    """
    return int(text[text.rindex(")") + 1 :].split()[1])


def process_children(pid: int, proc: Path = PROC) -> list[int]:
    """The pids whose parent is `pid`, in order; processes that end meanwhile are skipped."""
    children = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = stat_parent((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            children.append(int(entry.name))
    return sorted(children)


def process_rss_kib(pid: int, proc: Path = PROC) -> int | None:
    """The process's resident memory now, in KiB; None once it has gone."""
    try:
        return status_rss_kib((proc / str(pid) / "status").read_text())
    except OSError:
        return None


def gunicorn_rss(master: int, proc: Path = PROC) -> dict[str, int | None]:
    """Resident memory (KiB) of the gunicorn master and each of its workers, by label."""
    rows = {f"master {master}": process_rss_kib(master, proc)}
    for pid in process_children(master, proc):
        rows[f"worker {pid}"] = process_rss_kib(pid, proc)
    return rows


def drive(port: int, plan: list[tuple[str, dict]], count: int, connections: int) -> int:
    """Send `count` GETs, the paths of `plan` in turn, over `connections` threads; return
    how many did not answer 200."""
    counter = iter(range(count))
    lock = threading.Lock()
    errors = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            path, cookies = plan[n % len(plan)]
            try:
                status, _, _ = request(port, "GET", path, cookies=cookies, conn=conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                status = 0
            if status != 200:
                with lock:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors[0]


def memory_plan(port: int, agent: dict, customer: dict) -> list[tuple[str, dict]]:
    """The pages the memory run cycles through, each with the cookies of its user: the
    customer's list and each of their complaints, the agent's queue (three tabs) and the
    case pages of 20 complaints the agent may see. Each page is checked to answer 200."""
    from django.db import connections

    from accounts.models import User
    from complaints.models import Complaint
    from complaints.selectors import complaints_visible_to

    references = list(
        Complaint.objects.filter(customer__email=CUSTOMER_EMAIL)
        .order_by("pk")
        .values_list("reference", flat=True)
    )
    cases = list(
        complaints_visible_to(User.objects.get(email=AGENT_EMAIL))
        .order_by("-pk")
        .values_list("pk", flat=True)[:20]
    )
    connections.close_all()
    customer_pages = [("/my/", customer)] + [(f"/my/{r}/", customer) for r in references]
    queue = "/admin/complaints/complaint/"
    staff_pages = [(f"{queue}{tab}", agent) for tab in ("?queue=open", "", "?queue=mine")]
    staff_pages += [(f"{queue}{pk}/change/", agent) for pk in cases]
    # Interleaved: a customer's page, then a staff page, so every stretch of requests holds
    # both kinds.
    plan = []
    for n in range(max(len(customer_pages), len(staff_pages))):
        plan.append(customer_pages[n % len(customer_pages)])
        plan.append(staff_pages[n % len(staff_pages)])
    for path, cookies in {path: cookies for path, cookies in plan}.items():
        status, _, _ = request(port, "GET", path, cookies=cookies)
        if status != 200:
            sys.exit(f"--memory: {path} answered {status}, expected 200")
    return plan


def memory_measure(
    port: int, master: int, plan, *, warm_up: int, requests: int, rounds: int, connections: int
) -> tuple[list[tuple[str, dict[str, int | None]]], int]:
    """RSS of every gunicorn process after `warm_up` requests and after each of `rounds`
    runs of `requests` more: ([(moment, {process: KiB})], requests not answered 200)."""
    errors = drive(port, plan, warm_up, connections)
    time.sleep(0.5)  # let the last responses finish on the workers before reading
    readings = [(f"after warm-up ({warm_up:,})", gunicorn_rss(master))]
    for n in range(1, rounds + 1):
        errors += drive(port, plan, requests, connections)
        time.sleep(0.5)
        readings.append((f"after {n * requests:,} more", gunicorn_rss(master)))
    return readings, errors


def memory_table(readings: list[tuple[str, dict[str, int | None]]]) -> str:
    """process | RSS at each reading | growth since the warm-up (and over the last round,
    when there are several), in MiB. A worker replaced in between (a new pid) shows only in
    the readings it was there for."""

    def mib(kib: int | None) -> str:
        return "-" if kib is None else f"{kib / 1024:,.1f}"

    def growth(first: int | None, last: int | None) -> str:
        return "-" if first is None or last is None else f"{(last - first) / 1024:+,.1f}"

    several = len(readings) > 2
    header = ["process", *(f"RSS {moment} MiB" for moment, _ in readings), "growth MiB"]
    if several:
        header.append("growth, last round MiB")
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    processes = dict.fromkeys(label for _, rss in readings for label in rss)
    for label in processes:
        values = [rss.get(label) for _, rss in readings]
        cells = [label, *map(mib, values), growth(values[0], values[-1])]
        if several:
            cells.append(growth(values[-2], values[-1]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_run(args, engine: str) -> None:
    """--memory: fresh workers, a warm-up, RSS, then --memory-requests more and RSS again
    (--memory-rounds times)."""
    from django.db import connections

    connections.close_all()
    with served(args.workers) as (port, proc, agent, customer):
        plan = memory_plan(port, agent, customer)
        started = time.perf_counter()
        readings, errors = memory_measure(
            port,
            proc.pid,
            plan,
            warm_up=MEMORY_WARM_UP,
            requests=args.memory_requests,
            rounds=args.memory_rounds,
            connections=args.connections,
        )
        seconds = time.perf_counter() - started
    print()
    print(
        f"{args.complaints:,} complaints, {engine}; gunicorn --workers {args.workers}, "
        f"{args.connections} connections; {len({path for path, _ in plan})} pages in turn "
        f"(the customer's list and complaints, the agent's queue tabs and case pages)"
    )
    print(
        f"Resident memory (VmRSS) after a warm-up of {MEMORY_WARM_UP:,} requests and after "
        f"each {args.memory_requests:,} more ({seconds:.0f} s in all, {errors} not answered "
        "200):"
    )
    print(memory_table(readings))
    if errors:
        sys.exit(f"--memory: {errors} requests did not answer 200")


# --- Main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--seconds", type=int, default=10, help="per target, default 10")
    parser.add_argument("--connections", type=int, default=8, help="default 8")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, default 2")
    parser.add_argument("--million", action="store_true", help="1,000,000 complaints")
    parser.add_argument(
        "--concurrent-filings",
        type=int,
        default=0,
        metavar="N",
        help="post N complaints at the same moment (default off); any 5xx fails the run",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the benchmark database when it already holds this many complaints",
    )
    parser.add_argument(
        "--only",
        choices=["staff", "dashboard"],
        help="measure only the in-process staff pages (staff), or only the dashboard and "
        "return rows (dashboard), and skip the load runs; --repeat sets the samples",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="samples per in-process staff page, median reported (default 5)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="instead of the load runs: each gunicorn process's resident memory (VmRSS) after "
        "a warm-up of 1,000 requests and after --memory-requests more",
    )
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=10_000,
        metavar="N",
        help="requests between two readings of --memory (default 10,000)",
    )
    parser.add_argument(
        "--memory-rounds",
        type=int,
        default=1,
        metavar="N",
        help="readings after the warm-up, each --memory-requests apart (default 1)",
    )
    args = parser.parse_args(argv)
    if args.million:
        args.complaints = 1_000_000
    if min(args.complaints, args.seconds, args.connections, args.workers) < 1:
        parser.error("every option must be at least 1")

    sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{BENCH_DIR / 'pages.sqlite3'}")
    engine, reference = desk_ready(args.complaints, keep=args.keep)
    from django.db import connections

    if args.memory:
        memory_run(args, engine)
        return
    if args.only:
        manager_ready()
        labels = DASHBOARD_PAGES if args.only == "dashboard" else None
        others = staff_pages(repeat=args.repeat, labels=labels)
        print()
        print(
            f"{args.complaints:,} complaints, {engine}; staff pages in-process, as a senior "
            f"manager (median of {args.repeat}); load average {load_average()}:"
        )
        print(staff_table(others))
        return

    queries = query_counts(reference)
    variants = queue_variants()
    others = staff_pages()
    connections.close_all()

    with served(args.workers) as (port, proc, agent, customer):
        targets = [
            ("ceiling", "/bench/ceiling/", None),
            ("ceiling (signed in)", "/bench/ceiling/signed-in/", customer),
            ("queue", "/admin/complaints/complaint/?queue=open", agent),
            ("my list", "/my/", customer),
            ("my detail", f"/my/{reference}/", customer),
            ("home", "/", None),
            ("form GET", "/complain/", None),
            ("form GET (signed in)", "/complain/", customer),
        ]
        use_wrk = shutil.which("wrk") is not None
        load = wrk_load if use_wrk else py_load
        results = []
        for label, path, cookies in targets:
            check_get(port, path, cookies)
            run = dict(seconds=args.seconds, connections=args.connections, cookies=cookies)
            results.append(load(label, port, path, **run))
            print(f"  {label}: {results[-1].rps:,.0f} req/s", flush=True)
        if use_wrk:
            results.append(
                py_load(
                    "ceiling (py)",
                    port,
                    "/bench/ceiling/",
                    seconds=args.seconds,
                    connections=args.connections,
                )
            )

        def sign_in() -> dict:
            return login(port, "/account/login/", CUSTOMER_EMAIL, "/my/")

        for label, sign in (("complain POST", None), ("complain POST (signed in)", sign_in)):
            results.append(
                py_load(
                    label,
                    port,
                    "/complain/",
                    seconds=args.seconds,
                    connections=args.connections,
                    post=True,
                    sign_in=sign,
                )
            )
            print(f"  {label}: {results[-1].rps:,.0f} req/s", flush=True)
        # Latency without queueing: as many connections as workers, so each request finds a
        # worker free and p99 is the page's own time, not time spent behind other requests.
        unqueued = []
        if args.connections > args.workers:
            print(f"Latency with {args.workers} connections (one a worker):", flush=True)
            for label, path, cookies in targets:
                unqueued.append(
                    load(
                        label,
                        port,
                        path,
                        seconds=args.seconds,
                        connections=args.workers,
                        cookies=cookies,
                    )
                )
            for label, sign in (("complain POST", None), ("complain POST (signed in)", sign_in)):
                unqueued.append(
                    py_load(
                        label,
                        port,
                        "/complain/",
                        seconds=args.seconds,
                        connections=args.workers,
                        post=True,
                        sign_in=sign,
                    )
                )
        filings = None
        if args.concurrent_filings:
            print(f"{args.concurrent_filings} filings at once:", flush=True)
            filings = concurrent_filings(port, args.concurrent_filings)

    print()
    print(
        f"{args.complaints:,} complaints, {engine}; gunicorn --workers {args.workers}, "
        f"{args.connections} connections, {args.seconds} s per target"
    )
    print(table(results, queries))
    print("vs ceiling: req/s over the ceiling's req/s measured with the same client.")
    if unqueued:
        print()
        print(
            f"Latency with {args.workers} connections, one request in flight a worker "
            "(no waiting behind other requests):"
        )
        print(latency_table(unqueued))
    if filings:
        statuses, p50, p99 = filings
        counts = ", ".join(f"{n} x {s or 'no answer'}" for s, n in sorted(statuses.items()))
        print()
        print(
            f"{args.concurrent_filings} anonymous filings sent at the same moment "
            f"(gunicorn --workers {args.workers}): {counts}; p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
    print()
    print("Every staff queue in-process (django.test.Client, median of 10, 25 rows a page):")
    print(variants_table(variants))
    print()
    print("Other staff pages in-process, as a senior manager (median of 5):")
    print(staff_table(others))
    if filings and any(s >= 500 or s == 0 for s in filings[0]):
        sys.exit("Concurrent filings: some answered 5xx or not at all")


if __name__ == "__main__":
    main()
