"""Run pip-audit over the installed environment and say plainly what it proved.

pip-audit prints "No known vulnerabilities found" even when it could reach no vulnerability
database and audited nothing. This wrapper counts what was audited:

- any known vulnerability in an installed package: listed, exit 1;
- packages pip-audit could not audit: listed as NOT AUDITED, with the reason;
- nothing audited at all (the machine cannot reach PyPI's JSON API or OSV): a loud warning,
  exit 0, because the network, not the project, is what failed. Set
  REDRESS_REQUIRE_AUDIT=1 to make that an error where the database is reachable.

    .venv/bin/python .ci/pip_audit_check.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def main() -> int:
    run = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(PIP_AUDIT), "--local", "--format", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stdout, run.stderr, sep="\n")
        print(f"pip-audit failed (exit {run.returncode}) without a report.")
        return 1
    dependencies = report["dependencies"]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]

    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    for dep in skipped:
        print(f"NOT AUDITED {dep['name']}: {dep['skip_reason']}")
    print(
        f"pip-audit: {len(audited)} of {len(dependencies)} installed packages audited, "
        f"{len(vulnerable)} with known vulnerabilities, {len(skipped)} not audited."
    )
    if vulnerable:
        return 1
    if not audited and dependencies:
        print(
            "WARNING: nothing was audited: this machine cannot reach a vulnerability database "
            "(PyPI's JSON API or OSV). The dependencies are pinned in requirements*.txt; "
            "audit them where the network allows."
        )
        return 1 if os.environ.get("REDRESS_REQUIRE_AUDIT") == "1" else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
