"""Read our mail server's SPF, DKIM and DMARC verdicts on a message (RFC 8601, RFC 7489).

Pure Python (the `authres` parser); no database and no settings: the caller names the
authserv-id its own receiving server writes. Only the topmost Authentication-Results
header with that authserv-id is read. Our server prepends its header above every header
that came with the message, so a forged header claiming our authserv-id lower down is
never believed; headers of any other authserv-id say nothing. RFC 8601 section 5 asks the
server to remove incoming headers with its own authserv-id, which is still needed: a
message our server did not check at all would otherwise be judged by a forged header.

What the trusted header decides about the From address ("aligned" below: the checked
domain is the From domain, or one is a subdomain of the other; a result that names no
domain counts as aligned):

| DMARC result                                   | SPF (mail from) and DKIM     | outcome   |
|------------------------------------------------|------------------------------|-----------|
| fail                                           | anything                     | held      |
| pass, for the From domain (or no header.from)  | anything                     | accepted  |
| pass, for another domain                       | anything                     | held      |
| none, neutral, temperror, permerror or absent  | an aligned pass              | accepted  |
| none, neutral, temperror, permerror or absent  | no aligned pass, and an      | held      |
|                                                | aligned spf fail or softfail |           |
|                                                | or dkim fail                 |           |
| none, neutral, temperror, permerror or absent  | no aligned pass or failure   | accepted  |

No trusted header: not checked (accepted, as before the check existed). A trusted header
that cannot be read: held. A pass for some unrelated domain says nothing about the From
address, so it never outweighs a failure of the From domain's own checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import authres

SPF_FAILED = frozenset({"fail", "softfail"})
DKIM_FAILED = frozenset({"fail"})
# authserv-id is the first token, after any comments (RFC 8601 section 2.2).
_AUTHSERV_ID_RE = re.compile(r"^\s*(?:\([^()]*\)\s*)*([^\s;()]+)")


@dataclass(frozen=True)
class CheckResult:
    """One method's verdict in the header: `spf=fail smtp.mailfrom=example.com` and so on."""

    method: str
    result: str
    domain: str = ""  # the domain the method checked; "" when the header does not say

    def __str__(self) -> str:
        return f"{self.method}={self.result}"


@dataclass(frozen=True)
class SenderCheck:
    """What our server's Authentication-Results header says about a message's From address."""

    authserv_id: str = ""  # "" when the message has no header from our server
    results: tuple[CheckResult, ...] = ()
    problem: str = ""  # why the message must wait for staff; "" when it may be filed

    @property
    def checked(self) -> bool:
        return bool(self.authserv_id)

    @property
    def held(self) -> bool:
        return bool(self.problem)


def authserv_id_of(value: str) -> str:
    """Return the authserv-id of one Authentication-Results value, even if the rest is broken."""
    match = _AUTHSERV_ID_RE.match(value or "")
    return match.group(1) if match else ""


def trusted_header(values: Sequence[str], *, authserv_id: str) -> str | None:
    """Return the topmost Authentication-Results value written by `authserv_id`, or None."""
    wanted = authserv_id.strip().lower()
    if not wanted:
        return None
    for value in values:
        if authserv_id_of(value).lower() == wanted:
            return value
    return None


def _domain(value: str) -> str:
    """Return the domain of an address or domain, lower case, as an A-label where possible."""
    domain = (value or "").strip().strip('"').rsplit("@", 1)[-1].strip().strip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _aligned(checked: str, from_domain: str) -> bool:
    """Return whether a checked domain speaks for the From domain (relaxed, without the PSL)."""
    if not checked:
        return True
    return (
        checked == from_domain
        or from_domain.endswith("." + checked)
        or checked.endswith("." + from_domain)
    )


def _result(result) -> CheckResult | None:
    """Return our reading of one authres result, or None for those the check ignores."""
    method = str(result.method or "").lower()
    props = {(p.type.lower(), p.name.lower()): str(p.value) for p in result.properties or ()}
    if method == "dmarc":
        domain = props.get(("header", "from"), "")
    elif method == "spf":
        if ("smtp", "mailfrom") not in props and ("smtp", "helo") in props:
            return None  # the HELO name is not the sender's domain (RFC 7489 section 3.1.2)
        domain = props.get(("smtp", "mailfrom"), "")
    elif method == "dkim":
        domain = props.get(("header", "d"), "") or props.get(("header", "i"), "")
    else:
        return None
    return CheckResult(method, str(result.result or "").lower(), _domain(domain))


def _problem(results: Sequence[CheckResult], *, authserv_id: str, from_address: str) -> str:
    """Return why the verdicts hold the message (the table in this module's docstring)."""
    sender = from_address or "its sender"
    doubt = f"the message may not be from {sender}"
    from_domain = _domain(from_address)
    dmarc = [r for r in results if r.method == "dmarc"]
    if any(r.result == "fail" for r in dmarc):
        return f"DMARC check failed at {authserv_id}: {doubt}"
    passes = [r for r in dmarc if r.result == "pass"]
    if passes:
        if any(r.domain in ("", from_domain) for r in passes):
            return ""
        return (
            f"DMARC passed at {authserv_id} for {passes[0].domain}, not for "
            f"{from_domain or 'the From address'}: {doubt}"
        )
    own = [r for r in results if r.method in ("spf", "dkim") and _aligned(r.domain, from_domain)]
    if any(r.result == "pass" for r in own):
        return ""
    failed = [
        r
        for r in own
        if (r.method == "spf" and r.result in SPF_FAILED)
        or (r.method == "dkim" and r.result in DKIM_FAILED)
    ]
    if not failed:
        return ""
    shown = ", ".join(str(r) for r in own)
    return f"SPF and DKIM checks failed at {authserv_id}, with no DMARC verdict ({shown}): {doubt}"


def sender_check(values: Sequence[str], *, authserv_id: str, from_address: str) -> SenderCheck:
    """Judge a message's From address by our server's Authentication-Results header.

    `values` are the message's Authentication-Results values, unfolded, top first.
    """
    value = trusted_header(values, authserv_id=authserv_id)
    if value is None:
        return SenderCheck()
    found = authserv_id_of(value)
    try:
        header = authres.all_features().parse_value(value)
    except authres.core.AuthResError as exc:
        return SenderCheck(
            authserv_id=found,
            problem=f"the Authentication-Results header from {found} could not be read "
            f"({exc}): the message may not be from {from_address or 'its sender'}",
        )
    results = tuple(r for r in map(_result, header.results) if r is not None)
    return SenderCheck(
        authserv_id=found,
        results=results,
        problem=_problem(results, authserv_id=found, from_address=from_address),
    )
