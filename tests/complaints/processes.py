"""Real `celery worker` and `celery beat` processes for tests, sharing the test database.

Each process runs in its own session (process group), so a test can stop it, or kill it
with everything it forked, and logs to a file under the test's tmp_path; the logs go in
every assertion message. The broker is whatever the suite is configured with: the
filesystem broker by default (a folder of its own under tmp_path), Redis when
CELERY_BROKER_URL is set (as in CI).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# How long a test waits for processes to do their work: a wait for processes, never for
# a business deadline, so it is generous and only reached when something is wrong.
WAIT_SECONDS = 90
# Messages a worker may hold per pool child on the filesystem broker (see worker()).
FILESYSTEM_PREFETCH = 20


def database_url() -> str:
    """Return a DATABASE_URL for the test database this test process is using."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _tail(path: Path, lines: int) -> str:
    """Return the last `lines` lines of a log, leaving out beat's one line per task sent."""
    if not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    sent = [line for line in text if "Scheduler: Sending due task" in line]
    text = [line for line in text if "Scheduler: Sending due task" not in line]
    head = f"[{len(sent)} 'Sending due task' lines left out]\n" if sent else ""
    if len(text) > lines:
        head += f"[... {len(text) - lines} earlier lines ...]\n"
    return head + "\n".join(text[-lines:])


class CeleryProcesses:
    """The worker and beat processes of one test; use as a context manager to stop them all.

    `env` adds to (or overrides) the subprocess environment: test settings, the test
    database and REDRESS_VAR_DIR=tmp_path (own broker folder, beat schedule and media).
    """

    def __init__(self, tmp_path: Path, **env: str):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "REDRESS_VAR_DIR": str(tmp_path),
            **env,
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.ended: set[str] = set()  # stopped or killed on purpose
        self._files = []

    def __enter__(self) -> CeleryProcesses:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        """Start `celery -A config <args>` as `name`, logging to tmp_path/<name>.log."""
        assert name not in self.processes, f"process {name!r} already started"
        log = self.tmp_path / f"{name}.log"
        out = log.open("w")
        self._files.append(out)
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: pgid == pid
        )
        self.processes[name] = process
        self.logs[name] = log
        return process

    def worker(self, name: str = "worker", *, concurrency: int = 1) -> subprocess.Popen:
        """Start a worker (prefork pool of `concurrency` children) with a unique hostname."""
        args = ["--concurrency", str(concurrency), "--hostname", f"{name}-{uuid.uuid4().hex}@%h"]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # kombu's filesystem transport sleeps its polling interval (1 s) whenever the
            # worker holds its prefetch limit (prefetch 1 x concurrency), so it takes about
            # one message per second per pool child: slower than beat sends them every
            # second here. Prefetching more lets it take messages back to back.
            args += ["--prefetch-multiplier", str(FILESYSTEM_PREFETCH)]
        return self.start(name, ["worker", "--loglevel", "INFO", *args])

    def beat(self, name: str = "beat") -> subprocess.Popen:
        """Start a beat with a schedule file of its own."""
        return self.start(
            name,
            ["beat", "--loglevel", "INFO", "--schedule", str(self.tmp_path / f"{name}-schedule")],
        )

    def stop(self, *names: str, timeout: float = 15) -> None:
        """Stop the named processes (SIGTERM: warm shutdown); SIGKILL a group that hangs.

        All are signalled first, then waited for. Only the main process is signalled: a
        worker ends its own pool children (SIGTERM to the whole group kills the children
        under the worker, which then waits for them until it is killed).
        """
        running = [n for n in names if self.processes[n].poll() is None]
        self.ended.update(names)
        for name in running:
            self.processes[name].terminate()
        deadline = time.monotonic() + timeout
        for name in running:
            try:
                self.processes[name].wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self.kill(name)

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything in its group (a worker's pool children too)."""
        process = self.processes[name]
        self.ended.add(name)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=15)

    def stop_all(self) -> None:
        """Stop every process and close the log files."""
        try:
            self.stop(*self.processes)
        finally:
            # A stopped leader does not end children that outlived it: kill what is left.
            for process in self.processes.values():
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for out in self._files:
                out.close()

    def output(self, lines: int = 150) -> str:
        """Return the end of every process's log, for assertion messages."""
        return "\n".join(
            f"----- {name} (exit {self.processes[name].poll()}) -----\n{_tail(log, lines)}"
            for name, log in self.logs.items()
        )

    def assert_running(self) -> None:
        """Fail, with the logs, if a process that should be running has exited."""
        for name, process in self.processes.items():
            if name not in self.ended and process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}\n{self.output()}")

    def wait_until(
        self,
        condition: Callable[[], object],
        what: str,
        *,
        timeout: float = WAIT_SECONDS,
        interval: float = 0.5,
        state: Callable[[], object] | None = None,
    ):
        """Poll `condition` until it is truthy and return its value.

        Fails, with `state()` (what the test was waiting on) and the logs, after `timeout`.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.assert_running()
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                now = f"\nstate: {state()}" if state else ""
                raise AssertionError(
                    f"timed out after {timeout:.0f}s waiting for {what}{now}\n{self.output()}"
                )
            time.sleep(interval)
