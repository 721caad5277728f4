"""Test data of the alumni area: records, and a finished cycle with accepted trainees."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from portal.alumni.models import Alumnus
from portal.cycles.models import Cycle, Specialty
from portal.extensions import db
from portal.nominations.models import Nomination, NominationState

_seq = itertools.count(1)


def alumnus(**kw: Any) -> Alumnus:
    n = next(_seq)
    values: dict[str, Any] = {"family_name": f"Family{n}", "given_names": f"Given{n}",
                              "cycle_year": 2015, "country": "TH", "specialty": "cardiology",
                              "email": f"alumnus{n}@alumni.example.org"}
    values.update(kw)
    record = Alumnus(**values)
    db.session.add(record)
    db.session.commit()
    return record


def finished_cycle(factory: Any, accepted: int = 3, others: int = 1,
                   ends: date | None = None) -> tuple[Cycle, list[Nomination]]:
    """A cycle whose training has ended, with `accepted` accepted and `others` rejected
    nominations from one institution."""
    n = next(_seq)
    ends = ends or date.today() - timedelta(days=10)
    start = ends - timedelta(days=90)
    cycle = Cycle(name=f"FY{start.year}-{n}", status="closed",
                  opens_at=datetime(start.year - 1, 4, 1, tzinfo=UTC),
                  closes_at=datetime(start.year - 1, 6, 1, tzinfo=UTC),
                  training_starts_on=start, training_ends_on=ends)
    cycle.specialties = [Specialty(code="cardiology", name="Cardiology")]
    db.session.add(cycle)
    institution = factory.institution(country="VN", name=f"Hanoi Hospital {n}")
    db.session.flush()
    nominations = []
    for i in range(accepted + others):
        state = NominationState.ACCEPTED if i < accepted else NominationState.REJECTED
        nominations.append(Nomination(
            reference=f"N{n}-{i}", cycle_id=cycle.id, institution_id=institution.id,
            country="VN", state=state, family_name=f"Tran{n}x{i}", given_names="Thi",
            date_of_birth=date(1985, 1, 1 + i), email=f"trainee{n}.{i}@hospital.example.org",
            position="Physician", specialty_id=cycle.specialties[0].id))
    db.session.add_all(nominations)
    db.session.commit()
    return cycle, nominations

