"""The monthly figures behind the compliance dashboard and the yearly return (issue 16 item 6).

One rule, one place: each complaint, notice, ADR referral, remedy and satisfaction answer
*contributes* counts to `MonthlyFigure` rows keyed by (London month, department, channel,
customer type, category, root cause). When one of
them is saved, its contribution before and after the change is computed with the same
functions and the difference is added to the rows (one INSERT ... ON CONFLICT DO UPDATE),
in the same transaction as the change (the model signals connected in
EscalationConfig.ready(), so every service that writes a counted fact is covered: intake,
transitions, responses, enforcement, escalation). `figures_from_scratch()` counts the same
contributions over every stored row (in chunks: bounded memory); `manage.py rebuild_figures`
replaces the table with it, and the tests check that the kept table equals it after
realistic sequences of operations.

What each counter counts (COP ids in escalation.reports.dashboard_figures):
  cohort, by the month the complaint was first made (COP-07): received, acknowledged,
    responded (a first response sent), responded_within_2_working_days (sent by the response
    deadline, COP-12), resolution_measured and resolved_within_10 (COP-14);
  events, by the month they happened: auto_closed (closed as deemed resolved and still
    closed for that reason, COP-10), escalated_to_formal (COP-11), adr_letters_sent (COP-16),
    deadlocks (COP-17), adr_referrals and adr_<decision> (by the referral's month, its
    decision as it stands now, COP-18), adr_remedies_completed (an accepted decision's remedy
    carried out, by the month it was completed), remedies given and not voided with their
    payments in pence (by the month given), satisfaction answers with their scores (by the
    month answered).

A complaint's category and root cause are dimensions as they stand now: recording a root
cause at closing moves everything the complaint counted (its cohort, its letters, referral,
remedies and answer) to that root cause, so "by root cause" always describes the cases as
they are understood today.

The one figure that depends on the moment it is read, "first responses measured" (sent, or
due by now), is `received` less the complaints not answered whose response is not yet due.
Those are kept too, per response deadline (PendingResponse, measure "unanswered", under the
key (month, *dims, response_due_at)): the reports sum the few rows whose deadline is still
ahead instead of counting the complaints. "open" counts, in the cohort, the complaints not
closed: the dashboard's "open now" is its sum over every month.

A new dimension is a key column on MonthlyFigure and an entry in DIMENSIONS (and in
DIMENSION_SOURCES when the complaint's attname differs); a new measure a counter column,
an entry in MEASURES and a line in the contribution function that counts it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from complaints.models import ClosureReason, Complaint, NoticeKind, history_batch_owns
from escalation.models import AdrReferral, MonthlyFigure, PendingResponse

DIMENSIONS: tuple[str, ...] = ("department", "channel", "customer_type", "category", "root_cause")
# Where each dimension comes from on a complaint (its attname), when not a field of that name.
DIMENSION_SOURCES: dict[str, str] = {"category": "category_id", "root_cause": "root_cause_id"}
SOURCES: tuple[str, ...] = tuple(DIMENSION_SOURCES.get(d, d) for d in DIMENSIONS)
SCORES = range(1, 6)
REMEDY_MEASURES: tuple[str, ...] = ("remedies", "remedy_payments", "remedy_pence", "remedies_adr")
SATISFACTION_MEASURES: tuple[str, ...] = (
    "satisfaction_answers",
    "satisfaction_score_total",
    *(f"satisfaction_{n}" for n in SCORES),
)
DECISION_MEASURES: dict[str, str] = {d: f"adr_{d}" for d in AdrReferral.Decision.values}
MEASURES: tuple[str, ...] = (
    "received",
    "acknowledged",
    "responded",
    "responded_within_2_working_days",
    "resolution_measured",
    "resolved_within_10",
    "open",
    "auto_closed",
    "escalated_to_formal",
    "adr_letters_sent",
    "deadlocks",
    "adr_referrals",
    *DECISION_MEASURES.values(),
    "adr_remedies_completed",
    *REMEDY_MEASURES,
    *SATISFACTION_MEASURES,
)
# The complaint's fields its contribution is computed from (attnames).
COMPLAINT_FIELDS: tuple[str, ...] = (
    *SOURCES,
    "first_made_at",
    "acknowledged_at",
    "first_responded_at",
    "response_due_at",
    "resolution_target_met",
    "closure_reason",
    "closed_at",
    "formal_at",
)
# Counted per response deadline as well (PendingResponse), under the key (month, *dims,
# response_due_at): the complaints not answered yet.
PENDING = "unanswered"
PENDING_KEY: tuple[str, ...] = ("month", *DIMENSIONS, "response_due_at")
REFERRAL_FIELDS: tuple[str, ...] = (
    "referred_at",
    "decision",
    "customer_accepted",
    "remedy_completed_at",
)
REMEDY_FIELDS: tuple[str, ...] = ("kind", "amount", "given_at", "voided_at")
SATISFACTION_FIELDS: tuple[str, ...] = ("score", "answered_at")
NOTICE_MEASURES = {NoticeKind.ADR_LETTER: "adr_letters_sent", NoticeKind.DEADLOCK: "deadlocks"}
CHUNK = 5000

# (month, department, channel, customer_type, category, root_cause), and response_due_at
# last for PENDING.
Key = tuple
Delta = Counter  # {(key, measure): n}


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_of(moment: datetime) -> date:
    """The first day of the London calendar month `moment` falls in."""
    return moment.astimezone(_tz()).date().replace(day=1)


# --- Contributions: the one rule ------------------------------------------------------


def dims_of(state: dict, prefix: str = "") -> tuple:
    """The figures' key dimensions of a complaint's `state` (SOURCES -> value); no category
    or root cause is 0."""
    return tuple(
        (state[prefix + source] or 0) if dim in DIMENSION_SOURCES else state[prefix + source]
        for dim, source in zip(DIMENSIONS, SOURCES, strict=True)
    )


def complaint_contribution(state: dict | None) -> Delta:
    """What a complaint in `state` (COMPLAINT_FIELDS -> value) adds to the figures."""
    out: Delta = Counter()
    if not state:
        return out
    dims = dims_of(state)
    cohort = (month_of(state["first_made_at"]), *dims)
    out[cohort, "received"] += 1
    if state["acknowledged_at"] is not None:
        out[cohort, "acknowledged"] += 1
    if state["first_responded_at"] is not None:
        out[cohort, "responded"] += 1
        if state["first_responded_at"] <= state["response_due_at"]:
            out[cohort, "responded_within_2_working_days"] += 1
    else:  # by its deadline: not yet due until then (COP-12)
        out[(*cohort, state["response_due_at"]), PENDING] += 1
    # Open: not closed. closed_at is set exactly when the complaint enters a closed status
    # and cleared when it is reopened (complaints.services.transitions).
    if state["closed_at"] is None:
        out[cohort, "open"] += 1
    if state["resolution_target_met"] is not None:
        out[cohort, "resolution_measured"] += 1
        if state["resolution_target_met"]:
            out[cohort, "resolved_within_10"] += 1
    if state["closure_reason"] == ClosureReason.DEEMED_RESOLVED and state["closed_at"]:
        out[(month_of(state["closed_at"]), *dims), "auto_closed"] += 1
    if state["formal_at"] is not None:
        out[(month_of(state["formal_at"]), *dims), "escalated_to_formal"] += 1
    return out


def notice_contribution(kind: str, created_at: datetime, dims: tuple) -> Delta:
    """An ADR letter or a deadlock letter counts in the month it was written."""
    measure = NOTICE_MEASURES.get(kind)
    return Counter({((month_of(created_at), *dims), measure): 1}) if measure else Counter()


def referral_contribution(state: dict | None, dims: tuple) -> Delta:
    """A referral counts in the month it was made, under its decision as it stands now;
    an accepted decision's remedy counts in the month it was completed."""
    out: Delta = Counter()
    if not state:
        return out
    key = (month_of(state["referred_at"]), *dims)
    out[key, "adr_referrals"] += 1
    out[key, DECISION_MEASURES[state["decision"]]] += 1
    if state["customer_accepted"] and state["remedy_completed_at"] is not None:
        out[(month_of(state["remedy_completed_at"]), *dims), "adr_remedies_completed"] += 1
    return out


