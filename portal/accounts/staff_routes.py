"""Staff: people, roles, invitations, deactivation."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from portal.accounts import bp, services
from portal.accounts.forms import InviteForm, RolesForm
from portal.accounts.models import Role, User, UserRole
from portal.accounts.policy import staff_required
from portal.audit.services import record
from portal.extensions import db
from portal.institutions.models import Institution, InstitutionStatus
from portal.web import page_or_partial

PAGE = 50


def _institution_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Institution.id, Institution.name, Institution.country)
        .where(Institution.status == InstitutionStatus.ACTIVE)
        .order_by(Institution.name)
    ).all()
    return [(0, "—")] + [(r.id, f"{r.name} ({r.country})") for r in rows]


@bp.route("/admin/people")
@staff_required
def people():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    page = max(request.args.get("page", 1, type=int), 1)
    query = select(User).order_by(User.name)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    if role in {str(r) for r in Role}:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    users = db.session.scalars(query.limit(PAGE).offset((page - 1) * PAGE)).all()
    inst_ids = {u.institution_id for u in users if u.institution_id}
    institutions = {
        i.id: i for i in db.session.scalars(
            select(Institution).where(Institution.id.in_(inst_ids))
        )
    } if inst_ids else {}
    return page_or_partial("accounts/people.html", "accounts/_people_table.html",
                           users=users, institutions=institutions, q=q, role=role, page=page,
                           total=total, pages=max((total - 1) // PAGE + 1, 1), roles=list(Role))


@bp.route("/admin/people/invite", methods=["GET", "POST"])
@staff_required
def invite():
    form = InviteForm()
    form.institution_id.choices = _institution_choices()
    if request.method == "GET" and request.args.get("institution", type=int):
        form.institution_id.data = request.args.get("institution", type=int)
    if form.validate_on_submit():
        try:
            services.invite(
                email=form.email.data, name=form.name.data,
                roles=[Role(r) for r in form.roles.data], inviter=current_user,
                institution_id=form.institution_id.data or None, language=form.language.data,
            )
        except services.AccountError as exc:
            form.email.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("accounts.people"), 303)
    return render_template("accounts/invite.html", form=form), 422 if form.errors else 200


@bp.route("/admin/people/<int:user_id>", methods=["GET", "POST"])
@staff_required
def person(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RolesForm(roles=[r.role for r in user.role_rows])
    if form.validate_on_submit():
        wanted = {Role(r) for r in form.roles.data}
        if user.id == current_user.id and Role.STAFF not in wanted:
            flash(_("You cannot remove your own staff role."), "error")
            return redirect(url_for("accounts.person", user_id=user.id), 303)
        if Role.NOMINATOR in wanted and not user.institution_id:
            flash(_("A nominator must belong to an institution. Invite them from the "
                    "institution's page."), "error")
            return redirect(url_for("accounts.person", user_id=user.id), 303)
        added = [str(r) for r in wanted if services.grant(user, r)]
        removed = [str(r) for r in set(Role) - wanted if services.revoke(user, r)]
        if added or removed:
            record("account.roles_changed", object_type="user", object_id=user.id,
                   details={"email": user.email, "added": added, "removed": removed})
        db.session.commit()
        flash(_("Roles saved."), "success")
        return redirect(url_for("accounts.person", user_id=user.id), 303)
    institution = db.session.get(Institution, user.institution_id) if user.institution_id \
        else None
    return render_template("accounts/person.html", user=user, form=form,
                           institution=institution)


@bp.post("/admin/people/<int:user_id>/deactivate")
@staff_required
def deactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    try:
        services.deactivate(user, current_user)
    except services.AccountError as exc:
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(_("%(name)s can no longer sign in; open sessions have ended.", name=user.name),
              "success")
    return redirect(url_for("accounts.person", user_id=user.id), 303)


@bp.post("/admin/people/<int:user_id>/reactivate")
@staff_required
def reactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    services.reactivate(user, current_user)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("accounts.person", user_id=user.id), 303)
