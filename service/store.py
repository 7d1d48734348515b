"""Persistence of petitions, their triage, officers' decisions and every change (SQLAlchemy 2).

SQLite (a file, WAL, ``synchronous=FULL``) by default, PostgreSQL through ``DATABASE_URL``. Every write commits
before the API answers, so an acknowledged petition or decision survives a crash right after the response.
Changes are appended to ``petition_events`` (source: model, rule, officer; who; when; from → to) instead of
overwriting history, and status changes follow the transition table in ``data/taxonomy.yaml``.
"""

from __future__ import annotations

import base64
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload, sessionmaker

from service.taxonomy import Taxonomy
from service.workdays import add_days

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: attach UTC on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Petition(Base):
    __tablename__ = "petitions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact: Mapped[dict | None] = mapped_column(JSON)
    external_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    sector: Mapped[str] = mapped_column(String(40), index=True)
    petition_type: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(40), index=True)
    province: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(200), index=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, index=True)
    triage: Mapped[dict] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(64))
    accept_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[PetitionEvent]] = relationship(back_populates="petition", order_by="PetitionEvent.id",
                                                       cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(back_populates="petition", order_by="Decision.id",
                                                     cascade="all, delete-orphan")

    __table_args__ = (Index("ix_petitions_received_id", "received_at", "id"),)


class PetitionEvent(Base):
    """One appended change: what changed (from → to), who or what changed it, when."""

    __tablename__ = "petition_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))      # triage | decision | status
    source: Mapped[str] = mapped_column(String(20))    # model | rule | officer
    actor: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    petition: Mapped[Petition] = relationship(back_populates="events")


class Decision(Base):
    """An officer's confirmation or correction: what retraining learns from."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    officer: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sector: Mapped[str] = mapped_column(String(40))
    petition_type: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(20))
    previous: Mapped[dict] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(64))
    model_suggestion: Mapped[dict] = mapped_column(JSON)
    confirmed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)

    petition: Mapped[Petition] = relationship(back_populates="decisions")


# --- engine and schema -------------------------------------------------------------------------------------

def make_engine(url: str, sqlite_synchronous: str = "FULL") -> Engine:
    """Engine with durable settings: SQLite gets WAL, synchronous=FULL (by default), foreign keys and a busy
    timeout; PostgreSQL a pre-pinged pool. Both hide statement parameters from errors and logs: they hold
    petition text and contacts."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - exercised via engine use
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={'NORMAL' if sqlite_synchronous == 'NORMAL' else 'FULL'}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def migrate(url: str) -> None:
    """Bring the database schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class SQLiteWriteLock:
    """Writers to one SQLite file take turns here before SQLite sees them.

    SQLite has one writer at a time, and a writer that finds the file locked waits in SQLite's busy handler,
    which polls with sleeps of up to 100 ms: under load, a tail of seconds and idle cores (measured). Threads of
    a process queue on a ``threading.Lock``; processes (uvicorn workers) on an ``flock`` of a file beside the
    database, which the kernel hands over the moment the holder commits. Where ``fcntl`` does not exist
    (Windows), only the first part applies and SQLite's busy handler does the rest.
    """

    def __init__(self, database: str) -> None:
        self._thread_lock = threading.Lock()
        self._path = None if database in ("", ":memory:") else Path(database + ".writelock")
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            if fcntl is None or self._path is None:
                yield
                return
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_WRITE_LOCKS: dict[str, SQLiteWriteLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def sqlite_write_lock(database: str) -> SQLiteWriteLock:
    """The process-wide write lock of one SQLite database file."""
    with _WRITE_LOCKS_GUARD:
        if database not in _WRITE_LOCKS:
            _WRITE_LOCKS[database] = SQLiteWriteLock(database)
        return _WRITE_LOCKS[database]


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """A write transaction, committed on exit. On SQLite, writers take turns first (``SQLiteWriteLock``)."""
    url = session.get_bind().url
    guard = sqlite_write_lock(url.database or ":memory:").hold() if url.get_backend_name() == "sqlite" \
        else nullcontext()
    with guard, session.begin():
        yield session


# --- due dates -------------------------------------------------------------------------------------------

def due_dates(received_at: datetime, petition_type: str, taxonomy: Taxonomy) -> dict[str, datetime | None]:
    """Deadlines of the petition type (accept, resolve) counted from receipt or from the previous step, in
    calendar days or in Vietnam's working days (``service.workdays``)."""
    computed: dict[str, datetime] = {}
    for step, deadline in taxonomy.petition_types[petition_type].deadlines.items():
        start = received_at if deadline.start == "received" else computed.get(deadline.start, received_at)
        computed[step] = add_days(start, deadline.days, deadline.working_days)
    return {"accept_due": computed.get("accept"), "resolve_due": computed.get("resolve")}


# --- petitions ------------------------------------------------------------------------------------------

class TransitionError(ValueError):
    """A status change the transition table does not allow."""


@dataclass
class NewPetition:
    text: str
    channel: str | None
    received_at: datetime
    contact: dict | None
    external_ref: str | None
    idempotency_key: str | None


def find_by_idempotency_key(session: Session, key: str) -> Petition | None:
    """The petition filed with ``key``, with its history loaded."""
    return session.scalar(select(Petition).where(Petition.idempotency_key == key)
                          .options(selectinload(Petition.events), selectinload(Petition.decisions)))


#: What a stored petition looks like to callers: its columns plus ``events`` and ``decisions`` (lists of dicts).
PetitionRecord = dict[str, Any]
_EVENT_FIELDS = ("at", "kind", "source", "actor", "changes", "model_version", "rule", "note")
_DECISION_FIELDS = ("officer", "decided_at", "sector", "petition_type", "urgency", "department", "status",
                    "previous", "model_version", "confirmed", "note")


def petition_record(petition: Petition) -> PetitionRecord:
    """A loaded petition (with its history) as the plain record that ``file_petition`` also returns."""
    record = {column.key: getattr(petition, column.key) for column in Petition.__table__.columns}
    record["events"] = [{f: getattr(e, f) for f in _EVENT_FIELDS} for e in petition.events]
    record["decisions"] = [{f: getattr(d, f) for f in _DECISION_FIELDS} for d in petition.decisions]
    return record


def file_petition(session: Session, data: NewPetition, triage: dict[str, Any], taxonomy: Taxonomy,
                  now: datetime, rule: str | None = None) -> tuple[PetitionRecord, bool]:
    """Store a petition with its triage and first event in one committed transaction; (record, created).

    A repeated idempotency key stores nothing and returns the first petition. The insert comes first and the
    unique index on the key decides (``ON CONFLICT DO NOTHING``): no lookup on the common path, no error
    logged by the server for a retry, and two requests racing with one new key cannot both win. Plain Core
    inserts: the ORM's unit of work cost more CPU than everything else on this path.
    """
    row, event_row = _petition_rows(data, triage, taxonomy, now, rule)
    with write_transaction(session):
        connection = session.connection()
        inserted = connection.execute(_insert_unless_key_exists(session), row).first() is not None
        if inserted:
            connection.execute(PetitionEvent.__table__.insert(), event_row)
    if inserted:
        return {**row, "events": [event_row], "decisions": []}, True
    existing = find_by_idempotency_key(session, data.idempotency_key) if data.idempotency_key else None
    if existing is None:  # cannot happen: only the key's unique index skips an insert
        raise RuntimeError("petition insert skipped without an idempotency key conflict")
    return petition_record(existing), False


def _insert_unless_key_exists(session: Session):
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, on PostgreSQL and SQLite: a row back
    means stored (``rowcount`` is not reliable for this statement across drivers)."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    table = Petition.__table__
    return insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key]).returning(table.c.id)


