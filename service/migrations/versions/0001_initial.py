"""Petitions, their change history and officers' decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "petitions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(20)),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("contact", sa.JSON()),
        sa.Column("external_ref", sa.String(200)),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sector", sa.String(40), nullable=False),
        sa.Column("petition_type", sa.String(40), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("province", sa.String(100)),
        sa.Column("commune", sa.String(200)),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("triage", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("accept_due", TS),
        sa.Column("resolve_due", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    for column in ("external_ref", "status", "sector", "department", "commune", "needs_review"):
        op.create_index(f"ix_petitions_{column}", "petitions", [column])
    op.create_index("ix_petitions_received_id", "petitions", ["received_at", "id"])

    op.create_table(
        "petition_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("petition_id", sa.String(36), sa.ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(64)),
        sa.Column("rule", sa.String(100)),
        sa.Column("note", sa.Text()),
    )
    op.create_index("ix_petition_events_petition_id", "petition_events", ["petition_id"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("petition_id", sa.String(36), sa.ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("officer", sa.String(200), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("sector", sa.String(40), nullable=False),
        sa.Column("petition_type", sa.String(40), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20)),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_suggestion", sa.JSON(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text()),
    )
    op.create_index("ix_decisions_petition_id", "decisions", ["petition_id"])
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_table("petition_events")
    op.drop_table("petitions")