def remedy_contribution(state: dict | None, dims: tuple) -> Delta:
    """A remedy counts in the month it was given, while it is not voided; a payment also
    counts its amount in pence (issue 16 item 3). An accepted ADR remedy is a remedy too."""
    from complaints.models import RemedyKind

    out: Delta = Counter()
    if not state or state["voided_at"] is not None:
        return out
    key = (month_of(state["given_at"]), *dims)
    out[key, "remedies"] += 1
    if state["amount"] is not None:
        out[key, "remedy_payments"] += 1
        out[key, "remedy_pence"] += int(Decimal(str(state["amount"])) * 100)
    if state["kind"] == RemedyKind.ADR:
        out[key, "remedies_adr"] += 1
    return out


def satisfaction_contribution(state: dict | None, dims: tuple) -> Delta:
    """An answer counts in the month it was given: one answer, its score, and that score."""
    out: Delta = Counter()
    if not state:
        return out
    key = (month_of(state["answered_at"]), *dims)
    out[key, "satisfaction_answers"] += 1
    out[key, "satisfaction_score_total"] += state["score"]
    out[key, f"satisfaction_{state['score']}"] += 1
    return out


def _difference(after: Delta, before: Delta) -> Delta:
    delta = Counter(after)
    delta.subtract(before)
    return Counter({k: n for k, n in delta.items() if n})


