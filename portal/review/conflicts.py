"""Conflicts of interest: typed, one target each (an institution, a country or one
nomination), from four sources.

- The reviewer declares theirs for the cycle up front, from the list of institutions
  (and countries) that nominated; in a blind cycle this list is the one place a reviewer
  sees institutions, never tied to a candidate. "No conflicts" is an answer too
  (PoolMember.conflicts_declared_at).
- The reviewer declares one on an assigned dossier (the workspace; it takes effect here).
- Staff enter them.
- The portal finds them (`refresh_automatic`), when the pool changes, before an
  assignment run and on request:
    own institution: the reviewer's account or pool affiliation names a portal
      institution -> active;
    an alumnus reviewer's institution: the institution of the nomination their alumni
      record came from -> active; the same name typed as their institution then or now
      -> to confirm;
    a free-text pool affiliation naming an institution that nominated -> to confirm;
    the same e-mail domain as the nominating institution's people (its nominators, its
      head and its contact), public mail providers excluded -> to confirm (a ministry's
      domain covers many hospitals).
  Each finding is one row per reviewer, target and rule (the UNIQUE constraint): staff's
  answer sticks, and a dismissed match is never raised again.

A conflict that blocks (active, or waiting for staff: private by default) takes effect
at once: the reviewer's active assignments to the dossiers it covers are removed by the
portal, and a review already submitted leaves every aggregate (Review.excluded_at;
staff still see it). Dismissing the conflict gives both back when nothing else blocks.
Reviewers are never told which automatic rule matched; they see their own declarations
only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from portal.accounts.models import Role, User, UserRole
from portal.alumni.models import Alumnus
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import rowcount, utcnow
from portal.errors import Conflict as ConflictError
from portal.errors import Refused
from portal.extensions import db
from portal.institutions.models import Institution
from portal.lifecycle import STAFF, SYSTEM, Lifecycle, move
from portal.listing import ListFilters, Page, choice, page_of, parse_int
from portal.nominations.lifecycle import NominationState
from portal.nominations.models import Nomination
from portal.review.lifecycle import ASSIGNMENT
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictKind,
    ConflictSource,
    ConflictStatus,
    EndedBy,
    PoolMember,
    Review,
    ReviewStatus,
)
from portal.review.setup import lock_setup

C = ConflictStatus

# The conflict's own lifecycle: staff confirm a match, dismiss a conflict, or take a
# dismissal back.
CONFLICT = Lifecycle("conflict", list(ConflictStatus), [
    move("confirm", {C.TO_CONFIRM}, C.ACTIVE, STAFF),
    move("dismiss", {C.ACTIVE, C.TO_CONFIRM}, C.DISMISSED, STAFF),
    move("reinstate", {C.DISMISSED}, C.ACTIVE, STAFF),
])
# Conflicts that keep a reviewer away (the policy's blocking_conflict says the same).
BLOCKING_STATES = frozenset(CONFLICT.states) - CONFLICT.targets("dismiss")

KIND_LABELS = {
    ConflictKind.OWN_INSTITUTION: _l("Own institution"),
    ConflictKind.FORMER_COLLEAGUE: _l("Former colleague or institution"),
    ConflictKind.PERSONAL: _l("Personal or family"),
    ConflictKind.COUNTRY: _l("Country"),
    ConflictKind.OTHER: _l("Other"),
}
SOURCE_LABELS = {
    ConflictSource.REVIEWER: _l("Declared by the reviewer"),
    ConflictSource.DOSSIER: _l("Declared on a dossier"),
    ConflictSource.STAFF: _l("Entered by staff"),
    ConflictSource.AUTOMATIC: _l("Found by the portal"),
}
STATUS_LABELS = {
    C.ACTIVE: _l("Active"),
    C.TO_CONFIRM: _l("To confirm"),
    C.DISMISSED: _l("Dismissed"),
}
# What staff read for each automatic rule (reviewers never see these).
REASON_LABELS = {
    "own_institution": _l("The reviewer's own institution"),
    "alumnus_institution": _l("The reviewer trained with the program from this institution"),
    "alumnus_institution_text": _l("The reviewer's alumni record names this institution"),
    "affiliation_text": _l("The reviewer's affiliation has this institution's name"),
    "email_domain": _l("Same e-mail domain as this institution's people"),
}

# Mail providers anyone can use: a shared domain says nothing about who works where.
# (Add a provider when staff see it raised as a match; the list is kept in code so a
# change is reviewed like any rule.)
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.jp", "yahoo.com.vn",
    "yahoo.com.ph", "yahoo.co.id", "yahoo.co.th", "ymail.com", "hotmail.com",
    "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "proton.me", "protonmail.com", "gmx.com", "gmx.net", "mail.com", "zoho.com",
    "yandex.com", "qq.com", "163.com", "126.com", "naver.com", "daum.net", "docomo.ne.jp",
    "ezweb.ne.jp", "softbank.ne.jp", "example.org", "example.com",
})

EXCLUDED_REASON = "A conflict of interest was found after the review was submitted."


class ConflictRefused(Refused):
    """A refused conflict entry or decision; the message is shown to the user."""


def domain_of(email: str | None) -> str:
    return (email or "").rpartition("@")[2].strip().lower()


def _norm(name: str | None) -> str:
    return " ".join((name or "").casefold().split())


def target_of(*, institution_id: int | None = None, country: str | None = None,
              nomination_id: int | None = None) -> str:
    if institution_id is not None:
        return f"institution:{institution_id}"
    if nomination_id is not None:
        return f"nomination:{nomination_id}"
    return f"country:{country}"


# -- who nominated ------------------------------------------------------------------------


def _nominated(cycle_id: int) -> Select[tuple[int]]:
    return select(Nomination.institution_id).where(
        Nomination.cycle_id == cycle_id, Nomination.state != NominationState.DRAFT)


def nominating_institutions(cycle_id: int) -> list[Institution]:
    """Institutions with a nomination past its draft in the cycle, by country and name."""
    return list(db.session.scalars(select(Institution).where(
        Institution.id.in_(_nominated(cycle_id)))
        .order_by(Institution.country, Institution.name, Institution.id)))


def nominating_countries(cycle_id: int) -> list[str]:
    return list(db.session.scalars(select(Nomination.country).where(
        Nomination.cycle_id == cycle_id, Nomination.state != NominationState.DRAFT)
        .distinct().order_by(Nomination.country)))


def pool_member(cycle_id: int, user_id: int) -> PoolMember | None:
    return db.session.scalar(select(PoolMember).where(
        PoolMember.cycle_id == cycle_id, PoolMember.user_id == user_id))


def active_member_or_none(cycle_id: int, user: User | None) -> PoolMember | None:
    """The reviewer's active pool membership of the cycle (the declaration page's rule)."""
    if user is None or not user.has_role(Role.REVIEWER):
        return None
    member = pool_member(cycle_id, user.id)
    return member if member is not None and member.active else None


# -- taking effect ------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    removed: int  # active assignments removed
    excluded: int  # submitted reviews taken out of the aggregates


def _covers(conflict: Conflict, nomination: Nomination) -> bool:
    return (conflict.nomination_id == nomination.id
            or conflict.institution_id == nomination.institution_id
            or (conflict.country is not None and conflict.country == nomination.country))


def take_effect(conflicts: Sequence[Conflict], actor: User | None) -> Effect:
    """Blocking conflicts (flushed) remove their reviewers' active assignments to the
    dossiers they cover and exclude the reviews submitted there. One query finds the
    assignments, whatever the number of conflicts."""
    blocking = [c for c in conflicts if c.status in BLOCKING_STATES]
    if not blocking:
        return Effect(0, 0)
    by_reviewer: dict[tuple[int, int], list[Conflict]] = {}
    for c in blocking:
        by_reviewer.setdefault((c.cycle_id, c.reviewer_id), []).append(c)
    rows = db.session.execute(
        select(Assignment, Nomination).join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(or_(*(and_(Assignment.cycle_id == cycle_id, Assignment.reviewer_id == reviewer_id)
                     for cycle_id, reviewer_id in by_reviewer)),
               Assignment.status.in_(ASSIGNMENT.sources("remove", SYSTEM)))).all()
    roles = (STAFF, SYSTEM) if actor is not None and actor.has_role(Role.STAFF) else (SYSTEM,)
    now = utcnow()
    removed: dict[int, list[int]] = {}  # conflict id -> assignment ids
    for assignment, nomination in rows:
        cause = next((c for c in by_reviewer[(assignment.cycle_id, assignment.reviewer_id)]
                      if _covers(c, nomination)), None)
        if cause is None:
            continue
        ASSIGNMENT.check(assignment.status, "remove", roles)
        removed.setdefault(cause.id, []).append(assignment.id)
    excluded = 0
    for conflict_id, ids in removed.items():
        db.session.execute(
            update(Assignment).where(Assignment.id.in_(ids),
                                     Assignment.status.in_(ASSIGNMENT.sources("remove")))
            .values(status=AssignmentStatus.REMOVED, ended_at=now, ended_by=EndedBy.SYSTEM,
                    removed_by_conflict_id=conflict_id)
            .execution_options(synchronize_session="fetch"))
        excluded += rowcount(db.session.execute(
            update(Review).where(Review.assignment_id.in_(ids),
                                 Review.status == ReviewStatus.SUBMITTED,
                                 Review.excluded_at.is_(None))
            .values(excluded_at=now, excluded_reason=EXCLUDED_REASON)
            .execution_options(synchronize_session="fetch")))
        record("review.assignments_removed_by_conflict", actor=actor, object_type="conflict",
               object_id=conflict_id, details={"assignments": ids})
    return Effect(sum(len(ids) for ids in removed.values()), excluded)


def _give_back(conflict: Conflict, actor: User) -> int:
    """Assignments `conflict` removed come back (and their reviews count again) where no
    other blocking conflict covers the dossier. Returns how many came back."""
    rows = db.session.execute(
        select(Assignment, Nomination).join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(Assignment.removed_by_conflict_id == conflict.id,
               Assignment.status.in_(ASSIGNMENT.sources("reassign", STAFF)))).all()
    others = list(db.session.scalars(select(Conflict).where(
        Conflict.cycle_id == conflict.cycle_id, Conflict.reviewer_id == conflict.reviewer_id,
        Conflict.id != conflict.id, Conflict.status.in_(BLOCKING_STATES))))
    back: list[int] = []
    for assignment, nomination in rows:
        still = next((c for c in others if _covers(c, nomination)), None)
        if still is not None:
            assignment.removed_by_conflict_id = still.id
            continue
        ASSIGNMENT.check(assignment.status, "reassign", (STAFF,))
        assignment.status = AssignmentStatus.ACTIVE
        assignment.ended_at = None
        assignment.ended_by = ""
        assignment.removed_by_conflict_id = None
        back.append(assignment.id)
    if back:
        db.session.execute(
            update(Review).where(Review.assignment_id.in_(back),
                                 Review.excluded_reason == EXCLUDED_REASON)
            .values(excluded_at=None, excluded_reason="")
            .execution_options(synchronize_session="fetch"))
        record("review.assignments_given_back", actor=actor, object_type="conflict",
               object_id=conflict.id, details={"assignments": back})
    return len(back)


# -- entering and declaring -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    institution_id: int | None = None
    country: str | None = None
    nomination_id: int | None = None

    @property
    def key(self) -> str:
        return target_of(institution_id=self.institution_id, country=self.country,
                         nomination_id=self.nomination_id)


def _check_target(cycle: Cycle, target: Target) -> None:
    given = [v for v in (target.institution_id, target.country, target.nomination_id)
             if v is not None]
    if len(given) != 1:
        raise ConflictRefused(_l("Choose one institution, one country or one nomination."))
    if target.institution_id is not None and db.session.get(
            Institution, target.institution_id) is None:
        raise ConflictRefused(_l("Choose an institution from the list."))
    if target.country is not None and (len(target.country) != 2
                                       or not target.country.isalpha()
                                       or not target.country.isupper()):
        raise ConflictRefused(_l("Choose a country from the list."))
    if target.nomination_id is not None:
        nomination = db.session.get(Nomination, target.nomination_id)
        if nomination is None or nomination.cycle_id != cycle.id:
            raise ConflictRefused(_l("That nomination is not in this cycle."))


def _upsert(cycle: Cycle, reviewer_id: int, target: Target, *, kind: str, note: str,
            source: str, status: str, reason_code: str, actor: User | None,
            existing: Mapping[tuple[int, str, str], Conflict] | None = None,
            ) -> tuple[Conflict, bool]:
    """The conflict row for (reviewer, target, rule): made, or a dismissed one taken
    back (a declaration wins over an earlier dismissal). Returns (row, changed)."""
    key = (reviewer_id, target.key, reason_code)
    row = existing.get(key) if existing is not None else db.session.scalar(
        select(Conflict).where(Conflict.cycle_id == cycle.id,
                               Conflict.reviewer_id == reviewer_id,
                               Conflict.target == target.key,
                               Conflict.reason_code == reason_code))
    if row is not None:
        if row.status in BLOCKING_STATES:
            return row, False
        row.status = status
        row.kind, row.note, row.source = kind, note or row.note, source
        row.decided_at = None
        row.decided_by_id = None
        return row, True
    row = Conflict(cycle_id=cycle.id, reviewer_id=reviewer_id,
                   institution_id=target.institution_id, country=target.country,
                   nomination_id=target.nomination_id, target=target.key, kind=kind,
                   note=note, source=source, status=status, reason_code=reason_code,
                   created_by_id=actor.id if actor is not None else None)
    db.session.add(row)
    return row, True


def _kind(value: str) -> str:
    if value not in {str(k) for k in ConflictKind}:
        raise ConflictRefused(_l("Choose what kind of conflict this is."))
    return value


def add_conflict(cycle: Cycle, reviewer: User, target: Target, *, kind: str, note: str,
                 actor: User, source: str = ConflictSource.STAFF) -> tuple[Conflict, Effect]:
    """Staff enter a conflict (or a reviewer declares one on a dossier: `source`
    DOSSIER, actor the reviewer). It takes effect at once."""
    _check_target(cycle, target)
    kind = _kind(kind)
    member = pool_member(cycle.id, reviewer.id)
    if member is None:
        raise ConflictRefused(_l("This person is not in the cycle's reviewer pool."))
    lock_setup(cycle)
    row, changed = _upsert(cycle, reviewer.id, target, kind=kind, note=note.strip()[:2000],
                           source=source, status=C.ACTIVE, reason_code="", actor=actor)
    if not changed:
        raise ConflictError(_l("This conflict is already recorded."), code="already_done")
    db.session.flush()
    effect = take_effect([row], actor)
    record("review.conflict_added", actor=actor, object_type="conflict", object_id=row.id,
           details={"cycle": cycle.id, "reviewer": reviewer.id, "target": row.target,
                    "kind": kind, "source": source, "removed": effect.removed,
                    "excluded": effect.excluded})
    return row, effect


@dataclass(frozen=True)
class Declaration:
    """What a reviewer ticked on the declaration page."""

    institutions: Mapping[int, tuple[str, str]]  # institution id -> (kind, note)
    countries: Mapping[str, str]  # country -> note


def declare_up_front(cycle: Cycle, reviewer: User, declaration: Declaration,
                     ) -> list[Conflict]:
    """The reviewer's own answer for the cycle: conflicts with institutions and countries
    that nominated, or none. Recorded with the time (PoolMember.conflicts_declared_at);
    declaring again adds to what was declared (taking one back is for staff)."""
    member = active_member_or_none(cycle.id, reviewer)
    if member is None:
        raise ConflictRefused(_l("You are not in this cycle's reviewer pool."))
    allowed_institutions = {i.id for i in nominating_institutions(cycle.id)}
    allowed_countries = set(nominating_countries(cycle.id))
    if set(declaration.institutions) - allowed_institutions:
        raise ConflictRefused(_l("Choose institutions from the list."))
    if set(declaration.countries) - allowed_countries:
        raise ConflictRefused(_l("Choose countries from the list."))
    lock_setup(cycle)
    made: list[Conflict] = []
    for institution_id, (kind, note) in sorted(declaration.institutions.items()):
        kind = _kind(kind)
        row, changed = _upsert(cycle, reviewer.id, Target(institution_id=institution_id),
                               kind=kind, note=note.strip()[:2000],
                               source=ConflictSource.REVIEWER, status=C.ACTIVE,
                               reason_code="", actor=reviewer)
        if changed:
            made.append(row)
    for country, note in sorted(declaration.countries.items()):
        row, changed = _upsert(cycle, reviewer.id, Target(country=country),
                               kind=ConflictKind.COUNTRY, note=note.strip()[:2000],
                               source=ConflictSource.REVIEWER, status=C.ACTIVE,
                               reason_code="", actor=reviewer)
        if changed:
            made.append(row)
    db.session.flush()
    effect = take_effect(made, None)
    member.conflicts_declared_at = utcnow()
    record("review.conflicts_declared", actor=reviewer, object_type="cycle",
           object_id=cycle.id, details={"conflicts": [c.target for c in made],
                                        "none": not made and not declaration.institutions
                                        and not declaration.countries,
                                        "removed": effect.removed})
    return made


def declared_by(cycle_id: int, reviewer_id: int) -> list[Conflict]:
    """The reviewer's own declarations (never what the portal found)."""
    return list(db.session.scalars(select(Conflict).where(
        Conflict.cycle_id == cycle_id, Conflict.reviewer_id == reviewer_id,
        Conflict.source.in_([ConflictSource.REVIEWER, ConflictSource.DOSSIER]),
        Conflict.status != C.DISMISSED).order_by(Conflict.id)))


