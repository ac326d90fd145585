"""domainevent (subject_key, id) index: a subject's newest event in one index step

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:05:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('domainevent', schema=None) as batch_op:
        batch_op.create_index('ix_domainevent_subject_id', ['subject_key', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('domainevent', schema=None) as batch_op:
        batch_op.drop_index('ix_domainevent_subject_id')
