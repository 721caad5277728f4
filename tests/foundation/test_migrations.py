"""`flask db upgrade` builds exactly the schema the models describe, on SQLite and on
PostgreSQL: a model change without its migration fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS, PG_ADMIN_URL, _worker

ROOT = Path(__file__).resolve().parents[2]


def _upgrade(url: str, tmp_path: Path) -> None:
    # A separate process, as an operator runs it (Alembic also reconfigures logging).
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "migration-test",
           "PORTAL_STORAGE_LOCAL_ROOT": str(tmp_path / "uploads")}
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):  # noqa: ANN001, ANN201
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    from tests import services

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
    import portal
    from portal.extensions import db

    portal._import_models()
    _upgrade(empty_database, tmp_path)
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert not differences, (
        f"the models and the migrations differ in {len(differences)} ways; generate a "
        "migration:\n" + "\n".join(_describe(d) for d in differences[:40]))


def _describe(difference) -> str:  # noqa: ANN001
    """One line per difference: what kind, and which table/column/index it is about."""
    if isinstance(difference, list):  # column changes come as a list of tuples
        return "; ".join(_describe(d) for d in difference)
    kind, *rest = difference
    names = [getattr(x, "name", None) or getattr(getattr(x, "table", None), "name", None)
             or (x if isinstance(x, str) else None) for x in rest]
    return f"{kind}: " + " ".join(str(n) for n in names if n)
