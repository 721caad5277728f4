"""nomination confirmations: voided by a change of confirmed facts; where request and
answer came from

A confirmation (endorsement, consent) is voided when a fact it confirmed changes
(`voided_at`, `voided_fields`); the network address and a keyed hash of the browser
session of the nominator who asked (`requested_ip`, `requested_session`) and of the
person who answered (`decided_session`, beside the existing `decided_ip`) let staff see
when both were the same. Issue 12, points 1 and 2.

Revision ID: c4d2e8a1f3b7
Revises: 9b1f4c2a7d10
Create Date: 2026-12-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'c4d2e8a1f3b7'
down_revision = '9b1f4c2a7d10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('nomination_confirmations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voided_at', portal.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('voided_fields', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('requested_ip', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('requested_session', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('decided_session', sa.String(length=64),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('nomination_confirmations', schema=None) as batch_op:
        batch_op.drop_column('decided_session')
        batch_op.drop_column('requested_session')
        batch_op.drop_column('requested_ip')
        batch_op.drop_column('voided_fields')
        batch_op.drop_column('voided_at')
