"""hardening: alumni change requests, colleague invitations

Issue 12: a country or specialty an alumnus asks for on the profile waits for staff
(alumni.requested_country, requested_specialty, change_requested_at), since event
eligibility reads the record; a nominator's invitation of a colleague is kept whatever the
address (colleague_invitations), with the conflict staff see when an account exists.

Revision ID: c4e8a1f2b6d3
Revises: d7a3b5c9e2f1
Create Date: 2026-12-12 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'c4e8a1f2b6d3'
down_revision = 'd7a3b5c9e2f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alumni', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('requested_specialty', sa.String(length=60),
                                      nullable=True))
        batch_op.add_column(sa.Column('change_requested_at',
                                      portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_alumni_change_requested_at'),
                              ['change_requested_at'], unique=False)

    op.create_table('colleague_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('conflict', sa.String(length=20), nullable=True),
    sa.Column('conflict_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_colleague_invitations_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_colleague_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_colleague_invitations_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conflict_user_id'], ['users.id'], name=op.f('fk_colleague_invitations_conflict_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colleague_invitations'))
    )
    with op.batch_alter_table('colleague_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_colleague_invitations_institution_id'),
                              ['institution_id'], unique=False)


def downgrade():
    with op.batch_alter_table('colleague_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_colleague_invitations_institution_id'))
    op.drop_table('colleague_invitations')
    with op.batch_alter_table('alumni', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alumni_change_requested_at'))
        batch_op.drop_column('change_requested_at')
        batch_op.drop_column('requested_specialty')
        batch_op.drop_column('requested_country')
