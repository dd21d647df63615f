"""One writer per state: only complaint_transition assigns Complaint.status (style habit 3)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "complaints", "escalation", "config")
ONLY_WRITER = ROOT / "complaints" / "services" / "transitions.py"
WRITING_METHODS = {"update", "create", "get_or_create", "update_or_create", "bulk_create"}


def _status_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "status":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} assigns .status")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in WRITING_METHODS and any(k.arg == "status" for k in node.keywords):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}(status=...)")
            if name == "setattr" and len(node.args) >= 2:
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and arg.value == "status":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} setattr(..., 'status')")
    return found


def _sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_nothing_but_the_transition_service_writes_status():
    offenders = [w for p in _sources() if p != ONLY_WRITER for w in _status_writes(p)]
    assert offenders == [], "Use complaint_transition() to change a status:\n" + "\n".join(
        offenders
    )


def test_the_transition_service_does_write_status():
    """Guards the scan itself: it must see the one real writer."""
    assert _status_writes(ONLY_WRITER)
