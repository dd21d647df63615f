"""What a complaint must have recorded before staff may close it (issue 16). Pure Python."""

from __future__ import annotations

ROOT_CAUSE_NEEDED = "Record the root cause before closing the complaint."
AT_FAULT_NEEDED = "Say whether the company was at fault before closing the complaint."


def close_problems(*, has_root_cause: bool, company_at_fault: bool | None) -> dict[str, str]:
    """Return, by field, what is missing for a staff close; empty when it may close.

    A deadline job's close (auto-close, COP-10) is never refused: it closes and the case
    goes onto its department's "Root cause missing" queue.
    """
    problems = {}
    if not has_root_cause:
        problems["root_cause"] = ROOT_CAUSE_NEEDED
    if company_at_fault is None:
        problems["company_at_fault"] = AT_FAULT_NEEDED
    return problems
