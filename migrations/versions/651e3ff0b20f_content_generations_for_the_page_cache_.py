"""Content generations for the page cache; encrypted secrets need wider columns.

- ``association.content_generation`` and ``commune.content_generation``: part of the public page
  cache's keys (app.pagecache); existing rows start at ``'0'``.
- ``commune_service.webhook_secret``, ``delivery.signing_secret`` and ``staff_user.totp_secret``
  now hold Fernet tokens (app.encryption); clear-text values of old stay readable and are
  re-encrypted by ``flask portal reencrypt``.

The content search objects (FTS5 on SQLite) are DDL of the initial revision and stay untouched.

Revision ID: 651e3ff0b20f
Revises: e58c4707b6e3
Create Date: 2026-12-07 02:38:40.468449
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "651e3ff0b20f"
down_revision = "e58c4707b6e3"
branch_labels = None
depends_on = None

#: (table, column, old length, new length)
WIDENED = (
    ("commune_service", "webhook_secret", 200, 1164),
    ("delivery", "signing_secret", 255, 1164),
    ("staff_user", "totp_secret", 64, 255),
)


def upgrade() -> None:
    for table in ("association", "commune"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("content_generation", sa.String(length=32), server_default="0", nullable=False)
            )
    for table, column, old, new in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=old),
                type_=sa.String(length=new),
                existing_nullable=True,
            )


def downgrade() -> None:
    for table, column, old, new in reversed(WIDENED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=new),
                type_=sa.String(length=old),
                existing_nullable=True,
            )
    for table in ("commune", "association"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("content_generation")
