"""Bundles: ZIPs of documents about one complaint or one customer, built in the background.

A bundle is requested (bundle_request), queued for a worker on commit, built by the
builder registered for its kind (bundle_build) and kept, with its SHA-256, in the same
private storage as attachments. Each kind registers its builder, who may see it and what
its history says, once, at start-up:

    register_builder(BundleKind.SUBJECT_ACCESS, build_sar, can_view=..., on_event=...,
                     filename=...)

A builder is called as ``builder(bundle, zip_file, progress)``: it writes its entries to
the open ``zipfile.ZipFile`` and calls ``progress(done, total)`` as it goes (the staff
progress page shows it). Anything it raises fails the bundle with that reason; the half
written ZIP is thrown away.

Safe to run twice, or late: one bundle waits or is built per subject and kind at a time
(a database constraint); a build claims its bundle under a row lock, so a second worker
finds it claimed and does nothing; a claim left by a worker that died is taken over once
the task's hard time limit has passed (the dead worker cannot still be writing); the
sweep (bundles_sweep, on beat) builds anything left queued, e.g. while the broker was down.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.dispatch import Signal
from django.utils import timezone

from complaints.models import (
    BUNDLE_ACTIVE_STATES,
    Bundle,
    BundleKind,
    BundleState,
    CaseEvent,
    Complaint,
)

logger = logging.getLogger(__name__)

# Sent on commit with bundle_id when a bundle is queued: complaints.tasks builds it.
bundle_queued = Signal()

Progress = Callable[[int, int], None]
Builder = Callable[[Bundle, zipfile.ZipFile, Progress], None]

# The events a kind's on_event hears, with the actor (None: the system).
REQUESTED, READY, FAILED, DOWNLOADED = "requested", "ready", "failed", "downloaded"


@dataclass(frozen=True)
class BundleType:
    """What the registry knows of one kind of bundle."""

    kind: str
    build: Builder | None
    can_view: Callable[[object, Bundle], bool]
    on_event: Callable[[Bundle, str, object], None]
    filename: Callable[[Bundle], str]


_REGISTRY: dict[str, BundleType] = {}


def can_view_default(user, bundle: Bundle) -> bool:
    """Staff who may see the subject's files: the complaint's desk rules, or managers."""
    from complaints.selectors import complaints_visible_to

    if not (user.is_active and user.is_staff and user.has_perm("complaints.view_attachment")):
        return False
    if bundle.complaint_id:
        return complaints_visible_to(user).filter(pk=bundle.complaint_id).exists()
    return user.is_superuser or user.has_perm("complaints.view_all_departments")


def _event_words(bundle: Bundle, event: str) -> str:
    label = f"{BundleKind(bundle.kind).label}, version {bundle.version}"
    if event == REQUESTED:
        return f"{label}: requested."
    if event == READY:
        return f"{label}: ready ({bundle.size} bytes, SHA-256 {bundle.sha256})."
    if event == FAILED:
        return f"{label}: failed: {bundle.error}"
    return f"{label}: downloaded."


def on_event_default(bundle: Bundle, event: str, actor) -> None:
    """Write the event in the complaint's history, when the bundle is about a complaint."""
    if not bundle.complaint_id:
        return
    CaseEvent.objects.record(
        complaint=bundle.complaint,
        kind=CaseEvent.Kind.BUNDLE,
        actor=actor,
        reason=_event_words(bundle, event),
        extra={
            "bundle_id": bundle.pk,
            "bundle_kind": bundle.kind,
            "version": bundle.version,
            "event": event,
            **({"sha256": bundle.sha256, "size": bundle.size} if event == READY else {}),
        },
    )


def _filename_default(bundle: Bundle) -> str:
    subject = (
        bundle.complaint.reference if bundle.complaint_id else f"customer-{bundle.customer_id}"
    )
    return f"{subject}-{bundle.kind.replace('_', '-')}-v{bundle.version}.zip"


def register_builder(
    kind: str,
    fn: Builder,
    *,
    can_view: Callable[[object, Bundle], bool] | None = None,
    on_event: Callable[[Bundle, str, object], None] | None = None,
    filename: Callable[[Bundle], str] | None = None,
) -> None:
    """Register the builder of one kind (from an AppConfig.ready; again replaces it)."""
    _REGISTRY[str(kind)] = BundleType(
        kind=str(kind),
        build=fn,
        can_view=can_view or can_view_default,
        on_event=on_event or on_event_default,
        filename=filename or _filename_default,
    )