def decide(conflict: Conflict, name: str, actor: User) -> Effect | int:
    """Staff confirm a match, dismiss a conflict (its removed assignments come back), or
    take a dismissal back (it takes effect again). A conditional UPDATE on the table's
    sources: two staff deciding at once cannot both move it."""
    roles = (STAFF,) if actor.has_role(Role.STAFF) else ()
    done = {"confirm": _l("This conflict is already confirmed."),
            "dismiss": _l("This conflict is already dismissed."),
            "reinstate": _l("This conflict is already active.")}.get(name)
    found = CONFLICT.check(conflict.status, name, roles, done=done)
    previous = conflict.status
    result = db.session.execute(
        update(Conflict).where(Conflict.id == conflict.id,
                               Conflict.status.in_(CONFLICT.sources(name, STAFF)))
        .values(status=found.target, decided_at=utcnow(), decided_by_id=actor.id)
        .execution_options(synchronize_session="fetch"))
    if rowcount(result) != 1:
        db.session.refresh(conflict)
        CONFLICT.check(conflict.status, name, roles, done=done)
        raise ConflictError(_l("Someone else decided this conflict at the same moment. "
                               "Please reload the page."), code="race")
    db.session.refresh(conflict)
    outcome: Effect | int
    if name == "dismiss":
        outcome = _give_back(conflict, actor)
    elif name == "reinstate":
        outcome = take_effect([conflict], actor)
    else:
        outcome = 0
    record(f"review.conflict_{found.target}", actor=actor, object_type="conflict",
           object_id=conflict.id, details={"from": previous, "to": found.target,
                                           "reviewer": conflict.reviewer_id,
                                           "target": conflict.target})
    return outcome


