"""Whether a cycle's window lets a nomination be (re)submitted, and how to say it is not.

Dates in these messages are in the program's own zone (PROGRAM_TIMEZONE, Japan time),
formatted in the reader's language when the message is shown.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel.speaklater import LazyString

from portal.cycles.models import Cycle, CycleStatus, program_timezone
from portal.db import utcnow
from portal.i18n import local_dt
from portal.nominations.lifecycle import NOMINATION
from portal.nominations.models import Nomination


def window_allows(nomination: Nomination, cycle: Cycle) -> bool:
    """First submissions need the window open. A nomination staff returned for changes
    may be resubmitted later too (staff often return during the review phase), as long
    as the cycle has not been closed."""
    if nomination.state in NOMINATION.sources("resubmit"):
        return cycle.status == CycleStatus.PUBLISHED
    return cycle.is_open()


def deadline_message(cycle: Cycle) -> LazyString:
    """Lazy: the date is formatted in the viewer's language when the message is shown."""
    name, opens, closes, zone = cycle.name, cycle.opens_at, cycle.closes_at, program_timezone()
    if cycle.status == CycleStatus.PUBLISHED and opens > utcnow():
        return LazyString(lambda: gettext(
            "Nominations for %(cycle)s open on %(date)s (Japan time).",
            cycle=name, date=local_dt(opens, "medium", zone)))
    return LazyString(lambda: gettext(
        "The deadline for %(cycle)s passed on %(date)s (Japan time). Nominations can no "
        "longer be submitted; please contact the program staff.",
        cycle=name, date=local_dt(closes, "medium", zone)))
