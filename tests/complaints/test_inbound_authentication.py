"""Our mail server's Authentication-Results verdicts on a sender (RFC 8601): no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaints.inbound.authentication import (
    CheckResult,
    authserv_id_of,
    sender_check,
    trusted_header,
)

OURS = "mx1.sovision.com"
ALICE = "alice.hughes@example.co.uk"


def check(*values: str, sender: str = ALICE, authserv_id: str = OURS):
    return sender_check(values, authserv_id=authserv_id, from_address=sender)


def test_the_authserv_id_is_read_past_comments_even_when_the_rest_is_broken():
    assert authserv_id_of("mx1.sovision.com; dmarc=pass") == "mx1.sovision.com"
    assert authserv_id_of(" (our MX) mx1.sovision.com 1 (v1); none") == "mx1.sovision.com"
    assert authserv_id_of("mx1.sovision.com;; !!! dmarc") == "mx1.sovision.com"
    assert authserv_id_of("") == authserv_id_of(";") == ""


def test_only_the_topmost_header_with_our_authserv_id_is_trusted():
    values = ["mx.relay.test; dmarc=pass", "MX1.SoVision.com; dmarc=fail", f"{OURS}; dmarc=pass"]
    assert trusted_header(values, authserv_id=OURS) == "MX1.SoVision.com; dmarc=fail"
    assert trusted_header(values, authserv_id="") is None  # not configured: none trusted
    assert trusted_header(values[:1], authserv_id=OURS) is None


def test_no_header_of_ours_means_not_checked():
    result = check("mx.google.com; dmarc=fail header.from=example.co.uk")
    assert not result.checked and not result.held
    assert not check(f"{OURS}; dmarc=fail", authserv_id="").checked


def test_the_verdicts_are_read_with_their_domains():
    result = check(
        f"{OURS} (Postfix);\n\tdkim=pass (2048-bit key) header.d=example.co.uk header.s=s1;"
        f" spf=pass ({OURS}: domain designates 192.0.2.1) smtp.mailfrom={ALICE};"
        " iprev=pass policy.iprev=192.0.2.1; dmarc=pass (p=reject) header.from=Example.co.uk"
    )
    assert result.checked and result.authserv_id == OURS and not result.held
    assert result.results == (
        CheckResult("dkim", "pass", "example.co.uk"),
        CheckResult("spf", "pass", "example.co.uk"),
        CheckResult("dmarc", "pass", "example.co.uk"),
    )


HELD, FILED = True, False


@pytest.mark.parametrize(
    "results, held",
    [
        # DMARC decides when it has a verdict.
        ("dmarc=fail header.from=example.co.uk; spf=pass smtp.mailfrom=example.co.uk", HELD),
        ("DMARC=FAIL (p=none) header.from=example.co.uk; dkim=pass header.d=example.co.uk", HELD),
        ("dmarc=pass header.from=example.co.uk; spf=fail smtp.mailfrom=example.co.uk", FILED),
        ("dmarc=pass; dkim=fail header.d=example.co.uk", FILED),  # no header.from: ours
        ("dmarc=pass header.from=bulk-sender.test", HELD),  # a verdict on someone else
        # No DMARC verdict: an aligned SPF or DKIM pass files it, an aligned failure holds it.
        ("dmarc=none header.from=example.co.uk; spf=fail smtp.mailfrom=example.co.uk", HELD),
        ("dmarc=temperror; spf=softfail smtp.mailfrom=example.co.uk; dkim=none", HELD),
        ("dmarc=permerror; dkim=fail header.d=example.co.uk", HELD),
        ("spf=fail smtp.mailfrom=example.co.uk; dkim=pass header.d=mail.example.co.uk", FILED),
        ("spf=pass smtp.mailfrom=bounces.example.co.uk; dkim=fail header.d=example.co.uk", FILED),
        ("dkim=fail header.i=@example.co.uk; spf=pass smtp.mailfrom=evil.test", HELD),
        ("dkim=fail header.d=example.co.uk; dkim=pass header.d=evil.test", HELD),
        ("spf=fail; dkim=none", HELD),  # no domain named: about the sender
        # Nothing failed for the sender's domain: filed as before the check existed.
        ("spf=fail smtp.mailfrom=evil.test; dkim=none", FILED),
        ("spf=fail smtp.helo=mail.example.co.uk", FILED),  # HELO is not the sender
        ("spf=neutral smtp.mailfrom=example.co.uk; dkim=permerror header.d=example.co.uk", FILED),
        ("spf=none smtp.mailfrom=example.co.uk; dkim=none", FILED),
        ("dmarc=none header.from=example.co.uk", FILED),
        ("none", FILED),
        ("arc=fail; iprev=fail; auth=fail", FILED),
    ],
)
def test_the_verdict_table(results, held):
    assert check(f"{OURS}; {results}").held is held


def test_the_reasons_name_our_server_and_the_sender():
    doubt = f"the message may not be from {ALICE}"
    assert check(f"{OURS}; dmarc=fail header.from=example.co.uk").problem == (
        f"DMARC check failed at {OURS}: {doubt}"
    )
    assert check(f"{OURS}; dmarc=pass header.from=evil.test").problem == (
        f"DMARC passed at {OURS} for evil.test, not for example.co.uk: {doubt}"
    )
    assert check(f"{OURS}; spf=softfail smtp.mailfrom=example.co.uk; dkim=none").problem == (
        f"SPF and DKIM checks failed at {OURS}, with no DMARC verdict (spf=softfail, "
        f"dkim=none): {doubt}"
    )


def test_a_header_of_ours_that_cannot_be_read_holds_the_message():
    result = check(f"{OURS}; dmarc", "mx.relay.test; dmarc=pass")
    assert result.held and result.checked
    assert result.problem.startswith(f"the Authentication-Results header from {OURS} could not")
    assert check(f"{OURS} 2; dmarc=pass").held  # a version we do not know


def test_international_domains_compare_as_a_labels():
    header = f"{OURS}; dmarc=pass header.from=xn--bcher-kva.example"
    assert not check(header, sender="anna@bücher.example").held
    assert check(header.replace("pass", "fail"), sender="anna@bücher.example").held


@given(st.lists(st.text(max_size=200), max_size=4))
def test_any_header_text_gives_an_answer(values):
    values = [f"{OURS}; {value}" for value in values] + values
    result = sender_check(values, authserv_id=OURS, from_address=ALICE)
    assert isinstance(result.problem, str)
