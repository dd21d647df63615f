"""Against the peer: django-helpdesk's staff ticket list beside Redress's staff queue.

Both desks hold the same N cases (100k by default) on SQLite with the same options, are
served by gunicorn with the same workers, and are loaded for the same seconds over the same
connections, alternating round by round:

  Redress        /admin/complaints/complaint/?queue=open as a support agent: the rows are
                 rendered on the server, one request a list view.
  helpdesk page  /helpdesk/tickets/ as a staff user: the page of filters; its table is
                 empty and filled by DataTables from the data endpoint below.
  helpdesk data  /helpdesk/datatables_ticket_list/<query>?draw=1&start=0&length=25: the
                 JSON of the first 25 open tickets, the request the page makes on load.

A staff user viewing helpdesk's list makes both requests, so the table also shows the two
together ("page + data": 1 / (1/page + 1/data) list views a second, the queries summed) and
the ratio Redress ÷ peer for each. Queries per request are counted in-process with
django.test.Client under CaptureQueriesContext, each desk in its own interpreter.

The peer lives in its own virtualenv, var/bench/peer-venv (python3.11 -m venv, then the
pins in bench/peer-requirements.txt), with a minimal project the script writes to
var/bench/peer-project (bench/peer_site.py) and its database var/bench/peer-helpdesk.sqlite3.
Redress is seeded with bench/pages.py's seeding into var/bench/peer-redress.sqlite3.
Redress's own .venv is only read.

  .venv/bin/python bench/peer.py [--tickets N] [--seconds S] [--connections C]
                                 [--workers W] [--rounds R] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(REPO))

from bench import pages, peer_site  # noqa: E402

BENCH_DIR = REPO / "var" / "bench"
PEER_VENV = BENCH_DIR / "peer-venv"
PEER_PROJECT = BENCH_DIR / "peer-project"
PEER_DB = BENCH_DIR / "peer-helpdesk.sqlite3"
REDRESS_DB = BENCH_DIR / "peer-redress.sqlite3"
REQUIREMENTS = REPO / "bench" / "peer-requirements.txt"
# Written once both desks are seeded: --keep reuses them only at the same N.
SEED_RECORD = BENCH_DIR / "peer-seed.json"
QUEUE_PATH = "/admin/complaints/complaint/?queue=open"
PYTHON = "python3.11"


# --- The peer's virtualenv and site -------------------------------------------------------


def peer_version() -> str:
    """django-helpdesk's pinned version, from bench/peer-requirements.txt."""
    match = re.search(r"^django-helpdesk==(\S+)$", REQUIREMENTS.read_text(), re.M)
    return match.group(1)


def peer_venv() -> None:
    """Create var/bench/peer-venv and install the pins, unless it already holds them."""
    stamp = PEER_VENV / "bench-requirements.txt"
    pins = REQUIREMENTS.read_text()
    if stamp.exists() and stamp.read_text() == pins:
        return
    print(f"Installing django-helpdesk {peer_version()} into {PEER_VENV.relative_to(REPO)}")
    python = shutil.which(PYTHON)
    if python is None:
        sys.exit(f"{PYTHON} is needed to create the peer's virtualenv")
    subprocess.run([python, "-m", "venv", str(PEER_VENV)], check=True)  # noqa: S603
    pip = [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)  # noqa: S603
    stamp.write_text(pins)


