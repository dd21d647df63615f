"""Backups of the whole of Redress, and the check that one restores (issue 13 item 8).

A backup is one ``.tar.gz`` file holding:

- ``database.sqlite3`` (SQLite's online backup API) or ``database.pgdump``
  (``pg_dump --format=custom``);
- ``media/``: every stored file a row names (attachments, the letters we sent, raw emails);
- ``manifest.json``, last: when, which database, the latest migration of each app, the rows
  in every table, and the SHA-256 and size of the database file and of every stored file.

The dump, the rows counted and the files listed all come from one snapshot: on SQLite the
copy itself is read; on PostgreSQL a REPEATABLE READ transaction exports its snapshot and
``pg_dump --snapshot`` dumps exactly what that transaction sees. Stored files are only ever
added, so every file a row of the snapshot names is there to copy; one the retention policy
deleted (or that is lost) is recorded as absent. Files are hashed as they are written into
the archive, in chunks. The archive is written under a hidden temporary name beside its
destination and renamed only when complete, so a half-written backup never looks like one.

``backup_restore_check`` restores an archive into a scratch database (a temporary SQLite
file, or a PostgreSQL database created for the check and always dropped) and a scratch
folder, and compares what it gets with the manifest. The case history is checked by
running ``manage.py verify_history`` in a child process whose ``DATABASE_URL`` names the
scratch database: a fresh Redress process, configured the way a deployment configures it,
that cannot reach the live database by mistake, and that runs the same checks (hash
chains, the heads stored on complaints, the append-only triggers) as on the live one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from complaints.models import Attachment, CaseEvent

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
SCRATCH_PREFIX = "redress_restore_check_"
RETENTION_DELETED = "deleted under the retention policy"
# Keys of a PostgreSQL OPTIONS dict that are Django's, not libpq connection parameters.
_DJANGO_PG_OPTIONS = {"isolation_level", "assume_role", "server_side_binding", "pool"}


class BackupError(Exception):
    """A backup could not be made, or an archive could not be read or restored at all."""


class RestoreFailed(BackupError):
    """pg_restore refused the archive's dump."""


@dataclass(frozen=True)
class Backup:
    """An archive written by ``backup_create`` and the manifest inside it."""

    path: Path
    manifest: dict


@dataclass
class RestoreCheck:
    """What restoring an archive gave, compared with its manifest."""

    archive: Path
    manifest: dict = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


# --- Small pieces ------------------------------------------------------------------------


class _HashingReader:
    """Read a file in chunks for tarfile, hashing and counting what was read."""

    def __init__(self, fileobj):
        self.fileobj, self.sha256, self.size = fileobj, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.fileobj.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data


