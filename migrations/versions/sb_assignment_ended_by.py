"""Review assignments: who ended an assignment (reviewer, staff, automatic run, portal)

Revision ID: sb_assignment_ended_by
Revises: sa_removed_by_conflict
Create Date: 2026-12-05 10:00:00

The automatic assignment adds back a pair it replaced itself, or one the portal removed
for a conflict that staff dismissed since, but never one staff removed by hand or the
reviewer declined. Rows ended before this column existed keep "" (not added back).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'sb_assignment_ended_by'
down_revision = 'sa_removed_by_conflict'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_by', sa.String(length=10), server_default='',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_column('ended_by')