# -- automatic conflicts ------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    reviewer_id: int
    institution_id: int
    kind: str
    status: str
    reason_code: str


def _findings(cycle_id: int, members: Sequence[tuple[PoolMember, User]]) -> list[Finding]:
    institutions = nominating_institutions(cycle_id)
    by_name: dict[str, list[Institution]] = {}
    for inst in institutions:
        by_name.setdefault(_norm(inst.name), []).append(inst)
    domains: dict[str, set[int]] = {}  # e-mail domain -> institutions whose people use it

    def add_domain(email: str | None, institution_id: int) -> None:
        domain = domain_of(email)
        if domain and domain not in PUBLIC_MAIL_DOMAINS:
            domains.setdefault(domain, set()).add(institution_id)

    for inst in institutions:
        add_domain(inst.head_email, inst.id)
        add_domain(inst.contact_email, inst.id)
    ids = [i.id for i in institutions]
    if ids:
        for institution_id, email in db.session.execute(
                select(User.institution_id, User.email)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == str(Role.NOMINATOR), User.institution_id.in_(ids))):
            if institution_id is not None:
                add_domain(email, institution_id)
    user_ids = [u.id for _m, u in members]
    trained_from = aliased(Nomination)
    alumni: dict[int, list[tuple[str, str, int | None]]] = {}
    if user_ids:
        for user_id, now_name, then_name, institution_id in db.session.execute(
                select(Alumnus.user_id, Alumnus.institution_now, Alumnus.institution_then,
                       trained_from.institution_id)
                .outerjoin(trained_from, trained_from.id == Alumnus.nomination_id)
                .where(Alumnus.user_id.in_(user_ids), Alumnus.merged_into_id.is_(None))):
            if user_id is not None:
                alumni.setdefault(user_id, []).append((now_name, then_name, institution_id))

    found: list[Finding] = []
    for member, user in members:
        def add(institution_id: int, kind: str, status: str, reason: str,
                reviewer_id: int = user.id) -> None:
            found.append(Finding(reviewer_id, institution_id, kind, status, reason))

        for own in {user.institution_id, member.institution_id} - {None}:
            assert own is not None
            add(own, ConflictKind.OWN_INSTITUTION, C.ACTIVE, "own_institution")
        for now_name, then_name, linked in alumni.get(user.id, []):
            if linked is not None:
                add(linked, ConflictKind.FORMER_COLLEAGUE, C.ACTIVE, "alumnus_institution")
            for name, kind in ((now_name, ConflictKind.OWN_INSTITUTION),
                               (then_name, ConflictKind.FORMER_COLLEAGUE)):
                for inst in by_name.get(_norm(name), []) if _norm(name) else []:
                    add(inst.id, kind, C.TO_CONFIRM, "alumnus_institution_text")
        if _norm(member.affiliation_name):
            for inst in by_name.get(_norm(member.affiliation_name), []):
                if not member.affiliation_country or member.affiliation_country == inst.country:
                    add(inst.id, ConflictKind.OWN_INSTITUTION, C.TO_CONFIRM, "affiliation_text")
        domain = domain_of(user.email)
        for institution_id in sorted(domains.get(domain, ())):
            add(institution_id, ConflictKind.OWN_INSTITUTION, C.TO_CONFIRM,
                f"email_domain:{domain}")
    return found


