"""The staff nominations list with 10,000 nominations and 100,000 documents.

For SQLite and PostgreSQL (a database `portal_bench` on 127.0.0.1:5432, user postgres,
created for the run and dropped after): data made with bulk inserts (executemany), then

- SQL statements per page, counted in this process with a `before_cursor_execute`
  listener for every URL of the mix (constant: the same for every filter, sort and page);
- the portal under gunicorn (one sync worker): >= 200 requests of filtered and sorted
  pages (full pages and htmx fragments, pages 1-40), timed by the client over HTTP
  (so the figures include the HTTP round trip): median, p95, max.

    .venv/bin/python bench/list_latency.py [--backend sqlite|postgresql|both]
        [--nominations 10000] [--docs-per-nomination 10] [--requests 240]
        [--suggested-indexes]

Both databases are ANALYZEd after the bulk load (as they would be by autovacuum or a
maintenance job in a running installation).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta

import common

COUNTRIES = ["MY", "VN", "PH", "TH", "ID", "MM", "KH", "LA", "MN", "LK", "NP", "BD"]
FAMILY = ["Nguyen", "Tran", "Le", "Pham", "Abdullah", "Rahman", "Santos", "Reyes", "Cruz",
          "Wong", "Tan", "Lim", "Siriwat", "Chaiyaporn", "Soe", "Aung", "Bat-Erdene",
          "Perera", "Silva", "Sharma", "Hossain", "Sok", "Phommachanh", "Wijaya"]
GIVEN = ["Van An", "Thi Mai", "Ahmad", "Siti", "Maria", "Jose", "Wei Ming", "Mei Ling",
         "Somchai", "Kyaw", "Bold", "Nimal", "Rina", "Dara", "Budi", "Ayesha", "Minh"]
SPECIALTIES = ["cardiology", "radiology", "endoscopy", "neurology", "oncology",
               "pediatrics", "nephrology", "anesthesiology", "orthopedics", "ophthalmology"]
# Indexes proposed for portal/nominations/models.py (not there yet): the list's sort
# columns within a cycle, so a page is read in index order instead of sorting the cycle.
SUGGESTED_INDEXES = [
    "CREATE INDEX ix_nominations_cycle_updated ON nominations (cycle_id, updated_at)",
    "CREATE INDEX ix_nominations_cycle_submitted ON nominations (cycle_id, submitted_at)",
    "CREATE INDEX ix_nominations_cycle_name ON nominations (cycle_id, family_name, given_names)",
    "CREATE INDEX ix_nominations_updated ON nominations (updated_at)",
]
STATES = ["draft", "submitted", "returned", "resubmitted", "under_review", "accepted",
          "reserve", "rejected", "withdrawn"]


def generate(settings: dict, nominations: int, docs_per: int) -> dict:
    """Bulk data through executemany inserts; returns ids the URL mix needs."""
    from sqlalchemy import insert

    from portal.accounts.models import Role, User, UserRole
    from portal.cycles.models import Cycle, DocumentRequirement, Specialty
    from portal.extensions import db
    from portal.institutions.models import Institution
    from portal.nominations.models import Nomination, NominationDocument
    from portal.storage.models import Blob

    rnd = random.Random(2027)
    now = datetime.now(UTC)
    app = common.make_app(settings)
    with app.app_context():
        db.create_all()
        staff = User(email="staff@bench.example", name="Bench Staff", language="en",
                     password_hash=common.password_hash())
        staff.role_rows = [UserRole(role=str(Role.STAFF))]
        db.session.add(staff)
        institutions = db.session.execute(insert(Institution).returning(
            Institution.id, Institution.country), [
            {"name": f"{rnd.choice(['General', 'University', 'National', 'Central'])} "
                     f"Hospital {i:03d}", "country": COUNTRIES[i % len(COUNTRIES)],
             "city": "City", "timezone": "Asia/Bangkok", "kind": "hospital",
             "head_name": "Head", "head_email": f"head{i}@bench.example",
             "status": "active", "created_at": now} for i in range(300)]).all()
        cycles = []
        for year in (2025, 2026, 2027):
            cycle = Cycle(name=f"FY{year}", status="published",
                          opens_at=datetime(year - 1, 10, 1, tzinfo=UTC),
                          closes_at=datetime(year - 1, 12, 1, tzinfo=UTC),
                          training_starts_on=datetime(year, 5, 1).date(),
                          training_ends_on=datetime(year, 8, 1).date())
            cycle.specialties = [Specialty(code=c, name=c.title(), position=i)
                                 for i, c in enumerate(SPECIALTIES)]
            cycle.requirements = [DocumentRequirement(code=f"doc{i}", label=f"Document {i}",
                                                      position=i) for i in range(docs_per)]
            cycles.append(cycle)
        db.session.add_all(cycles)
        db.session.commit()

        shares = [0.2, 0.3, 0.5]  # the current cycle has most of them
        rows = []
        for i in range(nominations):
            cycle = cycles[0] if i < nominations * shares[0] else (
                cycles[1] if i < nominations * (shares[0] + shares[1]) else cycles[2])
            inst_id, country = rnd.choice(institutions)
            state = rnd.choice(STATES)
            updated = now - timedelta(minutes=rnd.randrange(0, 500_000))
            rows.append({
                "reference": f"N-B{i:08d}", "cycle_id": cycle.id, "institution_id": inst_id,
                "country": country, "state": state, "family_name": rnd.choice(FAMILY),
                "given_names": rnd.choice(GIVEN), "native_name": "",
                "specialty_id": rnd.choice(cycle.specialties).id,
                "is_complete": state != "draft" or rnd.random() < 0.3,
                "duplicate_flags": [] if rnd.random() < 0.97 else [{"kind": "same_cycle"}],
                "created_at": updated - timedelta(days=3), "updated_at": updated,
                "submitted_at": None if state == "draft" else updated - timedelta(days=1),
            })
        nomination_ids = db.session.execute(
            insert(Nomination).returning(Nomination.id, Nomination.cycle_id), rows).all()
        requirement_ids = {c.id: [r.id for r in c.requirements] for c in cycles}
        blob_rows = [{"key": f"bench{i:09d}", "size": 2_000_000 + i, "sha256": "0" * 64,
                      "content_type": "application/pdf", "original_name": f"scan {i}.pdf",
                      "created_at": now} for i in range(nominations * docs_per)]
        blob_ids = db.session.execute(insert(Blob).returning(Blob.id), blob_rows).scalars().all()
        blob_iter = iter(blob_ids)
        db.session.execute(insert(NominationDocument), [
            {"nomination_id": n_id, "requirement_id": r_id, "blob_id": next(blob_iter),
             "state": "uploaded", "uploaded_at": now}
            for n_id, c_id in nomination_ids for r_id in requirement_ids[c_id]])
        db.session.commit()
        result = {"cycle": cycles[-1].id, "institution": institutions[7][0],
                  "email": staff.email}
        db.session.remove()
        db.engine.dispose()
    return result


def url_mix(ids: dict) -> list[tuple[str, bool]]:
    """(URL, htmx?) of filtered and sorted pages staff use."""
    c, i = ids["cycle"], ids["institution"]
    base = "/staff/nominations/"
    queries = [
        f"cycle={c}&sort=name",
        f"cycle={c}&state=submitted&sort=-submitted_at",
        f"cycle={c}&country=VN&sort=institution",
        "q=nguy&sort=name",
        f"cycle={c}&complete=no&sort=-updated",
        f"institution={i}&sort=state",
        f"cycle={c}&specialty=cardiology&sort=country",
        "sort=-updated",
        f"cycle={c}&state=under_review&country=PH&sort=-name",
        f"q=N-B0000&cycle={c}&sort=submitted_at",
    ]
    return [(f"{base}?{q}", htmx) for q in queries for htmx in (False, True)]


def count_statements(settings: dict, ids: dict,
                     mix: list[tuple[str, bool]]) -> list[tuple[bool, int]]:
    from sqlalchemy import event

    from portal.extensions import db

    app = common.make_app({**settings, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        engine = db.engine
    # No app context around the requests: each gets its own, as in the server (an outer
    # one would keep the signed-in user cached in `g` and hide its queries).
    client = app.test_client()
    client.post("/login", data={"email": ids["email"], "password": common.BENCH_PASSWORD})
    counts = []
    for url, htmx in mix:
        for page in (1, 37):
            statements: list[str] = []

            def _count(*_args, _s=statements) -> None:  # noqa: ANN002
                _s.append("x")

            event.listen(engine, "before_cursor_execute", _count)
            headers = {"HX-Request": "true"} if htmx else {}
            response = client.get(f"{url}&page={page}", headers=headers)
            event.remove(engine, "before_cursor_execute", _count)
            assert response.status_code == 200, response.status_code
            counts.append((htmx, len(statements)))
    engine.dispose()
    return counts


def measure(settings: dict, ids: dict, requests_n: int, tmp) -> list[float]:  # noqa: ANN001
    rnd = random.Random(7)
    mix = url_mix(ids)
    with common.gunicorn(settings, log=tmp / "gunicorn.log") as server:
        session = common.sign_in(server.url, ids["email"])
        for url, _htmx in mix:  # warm-up: caches, prepared plans, first imports
            session.get(server.url + url, timeout=60)
        times = []
        for n in range(requests_n):
            url, htmx = mix[n % len(mix)]
            page = rnd.randint(1, 40)
            headers = {"HX-Request": "true"} if htmx else {}
            started = time.perf_counter()
            response = session.get(f"{server.url}{url}&page={page}", headers=headers,
                                   timeout=60)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")
    return times


def run(backend: str, args: argparse.Namespace) -> None:
    from sqlalchemy import create_engine, inspect, text

    with common.workdir(f"list-{backend}") as tmp:
        admin = None
        if backend == "postgresql":
            admin = create_engine(common.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text('DROP DATABASE IF EXISTS "portal_bench" WITH (FORCE)'))
                conn.execute(text('CREATE DATABASE "portal_bench"'))
            url = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"
        else:
            url = f"sqlite:///{tmp / 'portal.db'}"
        try:
            settings = common.base_settings(url, tmp)
            started = time.perf_counter()
            ids = generate(settings, args.nominations, args.docs_per_nomination)
            print(f"[{backend}] data: {args.nominations} nominations, "
                  f"{args.nominations * args.docs_per_nomination} documents and blobs in "
                  f"{time.perf_counter() - started:.1f} s")
            with create_engine(url).connect() as conn:
                existing = {i["name"] for i in inspect(conn).get_indexes("nominations")}
                if args.suggested_indexes:
                    for ddl in SUGGESTED_INDEXES:
                        if ddl.split()[2] not in existing:
                            conn.execute(text(ddl))
                conn.execute(text("ANALYZE"))
                conn.commit()
            if args.suggested_indexes:
                print(f"[{backend}] with the suggested indexes")
            counts = count_statements(settings, ids, url_mix(ids))
            full = sorted({n for htmx, n in counts if not htmx})
            fragment = sorted({n for htmx, n in counts if htmx})
            print(f"[{backend}] SQL statements per request over {len(counts)} requests "
                  f"(10 filters/sorts x page 1 and 37 x page/fragment): full page "
                  f"{full}, htmx fragment {fragment} (BEGIN and sign-in included)")
            times = measure(settings, ids, args.requests, tmp)
            print(f"[{backend}] list over HTTP (gunicorn, 1 worker; load average "
                  f"{os.getloadavg()[0]:.1f}): {common.summary_ms(times)} (goal p95 < 50 ms)")
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text('DROP DATABASE IF EXISTS "portal_bench" WITH (FORCE)'))
                admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--nominations", type=int, default=10_000)
    parser.add_argument("--docs-per-nomination", type=int, default=10)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--suggested-indexes", action="store_true",
                        help="add the indexes proposed for the nominations table first")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run(backend, args)


if __name__ == "__main__":
    main()