def bundle_type(kind: str) -> BundleType:
    """Return what is registered for `kind`; the default rules, and no builder, if nothing is."""
    registered = _REGISTRY.get(str(kind))
    if registered is not None:
        return registered
    return BundleType(
        kind=str(kind),
        build=None,
        can_view=can_view_default,
        on_event=on_event_default,
        filename=_filename_default,
    )


def bundle_can_view(user, bundle: Bundle) -> bool:
    """Whether `user` may see (and download) `bundle`: the rule of its kind."""
    return bool(user.is_authenticated) and bundle_type(bundle.kind).can_view(user, bundle)


def bundle_filename(bundle: Bundle) -> str:
    """The name a downloaded bundle is saved under."""
    return bundle_type(bundle.kind).filename(bundle)


def bundles_of(*, kind: str, complaint: Complaint | None = None, customer=None):
    """Every version of one subject's bundles of `kind`, newest first (indexed)."""
    if complaint is not None:
        rows = Bundle.objects.filter(kind=kind, complaint=complaint)
    else:
        rows = Bundle.objects.filter(kind=kind, customer=customer, complaint__isnull=True)
    return rows.select_related("requested_by").order_by("-version")


def _active(kind: str, complaint, customer) -> Bundle | None:
    return (
        bundles_of(kind=kind, complaint=complaint, customer=customer)
        .filter(state__in=BUNDLE_ACTIVE_STATES)
        .first()
    )


def _queue_on_commit(bundle_id: int) -> None:
    transaction.on_commit(
        lambda: bundle_queued.send(sender=Bundle, bundle_id=bundle_id), robust=True
    )


def bundle_request(
    *, kind: str, actor, complaint: Complaint | None = None, customer=None
) -> Bundle:
    """Queue a new version of a bundle of `kind` about a complaint or a customer.

    Idempotent: while one is queued or being built for the same subject and kind, that one
    is returned and nothing new is made. Once it is ready (or failed), a request makes the
    next version; earlier versions are kept.
    """
    registered = bundle_type(kind)
    if registered.build is None:
        raise KeyError(f"No builder is registered for bundles of kind {str(kind)!r}.")
    if (complaint is None) == (customer is None):
        raise ValueError("A bundle is about one complaint or one customer.")
    with transaction.atomic():
        # One request at a time per subject: lock its row (the constraint is the backstop).
        if complaint is not None:
            complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
        else:
            customer = type(customer).objects.select_for_update().get(pk=customer.pk)
        existing = _active(kind, complaint, customer)
        if existing is not None:
            return existing
        last = (
            bundles_of(kind=kind, complaint=complaint, customer=customer).aggregate(
                last=Max("version")
            )["last"]
            or 0
        )
        try:
            with transaction.atomic():
                bundle = Bundle.objects.create(
                    kind=kind,
                    complaint=complaint,
                    customer=customer if complaint is None else complaint.customer,
                    version=last + 1,
                    requested_by=actor,
                )
        except IntegrityError:
            existing = _active(kind, complaint, customer)
            if existing is None:
                raise
            return existing
        registered.on_event(bundle, REQUESTED, actor)
        _queue_on_commit(bundle.pk)
    return bundle


def _lease() -> timedelta:
    """How long a claim stands: a worker past the task's hard time limit has been killed."""
    return timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 300)) + 60)


def _claim(bundle_id: int, now: datetime) -> Bundle | None:
    """Mark the bundle as being built by us, or return None if it is not ours to build."""
    with transaction.atomic():
        bundle = (
            Bundle.objects.select_for_update(of=("self",))
            .select_related("complaint", "customer", "requested_by")
            .filter(pk=bundle_id)
            .first()
        )
        if bundle is None:
            return None
        if bundle.state == BundleState.BUILDING and bundle.started_at + _lease() > now:
            return None  # another worker is on it
        if bundle.state not in BUNDLE_ACTIVE_STATES:
            return None  # ready or failed already: building again changes nothing
        bundle.state = BundleState.BUILDING
        bundle.started_at = now
        bundle.progress_done = 0
        bundle.save(update_fields=["state", "started_at", "progress_done"])
    return bundle


