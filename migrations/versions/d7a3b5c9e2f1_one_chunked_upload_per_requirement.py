"""nomination chunked uploads: one active resumable upload per nomination and requirement

Older unfinished uploads of the same nomination and requirement are dropped (the newest
is kept); their parts in the storage are aborted by the next storage sweep, as for any
multipart upload without a row. On SQLite the table gets AUTOINCREMENT ids. Issue 12,
point 6.

Revision ID: d7a3b5c9e2f1
Revises: c4d2e8a1f3b7
Create Date: 2026-12-10 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a3b5c9e2f1'
down_revision = 'c4d2e8a1f3b7'
branch_labels = None
depends_on = None

_OLDER = ("SELECT id FROM nomination_chunked_uploads WHERE id NOT IN "
          "(SELECT max(id) FROM nomination_chunked_uploads "
          "GROUP BY nomination_id, requirement_id)")


def upgrade():
    op.execute(sa.text(
        "DELETE FROM pending_uploads WHERE id IN (SELECT pending_id FROM "
        f"nomination_chunked_uploads WHERE id IN ({_OLDER}))"))
    # Gone with their pending upload where foreign keys cascade; else removed here.
    op.execute(sa.text(f"DELETE FROM nomination_chunked_uploads WHERE id IN ({_OLDER})"))
    # On SQLite the table is rebuilt, with AUTOINCREMENT: the id of a replaced upload (it
    # is in the upload's URLs) is never given to the next one.
    with op.batch_alter_table('nomination_chunked_uploads', schema=None,
                              table_kwargs={"sqlite_autoincrement": True},
                              recreate="auto") as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_nomination_chunked_uploads_nomination_id_requirement_id'),
            ['nomination_id', 'requirement_id'])


def downgrade():
    with op.batch_alter_table('nomination_chunked_uploads', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_nomination_chunked_uploads_nomination_id_requirement_id'),
            type_='unique')
