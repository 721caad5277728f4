"""`flask db upgrade` builds exactly the schema the models describe, on SQLite and on
PostgreSQL: a model change without its migration fails here. The suite's own schema is the
migrated one (tests/conftest.py), so what the migrations lack, the tests lack too."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import CheckConstraint, Engine, create_engine, inspect, text, update
from sqlalchemy.exc import IntegrityError

from portal import _import_models
from portal.events.models import Event
from portal.extensions import db
from tests import services
from tests.conftest import BACKENDS, PG_ADMIN_URL, _worker
from tests.events import factories

ROOT = Path(__file__).resolve().parents[2]


def _upgrade(url: str, tmp_path: Path, revision: str = "head") -> None:
    # A separate process, as an operator runs it (Alembic also reconfigures logging).
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "migration-test",
           "PORTAL_STORAGE_LOCAL_ROOT": str(tmp_path / "uploads")}
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), "--app", "wsgi", "db", "upgrade", revision], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    services.ensure_postgres()
    name = f"portal_migrations_{_worker()}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_match_the_models(empty_database: str, tmp_path: Path) -> None:
    _import_models()
    _upgrade(empty_database, tmp_path)
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        # Alembic's comparison leaves CHECK constraints out: compare them by name.
        missing_checks = _model_checks() - _database_checks(engine)
    finally:
        engine.dispose()
    assert not differences, (
        f"the models and the migrations differ in {len(differences)} ways; generate a "
        "migration:\n" + "\n".join(_describe(d) for d in differences[:40]))
    assert not missing_checks, (
        "CHECK constraints of the models that the migrations do not create (add them to a "
        "migration):\n" + "\n".join(f"{t}.{n}" for t, n in sorted(missing_checks)))


def test_the_database_refuses_more_seats_taken_than_the_capacity(app_ctx: Flask) -> None:
    """The seat-capacity CHECK of the migration holds in the suite's database: an event
    can never be oversold, whatever the code that counts seats does."""
    event = factories.event(capacity=2, seats_taken=2)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Event).where(Event.id == event.id).values(seats_taken=3))
        db.session.flush()
    db.session.rollback()


def test_the_suite_runs_on_the_migrated_schema(app_ctx: Flask) -> None:
    """The tables of every test were built by the migrations (not create_all), up to
    the newest revision, with every CHECK constraint the models declare."""
    with db.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        assert set(versions) == set(ScriptDirectory(str(ROOT / "migrations")).get_heads())
    assert _model_checks() <= _database_checks(db.engine)


def _model_checks() -> set[tuple[str, str]]:
    return {(table.name, str(check.name)) for table in db.metadata.tables.values()
            for check in table.constraints
            if isinstance(check, CheckConstraint) and check.name}


def _database_checks(engine: Engine) -> set[tuple[str, str]]:
    inspector = inspect(engine)
    return {(table, str(check["name"])) for table in inspector.get_table_names()
            for check in inspector.get_check_constraints(table) if check.get("name")}


def _describe(difference: object) -> str:
    """One line per difference: what kind, and which table/column/index it is about."""
    if isinstance(difference, list):  # column changes come as a list of tuples
        return "; ".join(_describe(d) for d in difference)
    assert isinstance(difference, tuple)
    kind, *rest = difference
    names = [getattr(x, "name", None) or getattr(getattr(x, "table", None), "name", None)
             or (x if isinstance(x, str) else None) for x in rest]
    return f"{kind}: " + " ".join(str(n) for n in names if n)


def test_review_dates_become_moments_and_no_row_is_lost(empty_database: str,
                                                        tmp_path: Path) -> None:
    """Selection I's migration turns a cycle's review dates into moments in Japan time and
    drops the date columns. On SQLite dropping a column copies the table: with foreign
    keys on, that would have deleted the cycle's specialties and review setup."""
    _upgrade(empty_database, tmp_path, "9b1f4c2a7d10")
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cycles (id, name, status, opens_at, closes_at, window_timezone, "
            "training_starts_on, training_ends_on, review_starts_on, review_ends_on, "
            "retention_days, english_evidence_required, prior_participation, "
            "endorsement_required, consent_text, reminders_sent, created_at) VALUES "
            "(1, 'FY2030', 'draft', '2030-01-01 00:00:00', '2030-02-01 00:00:00', "
            "'Asia/Tokyo', '2030-05-01', '2030-06-01', '2030-02-10', '2030-03-01', 365, "
            "true, 'allowed', true, '', '{}', '2030-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO specialties (cycle_id, code, name, position) "
                          "VALUES (1, 'cardiology', 'Cardiology', 0)"))
    engine.dispose()
    _upgrade(empty_database, tmp_path)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        opens, closes = conn.execute(text(
            "SELECT opens_at, closes_at FROM review_setups WHERE cycle_id = 1")).one()
        specialties = conn.execute(text("SELECT count(*) FROM specialties")).scalar()
        columns = {c["name"] for c in inspect(conn).get_columns("cycles")}
    engine.dispose()
    # 00:00 and 23:59 in Japan (UTC+9) are 15:00 and 14:59 UTC.
    assert str(opens).startswith("2030-02-09 15:00") and str(closes).startswith(
        "2030-03-01 14:59")
    assert specialties == 1
    assert "review_starts_on" not in columns