def refresh_automatic(cycle: Cycle, reviewer_ids: Iterable[int] | None = None) -> int:
    """Find the automatic conflicts of the cycle's active pool (or of `reviewer_ids`)
    and record the new ones; they take effect at once. Runs under the cycle's settings
    lock, so two refreshes at once record each finding once. Returns how many are new.
    A constant number of queries, whatever the size of the pool."""
    lock_setup(cycle)
    query = select(PoolMember, User).join(User, User.id == PoolMember.user_id).where(
        PoolMember.cycle_id == cycle.id, PoolMember.active.is_(True))
    if reviewer_ids is not None:
        query = query.where(PoolMember.user_id.in_(list(reviewer_ids)))
    members = [(m, u) for m, u in db.session.execute(query).all()]
    if not members:
        return 0
    existing = {(c.reviewer_id, c.target, c.reason_code): c for c in db.session.scalars(
        select(Conflict).where(Conflict.cycle_id == cycle.id,
                               Conflict.reviewer_id.in_([u.id for _m, u in members])))}
    made: list[Conflict] = []
    seen: set[tuple[int, str, str]] = set()
    for f in _findings(cycle.id, members):
        target = Target(institution_id=f.institution_id)
        key = (f.reviewer_id, target.key, f.reason_code)
        if key in existing or key in seen:
            continue  # found before: staff's answer (or the first finding) stands
        seen.add(key)
        row = Conflict(cycle_id=cycle.id, reviewer_id=f.reviewer_id,
                       institution_id=f.institution_id, target=target.key, kind=f.kind,
                       source=ConflictSource.AUTOMATIC, status=f.status,
                       reason_code=f.reason_code, note="")
        db.session.add(row)
        made.append(row)
    if made:
        db.session.flush()
        effect = take_effect(made, None)
        record("review.conflicts_found", actor=None, object_type="cycle", object_id=cycle.id,
               details={"new": len(made), "removed": effect.removed,
                        "excluded": effect.excluded})
    return len(made)


