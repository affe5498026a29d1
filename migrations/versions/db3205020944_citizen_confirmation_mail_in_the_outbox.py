"""The citizen's confirmation e-mail in the outbox.

``delivery.payload`` holds the composed message of a ``citizen`` delivery (with the status link
and its plain tracking token), encrypted with DATA_ENCRYPTION_KEYS (app.encryption) and erased
once the mail is delivered or the submission is anonymised. The channel value ``citizen`` fits
the existing column.

Revision ID: db3205020944
Revises: 651e3ff0b20f
Create Date: 2026-12-07 02:56:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "db3205020944"
down_revision = "651e3ff0b20f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("payload")