# --- Applying a difference ------------------------------------------------------------


def figures_apply(delta: Delta) -> None:
    """Add `delta` to the stored rows, in one statement for every row touched.

    Inside complaints.transactions.whole_transaction() (the portal's filing) the
    differences are added up and written once at its end, still inside it: a complaint's
    "received" on its INSERT and its "acknowledged" a moment later are one increment of
    the same row, not two.
    """
    from complaints.transactions import at_end

    pending = at_end("escalation.figures", Counter, _figures_write)
    if pending is None:
        _figures_write(delta)
    else:
        pending.update(delta)  # Counter.update adds (negative differences too)


def _figures_write(delta: Delta) -> None:
    """INSERT ... ON CONFLICT (the month's key) DO UPDATE SET measure = measure + n.

    One statement on SQLite (3.24 and later) and PostgreSQL: a row missing is created with
    the difference, one present is incremented, and two transactions creating the same
    month's row do not fail (the second waits on the unique key, then increments). Rows in
    key order, as before, so two transactions touching the same rows take them in the same
    order. Django's bulk_create(update_conflicts=True) sets a column to the new value; it
    cannot add to it. The monthly rows first, then the pending responses (one statement
    each): every transaction takes its rows in one order.
    """
    tables = {MonthlyFigure: {}, PendingResponse: {}}
    for (key, measure), n in delta.items():
        if n:
            by_key = tables[PendingResponse if measure == PENDING else MonthlyFigure]
            by_key.setdefault(key, {})[measure] = by_key.get(key, {}).get(measure, 0) + n
    for model, by_key in tables.items():
        _upsert(model, by_key)