def _petition_rows(data: NewPetition, triage: dict[str, Any], taxonomy: Taxonomy, now: datetime,
                   rule: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    location = triage.get("location") or {}
    received_at = data.received_at.astimezone(UTC)  # stored and returned in UTC, whatever zone it came in
    sector = triage["sector"]["code"]
    row = {
        "id": str(uuid.uuid4()), "text": data.text, "channel": data.channel, "received_at": received_at,
        "contact": data.contact, "external_ref": data.external_ref, "idempotency_key": data.idempotency_key,
        "status": "new", "sector": sector, "petition_type": triage["petition_type"]["code"],
        "urgency": triage["urgency"]["code"],
        "department": triage["departments"][0]["code"] if triage["departments"] else
        taxonomy.sectors[sector].default_department,
        "province": location.get("province"), "commune": location.get("commune"),
        "needs_review": triage["needs_review"], "triage": triage, "model_version": triage["model_version"],
        "created_at": now, "updated_at": now,
        **due_dates(received_at, triage["petition_type"]["code"], taxonomy),
    }
    event_row = {
        "petition_id": row["id"], "at": now, "kind": "triage", "source": "model", "actor": None,
        "changes": {field: {"from": None, "to": row[field]}
                    for field in ("status", "sector", "petition_type", "urgency", "department")},
        "model_version": triage["model_version"], "rule": rule, "note": None,
    }
    return row, event_row


def get_petition(session: Session, petition_id: str, with_history: bool = False) -> Petition | None:
    query = select(Petition).where(Petition.id == petition_id)
    if with_history:
        query = query.options(selectinload(Petition.events), selectinload(Petition.decisions))
    return session.scalar(query)


@dataclass
class PetitionFilter:
    status: str | None = None
    sector: str | None = None
    department: str | None = None
    commune: str | None = None
    needs_review: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


class CursorError(ValueError):
    """A pagination cursor that this service did not issue."""


def encode_cursor(petition: Petition) -> str:
    raw = f"{petition.received_at.isoformat()}|{petition.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, petition_id = raw.split("|", 1)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError("cursor time has no zone")
        return when, petition_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorError("invalid cursor: use the next_cursor value of a previous page") from exc


def list_petitions(session: Session, filters: PetitionFilter, limit: int, cursor: str | None = None) -> tuple[list[Petition], str | None]:
    """Newest first; keyset pagination on (received_at, id), stable while new petitions arrive."""
    query = select(Petition)
    for column in ("status", "sector", "department", "commune"):
        value = getattr(filters, column)
        if value is not None:
            query = query.where(getattr(Petition, column) == value)
    if filters.needs_review is not None:
        query = query.where(Petition.needs_review == filters.needs_review)
    if filters.received_from is not None:
        query = query.where(Petition.received_at >= filters.received_from)
    if filters.received_to is not None:
        query = query.where(Petition.received_at < filters.received_to)
    if cursor:
        when, petition_id = decode_cursor(cursor)
        query = query.where(or_(Petition.received_at < when,
                                (Petition.received_at == when) & (Petition.id < petition_id)))
    rows = list(session.scalars(query.order_by(Petition.received_at.desc(), Petition.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


# --- decisions ------------------------------------------------------------------------------------------

DECIDED_FIELDS = ("sector", "petition_type", "urgency", "department")


def record_decision(session: Session, petition: Petition, officer: str, values: dict[str, str], status: str | None,
                    taxonomy: Taxonomy, now: datetime, note: str | None = None) -> Decision:
    """Apply an officer's decision: labels (confirmed or corrected) and optionally a status change."""
    if status is not None and status != petition.status:
        allowed = taxonomy.statuses[petition.status].next
        if status not in allowed:
            raise TransitionError(f"status cannot change from '{petition.status}' to '{status}' "
                                  f"(allowed: {', '.join(allowed) or 'none'})")
    previous = {field: getattr(petition, field) for field in (*DECIDED_FIELDS, "status")}
    suggestion = _model_suggestion(petition.triage)
    decision = Decision(
        officer=officer, decided_at=now, status=status, previous=previous, model_version=petition.model_version,
        model_suggestion=suggestion, note=note,
        confirmed=all(values[f] == suggestion.get(f) for f in ("sector", "department")),
        **{field: values[field] for field in DECIDED_FIELDS},
    )
    petition.decisions.append(decision)
    changes = {field: {"from": previous[field], "to": values[field]} for field in DECIDED_FIELDS
               if values[field] != previous[field]}
    if status is not None and status != petition.status:
        changes["status"] = {"from": petition.status, "to": status}
    for field in DECIDED_FIELDS:
        setattr(petition, field, values[field])
    if status is not None:
        petition.status = status
    if "petition_type" in changes:
        for column, value in due_dates(petition.received_at, petition.petition_type, taxonomy).items():
            setattr(petition, column, value)
    petition.needs_review = False
    petition.updated_at = now
    petition.events.append(PetitionEvent(at=now, kind="decision", source="officer", actor=officer, changes=changes,
                                         model_version=petition.model_version, note=note))
    session.flush()
    return decision


def _model_suggestion(triage: dict[str, Any]) -> dict[str, str | None]:
    return {
        "sector": triage["sector"]["code"], "petition_type": triage["petition_type"]["code"],
        "urgency": triage["urgency"]["code"],
        "department": triage["departments"][0]["code"] if triage.get("departments") else None,
    }


# --- statistics -----------------------------------------------------------------------------------------

def stats(session: Session, taxonomy: Taxonomy, now: datetime) -> dict[str, Any]:
    def counts(column) -> dict[str, int]:
        return {str(k): int(v) for k, v in session.execute(select(column, func.count()).group_by(column))}

    open_statuses = [code for code, status in taxonomy.statuses.items() if status.open]
    due = func.coalesce(Petition.resolve_due, Petition.accept_due)
    overdue = session.scalar(select(func.count()).where(Petition.status.in_(open_statuses), due.is_not(None), due < now))
    first_decisions = select(func.min(Decision.id)).group_by(Decision.petition_id)
    decided, confirmed = session.execute(
        select(func.count(), func.sum(Decision.confirmed.cast(Integer))).where(Decision.id.in_(first_decisions))
    ).one()
    return {
        "total": int(session.scalar(select(func.count()).select_from(Petition)) or 0),
        "by_sector": counts(Petition.sector),
        "by_department": counts(Petition.department),
        "by_status": counts(Petition.status),
        "needs_review": int(session.scalar(select(func.count()).where(Petition.needs_review.is_(True))) or 0),
        "overdue": int(overdue or 0),
        "decided": int(decided or 0),
        "model_confirmed_share": round(int(confirmed or 0) / decided, 4) if decided else None,
    }