def peer_env() -> dict[str, str]:
    """The peer's environment: its settings and project, nothing of Redress's."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    return env | {"DJANGO_SETTINGS_MODULE": "peer_settings", "PYTHONPATH": str(PEER_PROJECT)}


def peer_run(*args: str) -> dict:
    """Run bench/peer_site.py in the peer's interpreter; return the JSON it prints last."""
    done = subprocess.run(  # noqa: S603 - our own helper, fixed arguments
        [str(PEER_VENV / "bin" / "python"), str(REPO / "bench" / "peer_site.py"), *args],
        cwd=PEER_PROJECT,
        env=peer_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"peer_site.py {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peer_ready(total: int, *, keep: bool) -> None:
    """Write the peer's project; seed its database unless `keep` finds the seed there."""
    peer_site.project_write(PEER_PROJECT, PEER_DB, peer_version())
    if keep and PEER_DB.exists() and peer_run("seeded", str(total))["seeded"]:
        print(f"Reusing the {total:,} helpdesk tickets already seeded")
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{PEER_DB}{suffix}").unlink(missing_ok=True)
    done = peer_run("seed", str(total))
    print(
        f"Seeded {done['tickets']:,} helpdesk tickets and {done['followups']:,} follow-ups "
        f"in {done['seconds']:.1f} s"
    )


def seed_recorded() -> int | None:
    """How many cases each desk was last seeded with, if both seeds completed."""
    try:
        return json.loads(SEED_RECORD.read_text())["tickets"]
    except (OSError, ValueError, KeyError):
        return None


# --- Redress's side (this interpreter) ----------------------------------------------------


def redress_counts() -> dict:
    """Queries, rows and in-process ms of the staff queue, as bench/pages.py's agent."""
    import warnings

    from django.test import Client

    from accounts.models import User

    # Whitenoise's notice that static files were never collected: the queue needs none.
    warnings.filterwarnings("ignore", message="No directory at", module="django")
    client = Client()
    client.force_login(
        User.objects.get(email=pages.AGENT_EMAIL),
        backend="accounts.backends.PermissionsBackend",
    )
    queries, body = peer_site.queries_for(client, QUEUE_PATH)
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        client.get(QUEUE_PATH)
        samples.append((time.perf_counter() - started) * 1000)
    rows = len(set(re.findall(rb"CMP-\d{4}-\d{6}", body)))
    return {"queries": queries, "rows": rows, "ms": statistics.median(samples)}


# --- Figures ------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    rps: float
    p50: float
    p99: float | None
    errors: int
    requests: int
    queries: int
    ms: float


def median_round(results: list[pages.Result]) -> pages.Result:
    """Of one target's rounds, the one with the median req/s (all figures from one run)."""
    ordered = sorted(results, key=lambda r: r.rps)
    return ordered[(len(ordered) - 1) // 2]


def together(label: str, page: Row, data: Row) -> Row:
    """The page and its data as one list view: requests in series, so the times add up and
    the rates combine as 1 / (1/a + 1/b); p99 is not additive, so it is left out."""
    return Row(
        label,
        1 / (1 / page.rps + 1 / data.rps),
        page.p50 + data.p50,
        None,
        page.errors + data.errors,
        min(page.requests, data.requests),
        page.queries + data.queries,
        page.ms + data.ms,
    )


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "-"


def figures_table(rows: list[Row]) -> str:
    lines = [
        "| target | req/s | p50 ms | p99 ms | errors | requests | queries | in-process ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p99 = "-" if r.p99 is None else f"{r.p99:.1f}"
        lines.append(
            f"| {r.label} | {r.rps:,.0f} | {r.p50:.1f} | {p99} | {r.errors} | {r.requests:,} "
            f"| {r.queries} | {r.ms:.1f} |"
        )
    return "\n".join(lines)


def ratio_table(ours: Row, peers: list[Row]) -> str:
    """Redress ÷ peer: above 1 for req/s, below 1 for p50 and queries, is Redress ahead."""
    lines = [
        "| Redress ÷ | req/s | p50 | queries |",
        "|---|---:|---:|---:|",
    ]
    for peer in peers:
        lines.append(
            f"| {peer.label} | {ratio(ours.rps, peer.rps)} | {ratio(ours.p50, peer.p50)} "
            f"| {ratio(ours.queries, peer.queries)} |"
        )
    return "\n".join(lines)


# --- Main ---------------------------------------------------------------------------------


def load_rounds(targets, *, rounds: int, seconds: int, connections: int) -> dict:
    """Load each target for `seconds`, one after the other, `rounds` times over, so both
    desks see the same share of the machine's other load; {label: [Result, ...]}."""
    load = pages.wrk_load if shutil.which("wrk") else pages.py_load
    results: dict[str, list[pages.Result]] = {label: [] for label, *_ in targets}
    for n in range(rounds):
        for label, port, path, cookies in targets:
            result = load(
                label, port, path, seconds=seconds, connections=connections, cookies=cookies
            )
            results[label].append(result)
            print(f"  round {n + 1}, {label}: {result.rps:,.0f} req/s", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="cases each desk holds")
    parser.add_argument("--seconds", type=int, default=10, help="per target and round")
    parser.add_argument("--connections", type=int, default=8, help="default 8")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, default 2")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds, default 1")
    parser.add_argument("--keep", action="store_true", help="reuse both seeded databases")
    args = parser.parse_args(argv)
    if min(args.tickets, args.seconds, args.connections, args.workers, args.rounds) < 1:
        parser.error("every option must be at least 1")

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    peer_venv()
    keep = args.keep and seed_recorded() == args.tickets
    if args.keep and not keep:
        print(f"--keep: the seeds do not hold {args.tickets:,} cases each; seeding afresh")
    SEED_RECORD.unlink(missing_ok=True)
    peer_ready(args.tickets, keep=keep)
    peer = peer_run("count")

    # Redress on SQLite as the peer, whatever DATABASE_URL says: one engine for both.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    os.environ["DATABASE_URL"] = f"sqlite:///{REDRESS_DB}"
    engine, _ = pages.desk_ready(args.tickets, keep=keep)
    SEED_RECORD.write_text(json.dumps({"tickets": args.tickets}))
    ours = redress_counts()
    from django.db import connections

    connections.close_all()

    redress_port = pages.free_port()
    servers = [pages.gunicorn_start(redress_port, args.workers, log_name="peer-redress.log")]
    try:
        peer_port = pages.free_port()  # after Redress has bound its own
        servers.append(
            pages.gunicorn_start(
                peer_port,
                args.workers,
                venv=PEER_VENV,
                app="peer_wsgi",
                cwd=PEER_PROJECT,
                env=peer_env(),
                probe=peer_site.LOGIN_PATH,
                log_name="peer-helpdesk.log",
            )
        )
        agent = pages.login(redress_port, "/admin/login/", pages.AGENT_EMAIL, "/admin/")
        staff = pages.login(peer_port, peer_site.LOGIN_PATH, pages.AGENT_EMAIL, peer_site.LIST_PATH)
        targets = [
            ("Redress staff queue", redress_port, QUEUE_PATH, agent),
            ("helpdesk list page", peer_port, peer_site.LIST_PATH, staff),
            ("helpdesk list data (25 rows)", peer_port, peer["data_path"], staff),
        ]
        for _, port, path, cookies in targets:
            pages.check_get(port, path, cookies)
        results = load_rounds(
            targets, rounds=args.rounds, seconds=args.seconds, connections=args.connections
        )
    finally:
        for server in servers:
            pages.gunicorn_stop(server)

    counts = [
        (ours["queries"], ours["ms"]),
        (peer["page"], peer["page_ms"]),
        (peer["data"], peer["data_ms"]),
    ]
    rows = []
    for (label, *_), (queries, ms) in zip(targets, counts, strict=True):
        r = median_round(results[label])
        rows.append(Row(label, r.rps, r.p50, r.p99, r.errors, r.requests, queries, ms))
    rows.append(together("helpdesk page + data (one list view)", rows[1], rows[2]))

    print()
    print(
        f"{args.tickets:,} cases each, {engine}; django-helpdesk {peer_version()}; gunicorn "
        f"--workers {args.workers}, {args.connections} connections, {args.seconds} s per "
        f"target, {args.rounds} round(s), {results[targets[0][0]][0].tool} client"
    )
    print(
        f"Rows shown: Redress {ours['rows']} of the open queue; helpdesk {peer['rows']} of "
        f"{peer['records']:,} open or reopened tickets."
    )
    print(figures_table(rows))
    print()
    print(ratio_table(rows[0], rows[1:]))


if __name__ == "__main__":
    main()