def file_sha256(path: Path) -> tuple[str, int]:
    """Return the SHA-256 (hex) and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _tar_add(tar: tarfile.TarFile, path: Path, arcname: str) -> tuple[str, int]:
    """Add one file to the archive and return the SHA-256 and size of the bytes written."""
    with open(path, "rb") as f:
        info = tarfile.TarInfo(arcname)
        info.size = os.fstat(f.fileno()).st_size
        info.mtime = int(os.fstat(f.fileno()).st_mtime)
        info.mode = 0o600
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    return reader.sha256.hexdigest(), reader.size


def _settings_complete(settings_dict: dict) -> dict:
    """Fill in the defaults Django gives each entry of DATABASES."""
    settings_dict = dict(settings_dict)
    for key, default in (
        ("ATOMIC_REQUESTS", False),
        ("AUTOCOMMIT", True),
        ("CONN_MAX_AGE", 0),
        ("CONN_HEALTH_CHECKS", False),
        ("OPTIONS", {}),
        ("TIME_ZONE", None),
        ("USER", ""),
        ("PASSWORD", ""),
        ("HOST", ""),
        ("PORT", ""),
        ("TEST", {}),
    ):
        settings_dict.setdefault(key, default)
    settings_dict["CONN_MAX_AGE"] = 0
    return settings_dict


@contextmanager
def _database(settings_dict: dict) -> Iterator[BaseDatabaseWrapper]:
    """Open a connection of our own to the given database; close it after.

    It is not added to ``connections``: nothing else in this process (a request, a task,
    ``close_old_connections``) can reach it, and settings.DATABASES is left alone.
    """
    settings_dict = _settings_complete(settings_dict)
    backend = load_backend(settings_dict["ENGINE"])
    db = backend.DatabaseWrapper(settings_dict, alias=f"redress_backup_{secrets.token_hex(4)}")
    try:
        yield db
    finally:
        db.close()


def _rows(db: BaseDatabaseWrapper, queryset: models.QuerySet) -> Iterator[tuple]:
    """Run a ``values_list()`` queryset on ``db`` and yield its rows, values converted."""
    compiler = queryset.query.get_compiler(connection=db)
    return compiler.results_iter(tuple_expected=True, chunk_size=2000)


def _sqlite_settings(path: Path) -> dict:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": {}}


def _tables_count(db: BaseDatabaseWrapper) -> dict[str, int]:
    """Count the rows of every table in the database."""
    counts = {}
    with db.cursor() as cursor:
        for table in sorted(db.introspection.table_names(cursor)):
            quoted = db.ops.quote_name(table)
            # A table name from the app registry, quoted by the backend: no input.
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608  # nosec B608
            counts[table] = cursor.fetchone()[0]
    return counts


def _migrations_latest(db: BaseDatabaseWrapper) -> dict[str, str]:
    """Return the latest migration applied in each app."""
    applied = MigrationRecorder.Migration
    if applied._meta.db_table not in db.introspection.table_names():
        return {}
    latest: dict[str, str] = {}
    for app, name in _rows(db, applied.objects.values_list("app", "name")):
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def _file_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.FileField):
                yield model, f


def _stored_files(
    db: BaseDatabaseWrapper, tables: set[str]
) -> Iterator[tuple[str, int, str, object]]:
    """Yield (model label, pk, file name, storage) for every stored file a row names."""
    for model, f in _file_fields():
        if model._meta.db_table not in tables:
            continue
        rows = model._base_manager.exclude(**{f.attname: ""}).order_by("pk")
        for pk, name in _rows(db, rows.values_list("pk", f.attname)):
            yield model._meta.label_lower, pk, name, f.storage


def _retention_deleted(db: BaseDatabaseWrapper) -> set[str]:
    """Return the names of the files the retention policy deleted (from the case history)."""
    names: set[str] = set()
    events = CaseEvent._base_manager.filter(extra__retention="anonymised")
    for (extra,) in _rows(db, events.values_list("extra")):
        names.update(extra.get("files_deleted") or [])
    return names


def _storage_path(storage, name: str) -> Path:
    try:
        return Path(storage.path(name))
    except NotImplementedError as exc:
        raise BackupError(
            f"the storage of {name!r} keeps no local files: only file-system storage "
            "(MEDIA_ROOT) can be backed up by this command"
        ) from exc


# --- PostgreSQL --------------------------------------------------------------------------


def pg_tool(name: str) -> tuple[str, int]:
    """Find a PostgreSQL client program on PATH and return its path and major version."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client programs "
            "(e.g. apt-get install postgresql-client), of the server's major version or newer."
        )
    out = subprocess.run(  # noqa: S603 - a program found on PATH, fixed arguments
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)\.\d+", out)
    if match is None:
        raise BackupError(f"could not read the version of {path} from {out.strip()!r}")
    return path, int(match.group(1))


def _pg_server_major(db: BaseDatabaseWrapper) -> int:
    db.ensure_connection()
    return db.pg_version // 10000


