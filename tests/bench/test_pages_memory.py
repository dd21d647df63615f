"""bench/pages.py --memory: reading a web process's resident memory from /proc.

The benchmark itself never runs here; these check that the readings it prints are the ones
/proc holds (a worker's VmRSS, the workers found as the master's children) and how the table
reports growth.
"""

import os
import subprocess
import sys

import pytest

from bench.pages import (
    gunicorn_rss,
    memory_table,
    process_children,
    process_rss_kib,
    stat_parent,
    status_rss_kib,
)

STATUS = """Name:\tgunicorn
Umask:\t0022
State:\tS (sleeping)
Pid:\t{pid}
PPid:\t{ppid}
VmPeak:\t  312000 kB
VmSize:\t  300000 kB
VmHWM:\t  130000 kB
VmRSS:\t  {rss} kB
RssAnon:\t   90000 kB
Threads:\t1
"""


def fake_process(proc, pid, ppid, rss, command="gunicorn"):
    folder = proc / str(pid)
    folder.mkdir()
    (folder / "status").write_text(STATUS.format(pid=pid, ppid=ppid, rss=rss))
    (folder / "stat").write_text(f"{pid} ({command}) S {ppid} {pid} {pid} 0 -1 4194304 100 0\n")


@pytest.fixture
def proc(tmp_path):
    """A /proc with a gunicorn master (100), its two workers and an unrelated process."""
    fake_process(tmp_path, 100, 1, 60_000, "gunicorn: master [config.wsgi]")
    fake_process(tmp_path, 102, 100, 125_952, "gunicorn: worker [config.wsgi]")
    fake_process(tmp_path, 101, 100, 120_000, "gunicorn: worker [config.wsgi]")
    fake_process(tmp_path, 200, 1, 10_000, "postgres")
    (tmp_path / "self").mkdir()  # not a pid: skipped
    (tmp_path / "meminfo").write_text("MemTotal: 1 kB\n")
    return tmp_path


def test_the_resident_memory_is_vmrss_not_the_peak_or_the_size():
    assert status_rss_kib(STATUS.format(pid=1, ppid=0, rss=123_456)) == 123_456


def test_a_process_without_vmrss_reads_as_none():
    # A zombie's status has no Vm lines.
    assert status_rss_kib("Name:\tgunicorn\nState:\tZ (zombie)\n") is None


def test_the_parent_is_read_after_a_command_holding_spaces_and_parentheses():
    assert stat_parent("4242 (gunicorn: worker (x) [config.wsgi]) S 4241 4241 4241 0") == 4241


def test_the_workers_are_the_masters_children(proc):
    assert process_children(100, proc) == [101, 102]
    assert process_children(200, proc) == []


def test_every_gunicorn_process_is_reported_with_its_rss(proc):
    assert gunicorn_rss(100, proc) == {
        "master 100": 60_000,
        "worker 101": 120_000,
        "worker 102": 125_952,
    }


def test_a_process_that_has_gone_reads_as_none(proc):
    assert process_rss_kib(999, proc) is None


def test_the_readings_match_this_machines_proc_for_a_real_child():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )  # noqa: S603
    try:
        assert child.pid in process_children(os.getpid())
        assert process_rss_kib(child.pid) > 1024  # a Python interpreter: more than 1 MiB
        assert process_rss_kib(os.getpid()) > process_rss_kib(child.pid)  # pytest and Django
    finally:
        child.communicate(b"")


def test_the_table_shows_each_processs_growth_in_mib():
    readings = [
        ("after warm-up (1,000)", {"master 100": 60_000, "worker 101": 120_000}),
        ("after 10,000 more", {"master 100": 60_000, "worker 101": 122_048}),
    ]

    lines = memory_table(readings).splitlines()

    assert lines[0] == (
        "| process | RSS after warm-up (1,000) MiB | RSS after 10,000 more MiB | growth MiB |"
    )
    assert lines[2] == "| master 100 | 58.6 | 58.6 | +0.0 |"
    assert lines[3] == "| worker 101 | 117.2 | 119.2 | +2.0 |"


def test_with_several_rounds_the_last_rounds_growth_tells_warm_up_from_a_leak():
    readings = [
        ("after warm-up (1,000)", {"worker 101": 120_000}),
        ("after 10,000 more", {"worker 101": 122_048}),
        ("after 20,000 more", {"worker 101": 121_024}),
    ]

    lines = memory_table(readings).splitlines()

    assert lines[0].endswith("| growth MiB | growth, last round MiB |")
    assert lines[2] == "| worker 101 | 117.2 | 119.2 | 118.2 | +1.0 | -1.0 |"


def test_a_worker_replaced_in_between_shows_only_where_it_was_there():
    readings = [
        ("after warm-up (1,000)", {"master 100": 60_000, "worker 101": 120_000}),
        ("after 10,000 more", {"master 100": 60_000, "worker 103": 100_000}),
    ]

    lines = memory_table(readings).splitlines()

    assert lines[3] == "| worker 101 | 117.2 | - | - |"
    assert lines[4] == "| worker 103 | - | 97.7 | - |"