def _upsert(model, by_key: dict[Key, dict[str, int]]) -> None:
    """One INSERT ... ON CONFLICT DO UPDATE adding `by_key`'s changes to `model`'s rows."""
    by_key = {key: changes for key, changes in by_key.items() if any(changes.values())}
    if not by_key:
        return
    names = PENDING_KEY if model is PendingResponse else ("month", *DIMENSIONS)
    counters = (PENDING,) if model is PendingResponse else MEASURES
    measures = sorted({m for changes in by_key.values() for m in changes})
    columns = (*names, *counters)
    fields = [model._meta.get_field(c) for c in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = [connection.ops.quote_name(f.column) for f in fields]
    keys = ", ".join(quoted[: len(names)])
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{q} = {table}.{q} + EXCLUDED.{q}"
        for c, q in zip(columns, quoted, strict=True)
        if c in measures
    )
    params: list = []
    for key, changes in sorted(by_key.items()):
        values = [*key, *(changes.get(m, 0) for m in counters)]
        params.extend(
            f.get_db_prep_value(v, connection) for f, v in zip(fields, values, strict=True)
        )
    # Only our table's and columns' quoted names are formatted in; the values are parameters.
    into, values = ", ".join(quoted), ", ".join([row] * len(by_key))
    conflict = f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"  # nosec B608
    sql = f"INSERT INTO {table} ({into}) VALUES {values} {conflict}"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Keeping the figures up to date (signal receivers) --------------------------------


def _loaded(instance, fields: Iterable[str], update_fields) -> dict:
    """The values of `fields` (attnames) the save will write (loaded on the instance, not
    deferred). A foreign key's save may name the field ("category") or its attname."""
    named = None if update_fields is None else set(update_fields)
    return {
        f: instance.__dict__[f]
        for f in fields
        if f in instance.__dict__
        and (named is None or f in named or f.removesuffix("_id") in named)
    }


def _complaint_dims(complaint_id: int) -> tuple:
    """The complaint's dimensions as stored, read from its row: never from an instance a
    caller holds, which may predate a root cause or category recorded since (one query,
    for the few rows that count against a complaint: letters, referrals, remedies, answers).
    """
    return dims_of(Complaint.objects.filter(pk=complaint_id).values(*SOURCES).get())


def _attached_contribution(complaint_id: int, dims: tuple) -> Delta:
    """What a complaint's ADR letters, deadlock letters, referral, remedies and satisfaction
    answer add under `dims` (moved when the complaint's dimensions change)."""
    from complaints.models import Notice, Remedy, SatisfactionResponse

    out: Delta = Counter()
    notices = Notice.objects.filter(complaint_id=complaint_id, kind__in=list(NOTICE_MEASURES))
    for kind, created_at in notices.values_list("kind", "created_at"):
        out.update(notice_contribution(kind, created_at, dims))
    referral = AdrReferral.objects.filter(complaint_id=complaint_id).values(*REFERRAL_FIELDS)
    for state in referral:
        out.update(referral_contribution(state, dims))
    for state in Remedy.objects.filter(complaint_id=complaint_id).values(*REMEDY_FIELDS):
        out.update(remedy_contribution(state, dims))
    answers = SatisfactionResponse.objects.filter(complaint_id=complaint_id)
    for state in answers.values(*SATISFACTION_FIELDS):
        out.update(satisfaction_contribution(state, dims))
    return out


def _customer_type(complaint: Complaint) -> str | None:
    """The type of the complaint's customer, from the cached customer when it is loaded."""
    from accounts.models import Customer

    cached = complaint._state.fields_cache.get("customer")
    if cached is not None and cached.pk == complaint.customer_id:
        return cached.customer_type
    return (
        Customer.objects.filter(pk=complaint.customer_id)
        .values_list("customer_type", flat=True)
        .first()
    )


def complaint_snapshot(sender, instance, **kwargs) -> None:
    """post_init: remember the counted fields as loaded (no query; deferred ones skipped)."""
    instance._figures_loaded = _loaded(instance, (*COMPLAINT_FIELDS, "customer_id"), None)


