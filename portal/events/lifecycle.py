"""The registration's lifecycle: its states and the one table of moves between them.

    new, cancelled ───────── register ──────> registered   (alumnus: a seat was free)
    new, cancelled ───────── join_waitlist ─> waitlisted   (alumnus: the event was full)
    new, cancelled, pending ─ request ──────> pending      (guest: asks, holds nothing)
    pending ──────────────── confirm ───────> registered   (guest: confirms the link)
    pending ─────────── confirm_waitlisted ─> waitlisted   (guest: confirms, full event)
    waitlisted ───────────── promote ───────> registered   (the portal: a seat was freed)
    pending, registered, waitlisted ─ cancel > cancelled   (alumnus, guest, staff, portal)
    registered ───────────── check_in ──────> registered   (staff, at the door)
    new, pending, waitlisted, cancelled ─ walk_in > walk_in (staff, at the door)

"new" is a pseudo-state: no row yet. An alumnus registers from it (or from a cancelled
registration, whose row is reused); the database decides between a seat ("register") and a
waitlist place ("join_waitlist"). A guest first asks ("request": holds nothing), then
confirms the e-mailed link, which again gives a seat or a place ("confirm",
"confirm_waitlisted"). The portal itself promotes the first in line when a seat is freed.
Alumni, guests and staff cancel; staff admit pass holders and record walk-ins.

Every set of states the events area uses (who holds a seat, what may be cancelled, what
the pages show, the order of the staff list) is derived below from the table; the
services in registration.py and checkin.py call `REGISTRATION.check()` before every move
and use `REGISTRATION.sources(move)` in the WHERE of their conditional UPDATEs.
"""

from __future__ import annotations

import enum

from portal.lifecycle import ALUMNUS, GUEST, STAFF, SYSTEM, Lifecycle, move


class RegStatus(enum.StrEnum):
    PENDING = "pending"  # a guest who has not confirmed the e-mail link: holds no seat
    REGISTERED = "registered"  # holds a seat (counted in events.seats_taken)
    WAITLISTED = "waitlisted"  # in line, ordered by waitlist_position
    CANCELLED = "cancelled"
    WALK_IN = "walk_in"  # came without registering; recorded at the door, takes no seat


NEW = "new"  # no registration yet (never stored)

S = RegStatus

# States in the order the staff list shows them (seat holders first, then the line).
REGISTRATION = Lifecycle("registration", [NEW, S.REGISTERED, S.WALK_IN, S.WAITLISTED,
                                          S.PENDING, S.CANCELLED], [
    move("register", {NEW, S.CANCELLED}, S.REGISTERED, ALUMNUS),
    move("join_waitlist", {NEW, S.CANCELLED}, S.WAITLISTED, ALUMNUS),
    move("request", {NEW, S.CANCELLED, S.PENDING}, S.PENDING, GUEST),
    move("confirm", {S.PENDING}, S.REGISTERED, GUEST),
    move("confirm_waitlisted", {S.PENDING}, S.WAITLISTED, GUEST),
    move("promote", {S.WAITLISTED}, S.REGISTERED, SYSTEM),
    move("cancel", {S.PENDING, S.REGISTERED, S.WAITLISTED}, S.CANCELLED,
         ALUMNUS, GUEST, STAFF, SYSTEM),
    move("check_in", {S.REGISTERED}, S.REGISTERED, STAFF),
    move("walk_in", {NEW, S.PENDING, S.WAITLISTED, S.CANCELLED}, S.WALK_IN, STAFF),
])

# A seat is what registering, confirming or a promotion gives (events.seats_taken).
SEAT_STATES = (REGISTRATION.targets("register") | REGISTRATION.targets("confirm")
               | REGISTRATION.targets("promote"))
# The line: who a freed seat may go to.
WAITLIST_STATES = REGISTRATION.sources("promote")
# What a confirmed guest holds, with the personal link that comes with it.
LINKED_STATES = REGISTRATION.targets("confirm") | REGISTRATION.targets("confirm_waitlisted")
CANCELLABLE_STATES = REGISTRATION.sources("cancel")
ADMISSIBLE_STATES = REGISTRATION.sources("check_in")
# Everyone told when the event is cancelled or staff write: seat holders and the line.
TOLD_STATES = SEAT_STATES | WAITLIST_STATES
# Registrations a person's pages list: every stored state but a cancelled one.
LIVE_STATES = frozenset(REGISTRATION.states) - {NEW} - REGISTRATION.targets("cancel")
STORED_STATES = tuple(s for s in REGISTRATION.states if s != NEW)  # in display order
# Alumni and guests cancel until the event starts; staff and the portal at any time.
CANCEL_ANY_TIME = frozenset({STAFF, SYSTEM})
