"""Selection I, part A: an assignment remembers the conflict that removed it

Revision ID: sa_removed_by_conflict
Revises: 07d984397dcb
Create Date: 2026-12-05 09:00:00.000000

A conflict of interest found while a reviewer is assigned removes the assignment; when
staff dismiss that conflict (an automatic match that was wrong), the assignment comes
back and its review counts again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'sa_removed_by_conflict'
down_revision = '07d984397dcb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_by_conflict_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_review_assignments_removed_by_conflict_id_review_conflicts'),
            'review_conflicts', ['removed_by_conflict_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_review_assignments_removed_by_conflict_id_review_conflicts'),
            type_='foreignkey')
        batch_op.drop_column('removed_by_conflict_id')