def complaint_before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """pre_save: read the row as stored when a counted field is about to change.

    The instance's own memory of what it loaded is not trusted as the "before" (services copy
    a locked row's values onto the caller's instance); the row is read, once, only when the
    save writes a counted value different from the one loaded. A complaint moved to another
    customer takes that customer's type.
    """
    instance._figures_before = None
    if raw:
        return
    loaded = getattr(instance, "_figures_loaded", {})
    if "customer_id" in instance.__dict__ and (
        instance._state.adding or instance.customer_id != loaded.get("customer_id")
    ):
        if update_fields is None or {"customer", "customer_id"} & set(update_fields):
            instance.customer_type = _customer_type(instance) or instance.customer_type
    if instance._state.adding:
        return
    writing = _loaded(instance, COMPLAINT_FIELDS, update_fields)
    if all(f in loaded and loaded[f] == v for f, v in writing.items()):
        instance._figures_before = "unchanged"
        return
    if history_batch_owns(instance) and all(f in loaded for f in COMPLAINT_FIELDS):
        # Created in this transaction and saved only through this very instance (the
        # filing's HistoryBatch): what it last wrote is the row as stored.
        instance._figures_before = {f: loaded[f] for f in COMPLAINT_FIELDS}
        return
    instance._figures_before = (
        Complaint.objects.filter(pk=instance.pk).values(*COMPLAINT_FIELDS).first()
    )


def complaint_after_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """post_save: add the difference the save made to the figures (same transaction)."""
    if raw:
        return
    before = getattr(instance, "_figures_before", None)
    instance._figures_before = None
    if before == "unchanged":
        return
    writing = _loaded(instance, COMPLAINT_FIELDS, update_fields)
    if created:
        before, after = None, writing
    else:
        if before is None:  # not found: nothing was counted for it
            before = {}
        after = {**before, **writing}
    if len(after) < len(COMPLAINT_FIELDS):  # a new row saved with fields deferred
        after = Complaint.objects.filter(pk=instance.pk).values(*COMPLAINT_FIELDS).get()
    delta = _difference(complaint_contribution(after), complaint_contribution(before or None))
    if before and dims_of(before) != dims_of(after):
        old, new = dims_of(before), dims_of(after)
        delta.update(
            _difference(
                _attached_contribution(instance.pk, new), _attached_contribution(instance.pk, old)
            )
        )
    figures_apply(delta)
    instance._figures_loaded = {**getattr(instance, "_figures_loaded", {}), **after}
    if "customer_id" in instance.__dict__:
        instance._figures_loaded["customer_id"] = instance.customer_id


