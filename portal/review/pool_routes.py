"""Staff pages of a cycle's reviewer pool and conflicts of interest, and the reviewer's
own declaration of conflicts for a cycle."""

from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm

from portal.accounts.models import Role, User
from portal.accounts.policy import current_account, role_required, staff_required
from portal.accounts.services import AccountError
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.i18n import country_choices
from portal.listing import parse_int
from portal.review import bp, conflicts, pool
from portal.review.blind import is_blind
from portal.review.conflicts import KIND_LABELS, REASON_LABELS, SOURCE_LABELS, STATUS_LABELS
from portal.review.models import Conflict, ConflictKind, ConflictSource
from portal.review.setup import setup_of
from portal.review.setup_forms import ConflictForm, InviteForm, MemberForm
from portal.transaction import attempt
from portal.web import back_to, is_htmx, see_other


def _cycle(cycle_id: int) -> Cycle:
    return db.get_or_404(Cycle, cycle_id)


# -- the pool -------------------------------------------------------------------------


def _pool_page(cycle: Cycle, invite_form: InviteForm | None = None, status: int = 200,
               error: str | None = None) -> ResponseReturnValue:
    q = str(request.args.get("q") or "").strip()[:100]
    found = pool.candidates(cycle, q)
    if is_htmx() and request.method == "GET":
        return render_template("review/setup/_candidates.html", cycle=cycle, found=found, q=q)
    existing = setup_of(cycle.id)
    return render_template(
        "review/setup/pool.html", cycle=cycle, rows=pool.pool_rows(cycle), q=q, found=found,
        default_load=existing.default_load if existing else 15,
        invite_form=invite_form or InviteForm(formdata=None), error=error,
        specialty_names={s.code: s.name for s in cycle.specialties},
        language_name=pool.language_name), status


@bp.route("/staff/review/<int:cycle_id>/pool")
@staff_required
def pool_page(cycle_id: int) -> ResponseReturnValue:
    return _pool_page(_cycle(cycle_id))


