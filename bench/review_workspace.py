"""The reviewer's queue and workspace with 500 nominations, 20 reviewers, 1,500 reviews.

For SQLite and PostgreSQL (a database `portal_bench` on 127.0.0.1:5432, user postgres,
created for the run and dropped after): one cycle under review, every nomination assigned
to three reviewers (75 dossiers each), every assignment with a review (60 % submitted,
40 % drafts), a discussion post on every dossier with two submitted reviews. Then

- SQL statements per page, counted in this process for every URL of the mix and for two
  reviewers (constant: the same for every filter, sort and dossier);
- the portal under gunicorn (one sync worker): >= 200 requests of queue pages (filtered
  and sorted) and workspaces (drafts and submitted reviews, with the others' reviews and
  the discussion), timed by the client over HTTP: median, p95, max.

    .venv/bin/python bench/review_workspace.py [--backend sqlite|postgresql|both]
        [--nominations 500] [--reviewers 20] [--requests 240]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta

import common

SPECIALTIES = ["cardiology", "radiology", "endoscopy", "neurology", "oncology",
               "pediatrics", "nephrology", "anesthesiology", "orthopedics", "ophthalmology"]
COUNTRIES = ["MY", "VN", "PH", "TH", "ID", "MM", "KH", "LA", "MN", "LK"]


def generate(settings: dict, nominations: int, reviewers: int) -> dict:
    """Bulk data through executemany inserts; returns what the URL mix needs."""
    from sqlalchemy import insert

    from portal.accounts.models import Role, User, UserRole
    from portal.cycles.models import Cycle, DocumentRequirement, Specialty
    from portal.extensions import db
    from portal.institutions.models import Institution
    from portal.nominations.models import Nomination
    from portal.review.models import (
        Assignment,
        Criterion,
        PoolMember,
        Review,
        ReviewSetup,
    )
    from portal.review.rubric_score import Scale, weighted_score
    from portal.threads.models import Post, Thread

    rnd = random.Random(2027)
    now = datetime.now(UTC)
    app = common.make_app(settings)
    with app.app_context():
        db.create_all()
        cycle = Cycle(name="FY2027", status="published", opens_at=now - timedelta(days=90),
                      closes_at=now - timedelta(days=30),
                      training_starts_on=(now + timedelta(days=120)).date(),
                      training_ends_on=(now + timedelta(days=210)).date())
        cycle.specialties = [Specialty(code=c, name=c.title(), position=i)
                             for i, c in enumerate(SPECIALTIES)]
        cycle.requirements = [DocumentRequirement(code=f"doc{i}", label=f"Document {i}",
                                                  position=i) for i in range(8)]
        db.session.add(cycle)
        db.session.flush()
        db.session.add(ReviewSetup(cycle_id=cycle.id, opens_at=now - timedelta(days=10),
                                   closes_at=now + timedelta(days=14),
                                   confidentiality_text="Confidential."))
        criteria = [Criterion(cycle_id=cycle.id, code=f"c{i}", position=i, name=f"Criterion {i}",
                              scale_min=1, scale_max=5 if i != 2 else 10, weight=1.0 + (i == 0),
                              required=i < 3, guidance={"1": "Weak", "5": "Strong"})
                    for i in range(4)]
        db.session.add_all(criteria)
        hashed = common.password_hash()
        people = [User(email=f"reviewer{i}@bench.example", name=f"Bench Reviewer {i}",
                       language="en", password_hash=hashed) for i in range(reviewers)]
        for person in people:
            person.role_rows = [UserRole(role=str(Role.REVIEWER))]
        db.session.add_all(people)
        db.session.commit()
        db.session.execute(insert(PoolMember), [
            {"cycle_id": cycle.id, "user_id": p.id, "specialties": [SPECIALTIES[i % 10]],
             "languages": ["en"], "terms_accepted_at": now, "active": True, "created_at": now,
             "affiliation_name": "", "affiliation_country": ""}
            for i, p in enumerate(people)])
        institutions = db.session.execute(insert(Institution).returning(Institution.id,
                                                                        Institution.country), [
            {"name": f"Hospital {i:03d}", "country": COUNTRIES[i % len(COUNTRIES)],
             "city": "City", "timezone": "Asia/Bangkok", "kind": "hospital",
             "head_name": "Head", "head_email": f"head{i}@bench.example",
             "status": "active", "created_at": now} for i in range(60)]).all()
        rows = []
        for i in range(nominations):
            inst_id, country = rnd.choice(institutions)
            rows.append({
                "reference": f"N-R{i:08d}", "cycle_id": cycle.id, "institution_id": inst_id,
                "country": country, "state": rnd.choice(["submitted", "under_review"]),
                "family_name": f"Family{i}", "given_names": "Given", "native_name": "",
                "nationality": country, "position": "Medical officer",
                "specialty_id": rnd.choice(cycle.specialties).id, "experience_years": 4,
                "english_level": "advanced", "motivation": "To build a service at home.",
                "is_complete": True, "duplicate_flags": [], "created_at": now,
                "updated_at": now, "submitted_at": now - timedelta(days=40),
            })
        nomination_ids = db.session.execute(
            insert(Nomination).returning(Nomination.id), rows).scalars().all()
        assignment_rows = [
            {"cycle_id": cycle.id, "nomination_id": n_id,
             "reviewer_id": people[(i + k) % reviewers].id, "status": "active",
             "source": "auto", "created_at": now, "declined_reason": "",
             "changed_since_review": []}
            for i, n_id in enumerate(nomination_ids) for k in range(3)]
        assignments = db.session.execute(insert(Assignment).returning(
            Assignment.id, Assignment.nomination_id, Assignment.reviewer_id),
            assignment_rows).all()
        scales = [Scale(c.id, c.scale_min, c.scale_max, c.weight) for c in criteria]
        review_rows = []
        submitted_per_nomination: dict[int, int] = {}
        for a_id, n_id, r_id in assignments:
            submitted = rnd.random() < 0.6
            scores = {str(c.id): rnd.randint(c.scale_min, c.scale_max) for c in criteria
                      if submitted or rnd.random() < 0.5}
            review_rows.append({
                "assignment_id": a_id, "cycle_id": cycle.id, "nomination_id": n_id,
                "reviewer_id": r_id, "status": "submitted" if submitted else "draft",
                "scores": scores, "recommendation": "yes" if submitted else "",
                "committee_comment": "A considered view." if submitted else "",
                "applicant_comment": "", "score": weighted_score(scales, scores),
                "revision": 3, "created_at": now, "updated_at": now,
                "submitted_at": now if submitted else None, "excluded_reason": ""})
            if submitted:
                submitted_per_nomination[n_id] = submitted_per_nomination.get(n_id, 0) + 1
        db.session.execute(insert(Review), review_rows)
        discussed = [n for n, k in submitted_per_nomination.items() if k >= 2]
        threads = db.session.execute(insert(Thread).returning(Thread.id, Thread.subject_id), [
            {"subject_type": "nomination", "subject_id": n, "audience": "committee",
             "created_at": now, "last_post_at": now} for n in discussed]).all()
        by_nomination = {(a[1], a[2]) for a in assignments}
        author = {n: next(r for (m, r) in by_nomination if m == n) for n in discussed}
        db.session.execute(insert(Post), [
            {"thread_id": t_id, "author_id": author[n], "author_role": "reviewer",
             "body": "What do you make of the English evidence?", "created_at": now}
            for t_id, n in threads])
        db.session.commit()
        mine = [(n, status) for (_a, n, r), row in zip(assignments, review_rows, strict=True)
                if r == people[0].id for status in [row["status"]]]
        result = {
            "emails": [people[0].email, people[1].email],
            "submitted": [n for n, s in mine if s == "submitted"][:4],
            "drafts": [n for n, s in mine if s == "draft"][:4],
            "specialty": cycle.specialties[3].id,
        }
        db.session.remove()
        db.engine.dispose()
    return result


def url_mix(ids: dict) -> list[str]:
    queue = ["/review", "/review?sort=status", "/review?sort=-specialty",
             "/review?status=submitted", f"/review?status=draft&specialty={ids['specialty']}",
             "/review?sort=-reference&page=2&per_page=25"]
    workspaces = [f"/review/{n}" for n in ids["submitted"] + ids["drafts"]]
    return queue + workspaces + ["/dashboard"]


def count_statements(settings: dict, ids: dict, email: str) -> dict[str, int]:
    from sqlalchemy import event

    from portal.extensions import db

    app = common.make_app({**settings, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.post("/login", data={"email": email, "password": common.BENCH_PASSWORD})
    counts = {}
    for url in url_mix(ids):
        if email != ids["emails"][0] and url.startswith("/review/"):
            continue  # the other reviewer's dossiers are not these
        statements: list[str] = []

        def _count(*_args, _s=statements) -> None:  # noqa: ANN002
            _s.append("x")

        client.get(url)  # warm-up
        event.listen(engine, "before_cursor_execute", _count)
        response = client.get(url)
        event.remove(engine, "before_cursor_execute", _count)
        assert response.status_code == 200, (url, response.status_code)
        counts[url] = len(statements)
    engine.dispose()
    return counts


def measure(settings: dict, ids: dict, requests_n: int, tmp) -> dict[str, list[float]]:  # noqa: ANN001
    mix = url_mix(ids)
    with common.gunicorn(settings, log=tmp / "gunicorn.log") as server:
        session = common.sign_in(server.url, ids["emails"][0])
        for url in mix:  # warm-up: caches, prepared plans, first imports
            session.get(server.url + url, timeout=60)
        times: dict[str, list[float]] = {"queue": [], "workspace": [], "dashboard": []}
        for n in range(requests_n):
            url = mix[n % len(mix)]
            started = time.perf_counter()
            response = session.get(server.url + url, timeout=60)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")
            kind = "dashboard" if url == "/dashboard" else (
                "queue" if url.startswith("/review?") or url == "/review" else "workspace")
            times[kind].append(elapsed)
    return times


def run(backend: str, args: argparse.Namespace) -> None:
    from sqlalchemy import create_engine, text

    with common.workdir(f"review-{backend}") as tmp:
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
            ids = generate(settings, args.nominations, args.reviewers)
            print(f"[{backend}] data: {args.nominations} nominations, {args.reviewers} "
                  f"reviewers, {args.nominations * 3} assignments and reviews in "
                  f"{time.perf_counter() - started:.1f} s")
            with create_engine(url).connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
            for email in ids["emails"]:
                counts = count_statements(settings, ids, email)
                queue = sorted({n for u, n in counts.items() if u.startswith("/review?")
                                or u == "/review"})
                space = sorted({n for u, n in counts.items() if u.startswith("/review/")})
                print(f"[{backend}] {email}: SQL statements per request (sign-in check "
                      f"included): queue {queue}, workspace {space or '-'}, dashboard "
                      f"{counts['/dashboard']}")
            times = measure(settings, ids, args.requests, tmp)
            load = os.getloadavg()[0]
            for kind, values in times.items():
                print(f"[{backend}] {kind} over HTTP (gunicorn, 1 worker; load average "
                      f"{load:.1f}): {common.summary_ms(values)}")
            print(f"[{backend}] goal: p95 < {30 if backend == 'sqlite' else 50} ms")
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text('DROP DATABASE IF EXISTS "portal_bench" WITH (FORCE)'))
                admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--nominations", type=int, default=500)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=240)
    args = parser.parse_args()
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        run(backend, args)


if __name__ == "__main__":
    main()
