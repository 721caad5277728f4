"""nomination history: state changes named by their move in the lifecycle table

The history (nomination_events.kind) named a state change by the state it reached
("submitted", "returned", "under_review"...); it now names the move of the lifecycle
table that made it ("submit", "return", "start_review"...). Data only.

Revision ID: 9b1f4c2a7d10
Revises: 63b9ac5794f2
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b1f4c2a7d10'
down_revision = '63b9ac5794f2'
branch_labels = None
depends_on = None

# old kind -> move name (only rows that changed the state: from_state != to_state)
RENAMED = {
    "submitted": "submit",
    "resubmitted": "resubmit",
    "returned": "return",
    "under_review": "start_review",
    "accepted": "accept",
    "reserve": "reserve",
    "rejected": "reject",
    "withdrawn": "withdraw",
}

events = sa.table("nomination_events", sa.column("kind", sa.String))


def _rename(pairs):
    for old, new in pairs:
        if old != new:
            op.execute(events.update().where(events.c.kind == old).values(kind=new))


def upgrade():
    _rename(RENAMED.items())


def downgrade():
    _rename((new, old) for old, new in RENAMED.items())
