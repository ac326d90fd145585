"""review unique per customer, order and product

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:05:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # double submits made before this index existed: keep the first review of each
    op.execute(
        "DELETE FROM review WHERE id NOT IN ("
        " SELECT MIN(id) FROM review GROUP BY customer_id, order_id, product_id)"
        " AND order_id IS NOT NULL"
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(
            'uq_review_customer_order_product',
            ['customer_id', 'order_id', 'product_id'],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('uq_review_customer_order_product')