def notice_after_save(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save: a new ADR letter or deadlock letter counts (notices are not changed)."""
    if raw or not created or instance.kind not in NOTICE_MEASURES:
        return
    dims = _complaint_dims(instance.complaint_id)
    figures_apply(notice_contribution(instance.kind, instance.created_at, dims))


class AttachedRows:
    """The receivers for a kind of row that counts against its complaint (an ADR referral,
    a remedy): remember the counted fields as loaded, read the row as stored only when a
    save changes one, and apply the difference of `contribution` before and after, under
    the complaint's dimensions as stored. One set of rules for every such kind of row."""

    def __init__(self, model, fields: tuple[str, ...], contribution):
        self.model, self.fields, self.contribution = model, fields, contribution

    def snapshot(self, sender, instance, **kwargs) -> None:
        """post_init: no query; deferred fields skipped."""
        instance._figures_loaded = _loaded(instance, self.fields, None)

    def before_save(self, sender, instance, raw=False, update_fields=None, **kwargs) -> None:
        instance._figures_before = None
        if raw or instance._state.adding:
            return
        loaded = getattr(instance, "_figures_loaded", {})
        writing = _loaded(instance, self.fields, update_fields)
        if all(f in loaded and loaded[f] == v for f, v in writing.items()):
            instance._figures_before = "unchanged"
            return
        stored = self.model.objects.filter(pk=instance.pk).values(*self.fields)
        instance._figures_before = stored.first()

    def after_save(self, sender, instance, created, raw=False, update_fields=None, **kwargs):
        """post_save: add the difference the save made (same transaction)."""
        if raw:
            return
        before = getattr(instance, "_figures_before", None)
        instance._figures_before = None
        if before == "unchanged":
            return
        writing = _loaded(instance, self.fields, update_fields)
        after = writing if created else {**(before or {}), **writing}
        if len(after) < len(self.fields):
            after = self.model.objects.filter(pk=instance.pk).values(*self.fields).get()
        dims = _complaint_dims(instance.complaint_id)
        figures_apply(
            _difference(
                self.contribution(after, dims),
                self.contribution(None if created else before, dims),
            )
        )
        instance._figures_loaded = {**getattr(instance, "_figures_loaded", {}), **after}

    def connect(self, uid: str) -> None:
        from django.db.models.signals import post_init, post_save, pre_save

        # weak=False: the signals would otherwise hold these bound methods weakly, and a
        # receiver set nobody else refers to would be disconnected without a word.
        for signal, receiver, n in (
            (post_init, self.snapshot, "0"),
            (pre_save, self.before_save, "1"),
            (post_save, self.after_save, "2"),
        ):
            signal.connect(receiver, sender=self.model, dispatch_uid=uid + n, weak=False)


def satisfaction_after_save(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save: a new answer counts (an answer's score never changes; only its comment
    may be blanked, which counts for nothing)."""
    if raw or not created:
        return
    dims = _complaint_dims(instance.complaint_id)
    state = {"score": instance.score, "answered_at": instance.answered_at}
    figures_apply(satisfaction_contribution(state, dims))


def customer_snapshot(sender, instance, **kwargs) -> None:
    instance._figures_type = instance.__dict__.get("customer_type")


def customer_after_save(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save: a customer's new type moves their complaints' figures to it."""
    if raw or created or "customer_type" not in instance.__dict__:
        return
    if instance.customer_type == getattr(instance, "_figures_type", None):
        return
    instance._figures_type = instance.customer_type
    complaints = Complaint.objects.filter(customer_id=instance.pk).exclude(
        customer_type=instance.customer_type
    )
    for complaint in complaints.only("pk", *COMPLAINT_FIELDS).iterator(chunk_size=CHUNK):
        complaint.customer_type = instance.customer_type
        complaint.save(update_fields=["customer_type"])  # the receivers above move the figures


def receivers_connect() -> None:
    """Connect the receivers (EscalationConfig.ready())."""
    from django.db.models.signals import post_init, post_save, pre_save

    from accounts.models import Customer
    from complaints.models import Notice, Remedy, SatisfactionResponse

    uid = "escalation.figures."
    post_init.connect(complaint_snapshot, sender=Complaint, dispatch_uid=uid + "c0")
    pre_save.connect(complaint_before_save, sender=Complaint, dispatch_uid=uid + "c1")
    post_save.connect(complaint_after_save, sender=Complaint, dispatch_uid=uid + "c2")
    post_save.connect(notice_after_save, sender=Notice, dispatch_uid=uid + "n2")
    AttachedRows(AdrReferral, REFERRAL_FIELDS, referral_contribution).connect(uid + "r")
    AttachedRows(Remedy, REMEDY_FIELDS, remedy_contribution).connect(uid + "m")
    post_init.connect(customer_snapshot, sender=Customer, dispatch_uid=uid + "u0")
    post_save.connect(customer_after_save, sender=Customer, dispatch_uid=uid + "u2")
    post_save.connect(satisfaction_after_save, sender=SatisfactionResponse, dispatch_uid=uid + "s2")


# --- From scratch ---------------------------------------------------------------------


def _chunks(queryset, fields: tuple[str, ...]) -> Iterator[dict]:
    """Rows of `queryset` as dicts, by primary key in chunks (bounded memory, any database)."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values("pk", *fields)[:CHUNK])
        if not rows:
            return
        yield from rows
        last = rows[-1]["pk"]


def figures_from_scratch() -> Delta:
    """Count every stored complaint, notice, referral, remedy and satisfaction answer afresh
    with the contribution rules."""
    from complaints.models import Notice, Remedy, SatisfactionResponse

    total: Delta = Counter()
    for row in _chunks(Complaint.objects.all(), COMPLAINT_FIELDS):
        total.update(complaint_contribution(row))
    via = "complaint__"
    dims = tuple(via + source for source in SOURCES)
    notices = Notice.objects.filter(kind__in=list(NOTICE_MEASURES))
    for row in _chunks(notices, ("kind", "created_at", *dims)):
        total.update(notice_contribution(row["kind"], row["created_at"], dims_of(row, via)))
    for row in _chunks(AdrReferral.objects.all(), (*REFERRAL_FIELDS, *dims)):
        total.update(referral_contribution(row, dims_of(row, via)))
    for row in _chunks(Remedy.objects.all(), (*REMEDY_FIELDS, *dims)):
        total.update(remedy_contribution(row, dims_of(row, via)))
    for row in _chunks(SatisfactionResponse.objects.all(), (*SATISFACTION_FIELDS, *dims)):
        total.update(satisfaction_contribution(row, dims_of(row, via)))
    return Counter({k: n for k, n in total.items() if n})


def figures_stored() -> Delta:
    """The stored tables as the same shape, for comparing with figures_from_scratch()."""
    out: Delta = Counter()
    for row in MonthlyFigure.objects.values("month", *DIMENSIONS, *MEASURES):
        key = (row["month"], *(row[d] for d in DIMENSIONS))
        for measure in MEASURES:
            if row[measure]:
                out[key, measure] = row[measure]
    for row in PendingResponse.objects.filter(**{f"{PENDING}__gt": 0}).values(
        *PENDING_KEY, PENDING
    ):
        out[tuple(row[k] for k in PENDING_KEY), PENDING] = row[PENDING]
    return out


def customer_types_sync() -> int:
    """Set every complaint's customer type to its customer's; return how many changed."""
    from django.db.models import OuterRef, Subquery

    from accounts.models import Customer

    current = Customer.objects.filter(pk=OuterRef("customer_id")).values("customer_type")[:1]
    return Complaint.objects.exclude(customer_type=Subquery(current)).update(
        customer_type=Subquery(current)
    )


@transaction.atomic
def figures_rebuild() -> int:
    """Replace the stored figures with a count from scratch; return the rows written.

    Also puts right any complaint whose copied customer type differs from its customer's.
    Run it when nothing else writes (after a restore, a bulk load or a change of rule): the
    table is replaced in one transaction.
    """
    customer_types_sync()
    rows: dict[Key, dict[str, int]] = {}
    pending: dict[Key, int] = {}
    for (key, measure), n in figures_from_scratch().items():
        if measure == PENDING:
            pending[key] = n
        else:
            rows.setdefault(key, {})[measure] = n
    MonthlyFigure.objects.all().delete()
    MonthlyFigure.objects.bulk_create(
        [
            MonthlyFigure(**dict(zip(("month", *DIMENSIONS), key, strict=True)), **counts)
            for key, counts in sorted(rows.items())
        ],
        batch_size=500,
    )
    PendingResponse.objects.all().delete()
    PendingResponse.objects.bulk_create(
        [
            PendingResponse(**dict(zip(PENDING_KEY, key, strict=True)), unanswered=n)
            for key, n in sorted(pending.items())
        ],
        batch_size=500,
    )
    return len(rows)


# Migrations that create or reshape the figures table. When `migrate` applies one, the
# table is counted from scratch straight after, so an upgrade of a database that already
# holds complaints never shows a dashboard of zeros (and nobody has to remember a command).
FIGURES_MIGRATIONS = frozenset(
    {
        ("escalation", "0005_monthly_figures"),
        ("escalation", "0006_figures_by_cause"),
        ("escalation", "0007_open_and_pending_responses"),
    }
)


def figures_after_migrate(sender, plan=None, verbosity=1, stdout=None, **kwargs) -> None:
    """post_migrate: rebuild the figures if this run applied a figures migration forwards."""
    applied = {
        (migration.app_label, migration.name)
        for migration, backwards in plan or ()
        if not backwards
    }
    if not applied & FIGURES_MIGRATIONS or not Complaint.objects.exists():
        return
    rows = figures_rebuild()
    if verbosity and stdout is not None:
        stdout.write(f"  Counted the monthly figures from scratch: {rows} rows.\n")