def _progress_writer(bundle: Bundle) -> Progress:
    last = {"done": -1, "total": -1}

    def progress(done: int, total: int) -> None:
        done, total = max(0, int(done)), max(0, int(total))
        if (done, total) == (last["done"], last["total"]):
            return
        last.update(done=done, total=total)
        Bundle.objects.filter(
            pk=bundle.pk, state=BundleState.BUILDING, started_at=bundle.started_at
        ).update(progress_done=done, progress_total=total)
        bundle.progress_done, bundle.progress_total = done, total

    return progress


def _fail(bundle: Bundle, started_at: datetime, reason: str) -> Bundle:
    with transaction.atomic():
        updated = Bundle.objects.filter(
            pk=bundle.pk, state=BundleState.BUILDING, started_at=started_at
        ).update(state=BundleState.FAILED, error=reason[:2000], finished_at=timezone.now())
        bundle.refresh_from_db()
        if updated:
            bundle_type(bundle.kind).on_event(bundle, FAILED, None)
    return bundle


def bundle_build(bundle_id: int, *, now: datetime | None = None) -> Bundle | None:
    """Build a queued bundle into its ZIP; return it as it then stands (None if unknown).

    Safe to run twice: a bundle that is ready, failed or being built by another worker is
    returned as it is. An error leaves it failed with the reason and no file.
    """
    bundle = _claim(bundle_id, now or timezone.now())
    if bundle is None:
        return Bundle.objects.filter(pk=bundle_id).first()
    started_at = bundle.started_at
    registered = bundle_type(bundle.kind)
    if registered.build is None:  # e.g. the app that builds this kind is not installed
        return _fail(bundle, started_at, f"No builder is registered for {bundle.kind!r}.")
    handle, temp_path = tempfile.mkstemp(prefix="bundle-", suffix=".zip")
    stored_name = ""
    try:
        with os.fdopen(handle, "w+b") as temp:
            with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                registered.build(bundle, archive, _progress_writer(bundle))
            temp.flush()
            size = temp.tell()
            temp.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: temp.read(1 << 20), b""):
                digest.update(block)
            temp.seek(0)
            bundle.file.save("bundle.zip", File(temp), save=False)
            stored_name = bundle.file.name
        with transaction.atomic():
            updated = Bundle.objects.filter(
                pk=bundle.pk, state=BundleState.BUILDING, started_at=started_at
            ).update(
                state=BundleState.READY,
                file=stored_name,
                sha256=digest.hexdigest(),
                size=size,
                progress_done=bundle.progress_total or bundle.progress_done,
                finished_at=timezone.now(),
                error="",
            )
            if not updated:
                # Taken over meanwhile (our claim lapsed): the other build's result stands.
                raise _Superseded
            bundle.refresh_from_db()
            registered.on_event(bundle, READY, bundle.requested_by)
        return bundle
    except _Superseded:
        _remove(stored_name)
        return Bundle.objects.filter(pk=bundle_id).first()
    except Exception as exc:  # a builder's bug or bad data: the bundle fails, visibly
        logger.exception("bundle %s failed", bundle_id)
        _remove(stored_name)
        return _fail(bundle, started_at, f"{type(exc).__name__}: {exc}")
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)


class _Superseded(Exception):
    pass


def _remove(name: str) -> None:
    if name:
        from django.core.files.storage import default_storage

        default_storage.delete(name)


def bundle_downloaded(*, bundle: Bundle, actor) -> None:
    """Record that `actor` downloaded a ready bundle (in its subject's history)."""
    with transaction.atomic():
        bundle_type(bundle.kind).on_event(bundle, DOWNLOADED, actor)


def bundles_sweep(*, now: datetime | None = None, limit: int = 50) -> list[str]:
    """Build bundles left waiting (a lost broker message) or claimed by a dead worker."""
    now = now or timezone.now()
    stale = list(
        Bundle.objects.filter(
            state__in=BUNDLE_ACTIVE_STATES, created_at__lte=now - timedelta(minutes=2)
        )
        .filter(Q(state=BundleState.QUEUED) | Q(started_at__lte=now - _lease()))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    lines = []
    for pk in stale:
        bundle = bundle_build(pk, now=now)
        if bundle is not None:
            lines.append(f"bundle {pk} {bundle.kind} v{bundle.version}: {bundle.state}")
    return lines
