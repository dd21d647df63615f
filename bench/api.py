"""Benchmark the API's complaint list and read endpoints against a bare DRF view.

Seeds N complaints (100k by default, 1M with --million) into the benchmark's own database
with bench/seed.py (as bench/pages.py does), issues two keys (a support agent's, scoped to
technical support, and a senior manager's, who sees every department) and times each
endpoint in-process through DRF's test client, R times after one warm-up:

  bare DRF view        /bench/api-ceiling/: key authentication, scope check, rate limits
  list                 /api/v1/complaints/ (50 a page), as the agent and as the manager
  list, next page      the cursor the first page gave
  list filtered        overdue, department + status, account reference, updated since
  read                 /api/v1/complaints/<reference>/ with clocks and timeline

It prints the median and 95th percentile in ms and the queries each request ran; the
query counts must not change with N (run it at 100k and at 1M and compare).

  .venv/bin/python bench/api.py [--complaints N | --million] [--repeat R] [--keep]
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_api .venv/bin/python bench/api.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"


def keys() -> dict[str, str]:
    from accounts.integrations import api_key_issue, integration_create
    from accounts.models import Integration
    from accounts.roles import Role

    issued = {}
    for label, role in (("agent", Role.SUPPORT_AGENT), ("manager", Role.SENIOR_MANAGER)):
        name = f"Bench {label} {time.time_ns()}"
        integration = integration_create(name=name, role=role)
        issued[label] = api_key_issue(integration=integration, scopes=["read"]).plaintext
    assert Integration.objects.count() >= 2
    return issued


def targets(agent: str, manager: str):
    from complaints.models import Complaint

    sample = Complaint.objects.filter(department="technical_support").order_by("-pk")[100]
    account = (
        Complaint.objects.exclude(customer__account_reference="")
        .filter(department="technical_support")
        .select_related("customer")
        .first()
    )
    # The 200 most recently changed complaints: what a CRM syncing every few minutes asks.
    changed = Complaint.objects.order_by("-updated_at").values_list("updated_at", flat=True)[200]
    recent = changed.isoformat().replace("+00:00", "Z")
    rows = [
        ("bare DRF view", agent, "/bench/api-ceiling/"),
        ("list (agent)", agent, "/api/v1/complaints/"),
        ("list (manager)", manager, "/api/v1/complaints/"),
        ("list, next page", agent, "NEXT"),
        ("list overdue", agent, "/api/v1/complaints/?overdue=true"),
        (
            "list department+status",
            manager,
            "/api/v1/complaints/?department=accounts&status=closed",
        ),
        ("list updated since", manager, f"/api/v1/complaints/?updated_since={recent}"),
        ("read", agent, f"/api/v1/complaints/{sample.reference}/"),
    ]
    if account:
        ref = account.customer.account_reference
        rows.insert(
            6, ("list account reference", manager, f"/api/v1/complaints/?account_reference={ref}")
        )
    return rows


def measure(rows, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    results = []
    next_url = None
    for label, key, url in rows:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        if url == "NEXT":
            url = next_url
        first = client.get(url)
        if first.status_code != 200:
            sys.exit(f"{label}: {url} answered {first.status_code}: {first.content[:300]!r}")
        if label == "list (agent)":
            next_url = first.json()["next"]
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        body = response.json()
        count = len(body["results"]) if isinstance(body, dict) and "results" in body else 1
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        results.append((label, statistics.median(times), p95, len(ctx.captured_queries), count))
    return results


def table(results, total: int, engine: str) -> str:
    lines = [
        f"API at {total:,} complaints ({engine}), in-process, median of the repeats:",
        "",
        "| request | median ms | p95 ms | queries | rows |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, median, p95, queries, rows in results:
        lines.append(f"| {label} | {median:.1f} | {p95:.1f} | {queries} | {rows} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--million", action="store_true", help="1,000,000 complaints")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests each, default 20")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the database if it holds this many complaints"
    )
    args = parser.parse_args(argv)
    if args.million:
        args.complaints = 1_000_000
    sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{BENCH_DIR / 'api.sqlite3'}")
    # The benchmark measures the endpoints, not the rate limits.
    os.environ.setdefault("REDRESS_API_KEY_RATE", "100000000/min")
    os.environ.setdefault("REDRESS_API_ADDRESS_RATE", "100000000/min")
    from bench import sweep

    url = sweep.configure_environment()
    config = sweep.database_config(url)
    sweep.database_prepare(config, fresh=not args.keep)

    import django

    django.setup()
    from django.core.management import call_command

    from complaints.models import Complaint

    call_command("migrate", verbosity=0)
    engine = sweep.engine_label()
    if args.keep and Complaint.objects.count() >= args.complaints:
        print(f"Reusing the {Complaint.objects.count():,} complaints already seeded ({engine})")
    else:
        from bench import seed

        started = time.perf_counter()
        seed.seed_realistic(args.complaints)
        print(f"Seeded {args.complaints:,} complaints in {time.perf_counter() - started:.1f} s")
    issued = keys()
    results = measure(targets(issued["agent"], issued["manager"]), args.repeat)
    print(table(results, args.complaints, engine))


if __name__ == "__main__":
    main()