def _pg_dsn_env(settings_dict: dict, name: str) -> tuple[str, dict]:
    """Return a libpq connection string for pg_dump/pg_restore, and their environment."""
    from psycopg2.extensions import make_dsn

    params = {
        k: str(v)
        for k, v in settings_dict.get("OPTIONS", {}).items()
        if k not in _DJANGO_PG_OPTIONS
    }
    for key, setting in (("host", "HOST"), ("port", "PORT"), ("user", "USER")):
        if settings_dict.get(setting):
            params[key] = str(settings_dict[setting])
    params["dbname"] = name
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]  # not on the command line, seen by all
    return make_dsn(**params), env


def _run(argv: list[str], env: dict, what: str, error: type[BackupError] = BackupError) -> None:
    result = subprocess.run(  # noqa: S603 - a PostgreSQL client program found on PATH
        argv, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise error(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


def _pg_admin_connection():
    """Open a connection of our own on the server, in autocommit, for CREATE/DROP DATABASE."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    raw = wrapper.get_new_connection(wrapper.get_connection_params())
    raw.autocommit = True
    return raw


# --- Making a backup ---------------------------------------------------------------------


@contextmanager
def _snapshot(work: Path) -> Iterator[tuple[BaseDatabaseWrapper, Path, dict]]:
    """Write the database snapshot into ``work`` and yield a connection reading it."""
    default = connections[DEFAULT_DB_ALIAS]
    vendor = default.vendor
    target = work / DATABASE_FILES.get(vendor, "database")
    if vendor == "sqlite":
        # A connection of our own sees only committed data (mode=rw: never creates a file);
        # an in-memory database can only be read through the connection that holds it.
        if default.is_in_memory_db():
            default.ensure_connection()
            source, own = default.connection, False
        else:
            uri = f"{Path(default.settings_dict['NAME']).resolve().as_uri()}?mode=rw"
            source, own = sqlite3.connect(uri, uri=True, timeout=20), True
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one consistent read
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            copy.close()
            if own:
                source.close()
        with _database(_sqlite_settings(target)) as db:
            yield db, target, {"vendor": vendor, "sqlite_version": sqlite3.sqlite_version}
        return
    if vendor != "postgresql":
        raise BackupError(f"backups of a {vendor} database are not supported")

    with _database(default.settings_dict) as db:
        server = _pg_server_major(db)
        pg_dump, dump_major = pg_tool("pg_dump")
        if dump_major < server:
            raise BackupError(
                f"{pg_dump} is version {dump_major} and cannot dump a PostgreSQL {server} "
                f"server: install the client programs of version {server} or newer"
            )
        db.set_autocommit(False)
        try:
            with db.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            dsn, env = _pg_dsn_env(default.settings_dict, default.settings_dict["NAME"])
            # The snapshot lives as long as this transaction: pg_dump reads exactly it.
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", dsn],
                env,
                "pg_dump",
            )
            yield db, target, {"vendor": vendor, "server_major": server, "pg_dump": dump_major}
        finally:
            db.rollback()  # read only: nothing to keep


def _destination(dest: Path, now: datetime) -> Path:
    if dest.is_dir():
        return dest / f"redress-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    return dest


def backup_create(*, dest: Path, now: datetime | None = None) -> Backup:
    """Write a consistent backup (database, stored files, manifest) to ``dest``.

    ``dest`` is the archive's path, or a directory to put ``redress-<UTC time>.tar.gz`` in.
    """
    now = now or datetime.now(UTC)
    final = _destination(Path(dest), now)
    if final.exists():
        raise BackupError(f"{final} already exists: a backup is never overwritten")
    partial = final.parent / f".{final.name}.partial-{secrets.token_hex(4)}"
    work = Path(tempfile.mkdtemp(prefix=".redress-backup-", dir=final.parent))
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                manifest = _archive_write(tar, work)
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
        _directory_sync(final.parent)
    except BaseException:
        with suppress(FileNotFoundError):
            partial.unlink()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Backup(path=final, manifest=manifest)


def _directory_sync(directory: Path) -> None:
    """Make a rename in ``directory`` survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _archive_write(tar: tarfile.TarFile, work: Path) -> dict:
    """Snapshot the database, add it and the files it names to ``tar``; return the manifest."""
    created_at = datetime.now(UTC)  # the snapshot is taken just after
    with _snapshot(work) as (db, database_file, database):
        tables = _tables_count(db)
        migrations = _migrations_latest(db)
        stored = [
            (label, pk, name, _storage_path(storage, name))
            for label, pk, name, storage in _stored_files(db, set(tables))
        ]
        # Only when a file is gone: the history is searched without an index.
        gone = any(not path.exists() for *_, path in stored)
        retention = _retention_deleted(db) if gone else set()
    sha256, size = _tar_add(tar, database_file, database_file.name)
    database |= {"file": database_file.name, "sha256": sha256, "size": size}

    files, absent = {}, {}
    for label, pk, name, path in stored:
        if name in files or name in absent:
            continue
        try:
            sha256, size = _tar_add(tar, path, f"{MEDIA}/{name}")
        except FileNotFoundError:
            reason = RETENTION_DELETED if name in retention else "missing from the media folder"
            absent[name] = {"model": label, "pk": pk, "reason": reason}
            continue
        files[name] = {"model": label, "pk": pk, "sha256": sha256, "size": size}
    return {
        "format": FORMAT,
        "application": "redress",
        "created_at": created_at.isoformat(),
        "database": database,
        "migrations": migrations,
        "tables": tables,
        "files": files,
        "absent_files": absent,
    }


# --- Checking that a backup restores -----------------------------------------------------


def _archive_extract(archive: Path, into: Path) -> dict:
    """Unpack the archive (no path may leave ``into``) and return its manifest."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"{archive} is not a readable backup archive: {exc}") from exc
    try:
        manifest = json.loads((into / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{archive} has no readable {MANIFEST}: it is not complete") from exc
    if manifest.get("application") != "redress" or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a Redress backup of format {FORMAT}")
    return manifest


def _database_url(settings_dict: dict) -> str:
    """Return a DATABASE_URL (django-environ's form) naming the given database."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{quote(str(Path(settings_dict['NAME']).resolve()))}"
    auth = ""
    if settings_dict.get("USER"):
        auth = quote(settings_dict["USER"], safe="")
        if settings_dict.get("PASSWORD"):
            auth += ":" + quote(settings_dict["PASSWORD"], safe="")
        auth += "@"
    host, port, name = (
        settings_dict.get("HOST", ""),
        settings_dict.get("PORT"),
        settings_dict["NAME"],
    )
    if host.startswith("/"):  # a socket directory goes in the path
        url = f"postgres://{auth}/{quote(host)}/{quote(name, safe='')}"
    else:
        url = f"postgres://{auth}{host}{f':{port}' if port else ''}/{quote(name, safe='')}"
    options = {
        k: v
        for k, v in settings_dict.get("OPTIONS", {}).items()
        if k not in _DJANGO_PG_OPTIONS and isinstance(v, str | int)
    }
    return f"{url}?{urlencode(options)}" if options else url


def _scratch_name() -> str:
    return f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"


@contextmanager
def _scratch_database(manifest: dict, unpacked: Path) -> Iterator[dict]:
    """Restore the archive's database somewhere new; yield its settings; drop it after."""
    database = manifest["database"]
    dump = unpacked / database["file"]
    if database["vendor"] == "sqlite":
        _sqlite_integrity(dump)
        yield _sqlite_settings(dump)
        return
    default = connections[DEFAULT_DB_ALIAS]
    if default.vendor != "postgresql":
        raise BackupError(
            "this archive holds a PostgreSQL dump: run restore_check with DATABASE_URL naming "
            "a PostgreSQL server (a scratch database is created there and dropped after)"
        )
    pg_restore, restore_major = pg_tool("pg_restore")
    if restore_major < database.get("pg_dump", 0):
        raise BackupError(
            f"{pg_restore} is version {restore_major} and cannot read a dump made by pg_dump "
            f"{database['pg_dump']}: install the client programs of that version or newer"
        )
    name = _scratch_name()
    admin = _pg_admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            dsn, env = _pg_dsn_env(default.settings_dict, name)
            options = ["--exit-on-error", "--no-owner", "--no-privileges"]
            _run(
                [pg_restore, *options, f"--dbname={dsn}", str(dump)],
                env,
                "pg_restore",
                RestoreFailed,
            )
            yield {**default.settings_dict, "NAME": name}
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def _counts_compare(check: RestoreCheck, db: BaseDatabaseWrapper) -> None:
    expected, restored = check.manifest["tables"], _tables_count(db)
    before = len(check.differences)
    for table in sorted(expected.keys() | restored.keys()):
        if table not in restored:
            check.differences.append(f"count: table {table} is missing from the restored database")
        elif table not in expected:
            check.differences.append(
                f"count: table {table} ({restored[table]} rows) is not in the manifest"
            )
        elif restored[table] != expected[table]:
            check.differences.append(
                f"count: {table} has {restored[table]} rows restored, "
                f"the manifest says {expected[table]}"
            )
    if len(check.differences) == before:
        check.passed.append(
            f"OK: {len(restored)} tables, {sum(restored.values())} rows, "
            "as counted when the backup was made"
        )


def _migrations_compare(check: RestoreCheck, db: BaseDatabaseWrapper) -> None:
    expected, restored = check.manifest["migrations"], _migrations_latest(db)
    if restored != expected:
        for app in sorted(expected.keys() | restored.keys()):
            if restored.get(app) != expected.get(app):
                check.differences.append(
                    f"migrations: {app} is at {restored.get(app, 'nothing')} restored, "
                    f"the manifest says {expected.get(app, 'nothing')}"
                )
        return
    check.passed.append(f"OK: the latest migration of each of {len(restored)} apps as recorded")
    loader = MigrationLoader(None, ignore_no_migrations=True)
    newer = sorted(
        f"{app} {name}"
        for app, name in loader.graph.leaf_nodes()
        if app in restored and name > restored[app]
    )
    if newer:
        check.notes.append(
            "this code has newer migrations than the backup ("
            + ", ".join(newer)
            + "): after a real restore, run manage.py migrate"
        )


def _history_verify(check: RestoreCheck, settings_dict: dict) -> None:
    """Run ``manage.py verify_history`` in a child process on the restored database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url(settings_dict)
    if settings.SETTINGS_MODULE:  # None under override_settings: then it is in os.environ
        env["DJANGO_SETTINGS_MODULE"] = settings.SETTINGS_MODULE
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        env["REDRESS_ALLOW_SQLITE"] = "1"  # production settings refuse SQLite otherwise
    result = subprocess.run(  # noqa: S603 - this interpreter and our own manage.py
        [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "verify_history",
            "--skip-checks",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode == 0:
        check.passed.extend(f"{line} (case history)" for line in lines)
    elif result.returncode == 1:
        check.differences.extend(f"history: {line}" for line in lines)
    else:
        tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-5:]
        check.differences.append(
            f"history: verify_history could not run on the restored database "
            f"(exit {result.returncode}): " + " | ".join(tail)
        )


def _rows_files_compare(check: RestoreCheck, db: BaseDatabaseWrapper) -> None:
    """Every file a restored row names is one the manifest lists, and vice versa."""
    files, absent = check.manifest["files"], check.manifest["absent_files"]
    tables = set(db.introspection.table_names())
    named = set()
    for label, pk, name, _storage in _stored_files(db, tables):
        named.add(name)
        if name not in files and name not in absent:
            check.differences.append(
                f"file: {label} {pk} names {name}, which the manifest does not list"
            )
    for name in sorted(files.keys() - named):
        check.differences.append(f"file: the manifest lists {name}, but no restored row names it")
    sizes = Attachment._base_manager.order_by("pk").values_list("pk", "file", "size")
    for pk, name, size in _rows(db, sizes):
        if name in files and files[name]["size"] != size:
            check.differences.append(
                f"file: attachment {pk} ({name}) records {size} bytes, "
                f"the file backed up has {files[name]['size']}"
            )


def _files_compare(check: RestoreCheck, media: Path) -> None:
    """Every file in the manifest is in the restored folder with its SHA-256; nothing else."""
    files, absent = check.manifest["files"], check.manifest["absent_files"]
    before, total = len(check.differences), 0
    for name, expected in sorted(files.items()):
        path = media / name
        owner = f"{expected['model']} {expected['pk']}"
        if not path.is_file():
            check.differences.append(f"missing file: {name} ({owner})")
            continue
        sha256, size = file_sha256(path)
        total += size
        if sha256 != expected["sha256"] or size != expected["size"]:
            check.differences.append(
                f"checksum mismatch: {name} ({owner}): {size} bytes, SHA-256 {sha256}; "
                f"the manifest says {expected['size']} bytes, {expected['sha256']}"
            )
    if media.is_dir():
        for path in sorted(p for p in media.rglob("*") if not p.is_dir()):
            name = path.relative_to(media).as_posix()
            if name not in files:
                check.differences.append(f"unexpected file: {name} is not in the manifest")
    if len(check.differences) == before:
        check.passed.append(f"OK: {len(files)} files, {total} bytes, each matching its SHA-256")
    if absent:
        retention = sum(1 for a in absent.values() if a["reason"] == RETENTION_DELETED)
        check.notes.append(
            f"{len(absent)} file(s) named by rows were already absent when the backup was made "
            f"({retention} {RETENTION_DELETED}): "
            + ", ".join(
                f"{name} ({a['model']} {a['pk']}: {a['reason']})" for name, a in absent.items()
            )
        )


def backup_restore_check(*, archive: Path, scratch_dir: Path | None = None) -> RestoreCheck:
    """Restore ``archive`` into a scratch database and folder and compare it with its manifest.

    Compares the rows of every table, the migrations, every case's history chain and every
    stored file's SHA-256; the scratch copies are removed after, whatever happens.
    """
    archive = Path(archive)
    check = RestoreCheck(archive=archive)
    with tempfile.TemporaryDirectory(prefix="redress-restore-check-", dir=scratch_dir) as tmp:
        unpacked = Path(tmp)
        check.manifest = manifest = _archive_extract(archive, unpacked)
        database = manifest["database"]
        dump = unpacked / database["file"]
        if not dump.is_file():
            check.differences.append(f"database: {database['file']} is missing from the archive")
        else:
            sha256, size = file_sha256(dump)
            if sha256 != database["sha256"] or size != database["size"]:
                check.differences.append(
                    f"checksum mismatch: the database file {database['file']} is not the one "
                    "backed up (its SHA-256 differs from the manifest)"
                )
            try:
                with _scratch_database(manifest, unpacked) as settings_dict:
                    with _database(settings_dict) as db:
                        _counts_compare(check, db)
                        _migrations_compare(check, db)
                        _rows_files_compare(check, db)
                    _history_verify(check, settings_dict)
            except RestoreFailed as exc:
                check.differences.append(f"database: it does not restore: {exc}")
                check.differences.append("database: rows and histories could not be checked")
        _files_compare(check, unpacked / MEDIA)
    return check


def _sqlite_integrity(path: Path) -> None:
    """Raise RestoreFailed unless SQLite finds the file a sound database."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        result = [str(exc)]
    finally:
        db.close()
    if result != ["ok"]:
        raise RestoreFailed("SQLite's integrity check: " + "; ".join(result[:5]))