def reason_label(reason_code: str) -> object:
    return REASON_LABELS.get(reason_code.partition(":")[0], reason_code)


# -- the staff list -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictFilters(ListFilters):
    PER_PAGE = 50
    PER_PAGE_CHOICES = (50, 100)

    status: str = ""
    reviewer: int | None = None
    source: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"status": choice(args.get("status"), [str(s) for s in ConflictStatus]),
                "reviewer": parse_int(args.get("reviewer")),
                "source": choice(args.get("source"), [str(s) for s in ConflictSource])}


@dataclass(frozen=True)
class ConflictRow:
    conflict: Conflict
    reviewer: User
    institution: Institution | None
    nomination: Nomination | None
    removed: int  # assignments this conflict removed, still removed


def conflicts_page(cycle: Cycle, f: ConflictFilters) -> Page[ConflictRow]:
    """The cycle's conflicts, those waiting for staff first (four queries a page)."""
    waiting = func.coalesce(func.nullif(Conflict.status, C.TO_CONFIRM), "")
    query = (select(Conflict, User, Institution, Nomination)
             .join(User, User.id == Conflict.reviewer_id)
             .outerjoin(Institution, Institution.id == Conflict.institution_id)
             .outerjoin(Nomination, Nomination.id == Conflict.nomination_id)
             .where(Conflict.cycle_id == cycle.id)
             .order_by(waiting, User.name, Conflict.id))
    if f.status:
        query = query.where(Conflict.status == f.status)
    if f.reviewer is not None:
        query = query.where(Conflict.reviewer_id == f.reviewer)
    if f.source:
        query = query.where(Conflict.source == f.source)
    page = page_of(query, f.page, f.size, scalars=False)
    ids = [row[0].id for row in page.items]
    removed = dict(db.session.execute(
        select(Assignment.removed_by_conflict_id, func.count()).where(
            Assignment.removed_by_conflict_id.in_(ids),
            Assignment.status == AssignmentStatus.REMOVED)
        .group_by(Assignment.removed_by_conflict_id)).tuples().all()) if ids else {}
    items = [ConflictRow(c, u, i, n, int(removed.get(c.id, 0))) for c, u, i, n in page.items]
    return Page(items=items, page=page.page, per_page=page.per_page,
                has_more=page.has_more, total=page.total)


def pool_reviewers(cycle_id: int) -> list[User]:
    """The cycle's pool (active or not), by name: the staff form's choice of reviewer."""
    return list(db.session.scalars(select(User).join(PoolMember, PoolMember.user_id == User.id)
                                   .where(PoolMember.cycle_id == cycle_id)
                                   .order_by(User.name, User.id)))


def cycle_nominations(cycle_id: int) -> list[Nomination]:
    """Nominations past their draft (the staff form's choice of one nomination)."""
    return list(db.session.scalars(select(Nomination).where(
        Nomination.cycle_id == cycle_id, Nomination.state != NominationState.DRAFT)
        .order_by(Nomination.reference)))

