"""Recount the monthly figures (dashboard and return) from scratch: manage.py rebuild_figures."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from escalation.figures import figures_from_scratch, figures_rebuild, figures_stored


class Command(BaseCommand):
    help = (
        "Replace the monthly figures behind the compliance dashboard and the return with a "
        "count from scratch (in chunks). --check only compares and exits 1 if they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="compare with a fresh count; change nothing"
        )

    def handle(self, *args, check=False, **options):
        started = time.perf_counter()
        if check:
            fresh, stored = figures_from_scratch(), figures_stored()
            differing = sorted(k for k in fresh.keys() | stored.keys() if fresh[k] != stored[k])
            for key, measure in differing[:20]:
                self.stdout.write(
                    f"{key[0]:%Y-%m} {' '.join(map(str, key[1:]))} {measure}: "
                    f"stored {stored[key, measure]}, counted {fresh[key, measure]}"
                )
            if differing:
                self.stderr.write(f"{len(differing)} figures differ from a fresh count.")
                raise SystemExit(1)
            self.stdout.write("The stored figures equal a fresh count.")
            return
        rows = figures_rebuild()
        seconds = time.perf_counter() - started
        self.stdout.write(f"Rebuilt {rows} monthly figure rows in {seconds:.1f} s.")