@bp.post("/staff/review/<int:cycle_id>/pool")
@staff_required
def add_to_pool(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    back_to(url_for("review.pool_page", cycle_id=cycle.id))
    user_id = parse_int(request.form.get("user_id"))
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not FlaskForm().validate_on_submit():
        abort(400)
    pool.add_member(cycle, user, current_account())
    flash(_("%(name)s is in the pool. Set their specialties and load.", name=user.name),
          "success")
    return see_other("review.pool_page", cycle_id=cycle.id)


@bp.post("/staff/review/<int:cycle_id>/pool/invite")
@staff_required
def invite_to_pool(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    form = InviteForm()
    error = None
    if form.validate_on_submit():
        try:
            with attempt():
                member = pool.invite_member(cycle, email=form.email.data or "",
                                            name=form.name.data or "",
                                            language=form.language.data or "en",
                                            actor=current_account())
        except (pool.PoolError, AccountError) as e:
            error = str(e.message)
        else:
            flash(_("Invitation sent; the person is in the pool."), "success")
            return see_other("review.pool_member", cycle_id=cycle.id, member_id=member.id)
    return _pool_page(cycle, form, 422, error)


def _member_or_404(cycle: Cycle, member_id: int) -> pool.PoolMember:
    member = pool.member_of_cycle(cycle, member_id)
    if member is None:
        abort(404)
    return member


def _member_form(cycle: Cycle, member: pool.PoolMember) -> MemberForm:
    form = MemberForm(data={
        "specialties": list(member.specialties or []), "load_limit": member.load_limit,
        "institution_id": member.institution_id, "affiliation_name": member.affiliation_name,
        "affiliation_country": member.affiliation_country,
        "languages": ", ".join(member.languages or [])})
    form.specialties.choices = [(s.code, s.name) for s in cycle.specialties]
    form.institution_id.choices = [("", "—"), *pool.institution_choices()]
    form.affiliation_country.choices = [("", "—"), *country_choices()]
    return form


@bp.route("/staff/review/<int:cycle_id>/pool/<int:member_id>", methods=["GET", "POST"])
@staff_required
def pool_member(cycle_id: int, member_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    member = _member_or_404(cycle, member_id)
    user = db.session.get(User, member.user_id)
    form = _member_form(cycle, member)
    error = None
    if form.validate_on_submit():
        try:
            with attempt():
                values = {
                    "specialties": form.specialties.data or [],
                    "load_limit": form.load_limit.data,
                    "institution_id": form.institution_id.data,
                    "affiliation_name": form.affiliation_name.data or "",
                    "affiliation_country": form.affiliation_country.data or "",
                    "languages": pool.parse_languages(form.languages.data or ""),
                }
                pool.update_member(cycle, member, values, current_account())
        except pool.PoolError as e:
            error = str(e.message)
        else:
            flash(_("Saved."), "success")
            return see_other("review.pool_page", cycle_id=cycle.id)
    existing = setup_of(cycle.id)
    return render_template("review/setup/member.html", cycle=cycle, member=member, user=user,
                           form=form, error=error,
                           default_load=existing.default_load if existing else 15), (
        422 if form.errors or error else 200)


@bp.post("/staff/review/<int:cycle_id>/pool/<int:member_id>/deactivate")
@staff_required
def deactivate_member(cycle_id: int, member_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    member = _member_or_404(cycle, member_id)
    back_to(url_for("review.pool_page", cycle_id=cycle.id))
    pool.set_active(cycle, member, False, current_account())
    flash(_("Taken out of the pool: they open no dossier of this cycle until you add them "
            "back. Their assignments and reviews are kept."), "success")
    return see_other("review.pool_page", cycle_id=cycle.id)


@bp.post("/staff/review/<int:cycle_id>/pool/<int:member_id>/reactivate")
@staff_required
def reactivate_member(cycle_id: int, member_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    member = _member_or_404(cycle, member_id)
    back_to(url_for("review.pool_page", cycle_id=cycle.id))
    pool.set_active(cycle, member, True, current_account())
    flash(_("Back in the pool."), "success")
    return see_other("review.pool_page", cycle_id=cycle.id)


# -- conflicts (staff) ----------------------------------------------------------------


def _conflict_form(cycle: Cycle, form: ConflictForm | None = None) -> ConflictForm:
    form = form or ConflictForm(formdata=None)
    form.reviewer_id.choices = [("", "—"), *((u.id, f"{u.name} <{u.email}>")
                                             for u in conflicts.pool_reviewers(cycle.id))]
    form.institution_id.choices = [("", "—"), *(
        (i.id, f"{i.name} ({i.country})")
        for i in conflicts.nominating_institutions(cycle.id))]
    form.country.choices = [("", "—"), *country_choices()]
    form.nomination_id.choices = [("", "—"), *(
        (n.id, f"{n.reference} {n.candidate_name}")
        for n in conflicts.cycle_nominations(cycle.id))]
    return form


def _conflicts_page(cycle: Cycle, form: ConflictForm | None = None, status: int = 200,
                    error: str | None = None) -> ResponseReturnValue:
    filters = conflicts.ConflictFilters.from_args(request.args)
    return render_template(
        "review/setup/conflicts.html", cycle=cycle, filters=filters,
        page=conflicts.conflicts_page(cycle, filters), form=_conflict_form(cycle, form),
        reviewers=conflicts.pool_reviewers(cycle.id), kind_labels=KIND_LABELS,
        source_labels=SOURCE_LABELS, status_labels=STATUS_LABELS,
        reason_label=conflicts.reason_label, reason_labels=REASON_LABELS,
        may=conflicts.CONFLICT.may, error=error), status


@bp.route("/staff/review/<int:cycle_id>/conflicts")
@staff_required
def conflicts_page(cycle_id: int) -> ResponseReturnValue:
    return _conflicts_page(_cycle(cycle_id))


@bp.post("/staff/review/<int:cycle_id>/conflicts")
@staff_required
def add_conflict(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    form = _conflict_form(cycle, ConflictForm())
    error = None
    if form.validate_on_submit():
        reviewer = db.session.get(User, form.reviewer_id.data) if form.reviewer_id.data else None
        chosen = form.target.data
        target = conflicts.Target(
            institution_id=form.institution_id.data if chosen == "institution" else None,
            country=(form.country.data or None) if chosen == "country" else None,
            nomination_id=form.nomination_id.data if chosen == "nomination" else None)
        try:
            if reviewer is None:
                raise conflicts.ConflictRefused(_("Choose a reviewer."))
            with attempt():
                _row, effect = conflicts.add_conflict(
                    cycle, reviewer, target, kind=form.kind.data or ConflictKind.OTHER,
                    note=form.note.data or "", actor=current_account())
        except conflicts.ConflictRefused as e:
            error = str(e.message)
        else:
            message = _("Conflict recorded.")
            if effect.removed:
                message += " " + ngettext(
                    "%(num)d assignment was removed; find a replacement on the assignment "
                    "page.", "%(num)d assignments were removed; find replacements on the "
                    "assignment page.", effect.removed)
            flash(message, "success")
            return see_other("review.conflicts_page", cycle_id=cycle.id)
    return _conflicts_page(cycle, form, 422, error)


@bp.post("/staff/review/<int:cycle_id>/conflicts/<int:conflict_id>/<any(confirm, dismiss, "
         "reinstate):move>")
@staff_required
def decide_conflict(cycle_id: int, conflict_id: int, move: str) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.cycle_id != cycle.id:
        abort(404)
    back_to(url_for("review.conflicts_page", cycle_id=cycle.id))
    outcome = conflicts.decide(conflict, move, current_account())
    message = {"confirm": _("Conflict confirmed."), "dismiss": _("Conflict dismissed."),
               "reinstate": _("Conflict active again.")}[move]
    if isinstance(outcome, int) and outcome:
        message += " " + ngettext("%(num)d assignment is back in the reviewer's queue.",
                                  "%(num)d assignments are back in the reviewer's queue.",
                                  outcome)
    elif isinstance(outcome, conflicts.Effect) and outcome.removed:
        message += " " + ngettext("%(num)d assignment was removed.",
                                  "%(num)d assignments were removed.", outcome.removed)
    flash(message, "success")
    return see_other("review.conflicts_page", cycle_id=cycle.id)


@bp.post("/staff/review/<int:cycle_id>/conflicts/refresh")
@staff_required
def refresh_conflicts(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    n = conflicts.refresh_automatic(cycle)
    flash(ngettext("%(num)d new conflict found.", "%(num)d new conflicts found.", n)
          if n else _("No new conflict found."), "success")
    return see_other("review.conflicts_page", cycle_id=cycle.id)


# -- the reviewer's declaration ---------------------------------------------------------


def _declaration(cycle: Cycle) -> conflicts.Declaration:
    """The ticked rows of the declaration form: inst-<id> (with kind-<id>, note-<id>) and
    country-<code> (with cnote-<code>)."""
    institutions: dict[int, tuple[str, str]] = {}
    countries: dict[str, str] = {}
    for key in request.form:
        if key.startswith("inst-"):
            institution_id = parse_int(key.removeprefix("inst-"))
            if institution_id is not None:
                institutions[institution_id] = (
                    str(request.form.get(f"kind-{institution_id}") or ConflictKind.OTHER),
                    str(request.form.get(f"note-{institution_id}") or ""))
        elif key.startswith("country-"):
            code = key.removeprefix("country-")[:2]
            countries[code] = str(request.form.get(f"cnote-{code}") or "")
    return conflicts.Declaration(institutions=institutions, countries=countries)


DECLARABLE_KINDS = (ConflictKind.OWN_INSTITUTION, ConflictKind.FORMER_COLLEAGUE,
                    ConflictKind.PERSONAL, ConflictKind.OTHER)


@bp.route("/review/cycles/<int:cycle_id>/conflicts", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
def declare_conflicts(cycle_id: int) -> ResponseReturnValue:
    """The reviewer's conflicts for the cycle, declared from the institutions and
    countries that nominated (in a blind cycle the one place they see institutions,
    never tied to a candidate)."""
    cycle = _cycle(cycle_id)
    reviewer = current_account()
    member = conflicts.active_member_or_none(cycle.id, reviewer)
    if member is None:
        abort(404)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        back_to(url_for("review.declare_conflicts", cycle_id=cycle.id))
        made = conflicts.declare_up_front(cycle, reviewer, _declaration(cycle))
        flash(ngettext("Thank you: %(num)d conflict recorded.",
                       "Thank you: %(num)d conflicts recorded.", len(made))
              if made else _("Thank you: your answer is recorded."), "success")
        return see_other("review.declare_conflicts", cycle_id=cycle.id)
    declared = conflicts.declared_by(cycle.id, reviewer.id)
    return render_template(
        "review/setup/declare.html", cycle=cycle, member=member,
        institutions=conflicts.nominating_institutions(cycle.id),
        countries=conflicts.nominating_countries(cycle.id),
        declared_institutions={c.institution_id: c for c in declared if c.institution_id},
        declared_countries={c.country: c for c in declared if c.country},
        dossier_conflicts=sum(1 for c in declared if c.source == ConflictSource.DOSSIER),
        kinds=[(k, KIND_LABELS[k]) for k in DECLARABLE_KINDS],
        blind=is_blind(setup_of(cycle.id)))


# Part of the page by design: the names of the institutions that nominated (the leak test
# of blind review allows them here, and only here, as they are tied to no candidate).
declare_conflicts.blind_exempt = ("institution",)  # type: ignore[attr-defined]
