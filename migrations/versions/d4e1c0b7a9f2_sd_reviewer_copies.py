"""sd: reviewers' copies of PDF documents (no title, author or XMP metadata)

Revision ID: d4e1c0b7a9f2
Revises: sb_assignment_ended_by
Create Date: 2026-12-06 10:00:00

Reviewers get a copy of each PDF with its document metadata removed (portal.review
.documents); the copy is a blob of its own, made on the first reviewer request, and
`nomination_documents.reviewer_blob_id` points at it until the file is replaced.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e1c0b7a9f2'
down_revision = 'sb_assignment_ended_by'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('nomination_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewer_blob_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_nomination_documents_reviewer_blob_id_blobs'), 'blobs',
            ['reviewer_blob_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('nomination_documents', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_nomination_documents_reviewer_blob_id_blobs'), type_='foreignkey')
        batch_op.drop_column('reviewer_blob_id')
