"""The lifecycle table is the one rule of who may move a nomination where.

For every state, every service that changes a state and every kind of person, the service
makes the move exactly when the table has it (submit: with a complete nomination), and
otherwise refuses with a PortalError and leaves the state as it was; the policy's
predicates (which buttons show) say the same. Objects are built directly and the services
called as one unit of work each, as a request would (no HTTP).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from portal.errors import PortalError
from portal.extensions import db
from portal.lifecycle import INSTITUTION, STAFF, SYSTEM
from portal.nominations import policy, workflow
from portal.nominations.lifecycle import NOMINATION, NominationState
from portal.nominations.models import Nomination
from portal.transaction import run_unit
from tests.nominations.factories import make_nomination

# As whom each kind of person acts on a nomination of institution A, written out here
# (not asked from the policy, whose answer is under test too).
ACTORS: dict[str, frozenset[str]] = {
    "staff": frozenset({STAFF}),
    "nominator": frozenset({INSTITUTION}),  # of institution A, which owns the nomination
    "other_nominator": frozenset(),  # of institution B
    "reviewer": frozenset(),
    "alumnus": frozenset(),
    "nobody": frozenset({SYSTEM}),  # no user: a job or a command
}


def _submit_move(state: str) -> str:
    return "resubmit" if state in (NominationState.RETURNED, NominationState.RESUBMITTED) \
        else "submit"


# service -> (its move from a state, how to call it, the policy predicate if it has one)
SERVICES: dict[str, tuple[Callable[[str], str], Callable[[Nomination, object], object],
                          Callable[[object, Nomination], bool] | None]] = {
    "submit": (_submit_move, workflow.submit, policy.may_submit),
    "withdraw": (lambda s: "withdraw",
                 lambda n, actor: workflow.withdraw(n, actor, "The candidate withdrew."),
                 policy.may_withdraw),
    "return_for_changes": (lambda s: "return",
                           lambda n, actor: workflow.return_for_changes(
                               n, actor, "Please fix the CV.", []), None),
    "mark_under_review": (lambda s: "start_review", workflow.mark_under_review, None),
}


@pytest.fixture
def people(factory):  # noqa: ANN001, ANN201
    a = factory.institution(name="Institution A")
    b = factory.institution(name="Institution B", country="VN", timezone="Asia/Ho_Chi_Minh")
    return a, {"staff": factory.staff(), "nominator": factory.nominator(a),
               "other_nominator": factory.nominator(b), "reviewer": factory.reviewer(),
               "alumnus": factory.alumnus(), "nobody": None}


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_move_not_in_the_table_is_refused(app, people, cycle, service):  # noqa: ANN001
    institution, users = people
    move_of, call, predicate = SERVICES[service]
    wrong: list[str] = []
    for state in NominationState:
        move = move_of(state)
        allowed = [k for k, roles in ACTORS.items() if NOMINATION.may(state, move, roles)]
        # One nomination per state: the refused first, then whoever may (the move changes
        # it). Files only where the move needs them (submit: a complete nomination).
        nomination = make_nomination(cycle, institution, state=state,
                                     documents=None if service == "submit" else ())
        for kind in sorted(ACTORS, key=lambda k: k in allowed):
            actor = users[kind]
            db.session.expire_all()
            nomination = db.session.get(Nomination, nomination.id)
            says = predicate(actor, nomination) if predicate is not None else None
            if says is not None and says != (kind in allowed):
                wrong.append(f"{state}: the policy says {kind} may{'' if says else ' not'} "
                             f"{move}, the table the opposite")
            with app.test_request_context():
                try:
                    run_unit(call, nomination, actor)
                    outcome = "done"
                except PortalError:
                    outcome = "refused"
            now = db.session.scalar(select(Nomination.state).where(
                Nomination.id == nomination.id))
            if kind in allowed:
                target = next(iter(NOMINATION.targets(move)))
                if (outcome, now) != ("done", target):
                    wrong.append(f"{state} -{move}-> by {kind}: {outcome}, now {now}")
            elif (outcome, now) != ("refused", state):
                wrong.append(f"{state} -{move}-> by {kind} (not in the table): {outcome}, "
                             f"now {now}")
    assert not wrong, "\n".join(wrong)


def test_an_accepted_nomination_may_be_withdrawn_by_its_institution(app, people, cycle):  # noqa: ANN001
    """Policy and workflow agree (Selection II makes this how an offer is declined)."""
    institution, users = people
    nomination = make_nomination(cycle, institution, state=NominationState.ACCEPTED)
    assert policy.may_withdraw(users["nominator"], nomination)
    assert not policy.may_withdraw(users["staff"], nomination)
    with app.test_request_context():
        run_unit(workflow.withdraw, nomination, users["nominator"], "Declined the place.")
    db.session.expire_all()
    withdrawn = db.session.get(Nomination, nomination.id)
    assert withdrawn.state == NominationState.WITHDRAWN
    assert withdrawn.withdrawn_reason == "Declined the place."
