"""Steps the browser journeys share."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from tests.accounts.factories import DEMO_PASSWORD


def staff_sign_in(page, user) -> None:
    """Sign in on the staff desk's login page as a person would."""
    page.goto(reverse("admin:login"))
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()


def rows_aligned(page, selector: str) -> list[str]:
    """Return the label/value rows of `selector` whose value is not beside (or, on a narrow
    screen, right under) its own label: each row's dt and dd must sit within that row."""
    rows = page.locator(f"{selector} > div").all()
    assert rows, f"no label/value rows in {selector}"
    wrong = []
    for row in rows:
        box, dt, dd = (
            row.bounding_box(),
            row.locator("dt").bounding_box(),
            row.locator("dd").bounding_box(),
        )
        label = row.locator("dt").inner_text()
        inside = all(
            part["y"] >= box["y"] - 1 and part["y"] + part["height"] <= box["y"] + box["height"] + 1
            for part in (dt, dd)
        )
        beside = abs(dt["y"] - dd["y"]) < dt["height"] / 2  # on the same line
        under = dd["y"] >= dt["y"] + dt["height"] - 1
        if not inside or not (beside or under):
            wrong.append(f"{label}: row {box}, label {dt}, value {dd}")
    return wrong
