"""bench/peer.py's arithmetic and the peer site it writes; the benchmark itself never runs here."""

import re

import pytest

from bench import peer, peer_site
from bench.pages import Result


def _row(label, rps, p50, queries, ms=1.0):
    return peer.Row(label, rps, p50, p50 * 2, 0, 100, queries, ms)


def test_a_list_view_of_page_and_data_combines_the_two_requests_in_series():
    page, data = _row("page", 100.0, 10.0, 10, 8.0), _row("data", 25.0, 40.0, 76, 62.0)

    both = peer.together("both", page, data)

    # 10 ms + 40 ms a view: 20 views a second, not the 125 the two rates would add up to.
    assert both.rps == pytest.approx(20.0)
    assert both.p50 == 50.0
    assert both.p99 is None
    assert both.queries == 86
    assert both.ms == 70.0


def test_the_median_round_is_one_real_run():
    runs = [Result("q", "python", rps, rps / 10, rps / 5, 0, 10) for rps in (90.0, 110.0, 100.0)]

    assert peer.median_round(runs).rps == 100.0
    assert peer.median_round(runs[:2]).rps == 90.0  # even: the lower middle, not an average
    assert peer.median_round(runs[:1]) is runs[0]


def test_ratios_read_redress_over_the_peer():
    ours = _row("Redress", 100.0, 10.0, 7)
    theirs = [_row("page", 50.0, 20.0, 14), _row("idle", 0.0, 0.0, 0)]

    table = peer.ratio_table(ours, theirs)

    assert "| page | 2.00× | 0.50× | 0.50× |" in table
    assert "| idle | - | - | - |" in table
    assert peer.ratio(7, 76) == "0.09×"


def test_the_figures_table_leaves_out_a_p99_it_cannot_know():
    rows = [
        _row("Redress", 1234.4, 5.0, 7),
        peer.together("both", _row("a", 10, 1, 1), _row("b", 10, 1, 1)),
    ]

    lines = peer.figures_table(rows).splitlines()

    assert lines[2] == "| Redress | 1,234 | 5.0 | 10.0 | 0 | 100 | 7 | 1.0 |"
    assert lines[3].split(" | ")[3] == "-"


def test_the_data_endpoint_is_read_from_the_list_page():
    page = b'ajax: {\n  "url": "/helpdesk/datatables_ticket_list/eyJmaWx0ZXJpbmciOiB7fX0=",'

    assert peer_site.data_path(page) == (
        "/helpdesk/datatables_ticket_list/eyJmaWx0ZXJpbmciOiB7fX0=" + peer_site.DATA_QUERY
    )
    assert "length=25" in peer_site.DATA_QUERY
    with pytest.raises(SystemExit):
        peer_site.data_path(b"<table></table>")


def test_the_peer_site_is_a_valid_project_on_its_own_database(tmp_path):
    database = tmp_path / "peer-bench.sqlite3"

    peer_site.project_write(tmp_path / "site", database, "9.9")

    settings = (tmp_path / "site" / "peer_settings.py").read_text()
    compile(settings, "peer_settings.py", "exec")
    for name in ("peer_urls.py", "peer_wsgi.py"):
        compile((tmp_path / "site" / name).read_text(), name, "exec")
    assert f'"NAME": {str(database)!r},' in settings
    assert re.search(r"^DEBUG = False$", settings, re.M)
    assert '"helpdesk",' in settings


def test_the_peer_is_pinned_to_one_release_with_gunicorn():
    pins = peer.REQUIREMENTS.read_text()

    assert re.fullmatch(r"\d+\.\d+\.\d+", peer.peer_version())
    assert re.search(r"^gunicorn==\S+$", pins, re.M)
    assert re.search(r"^Django==5\.2\.\d+$", pins, re.M)
