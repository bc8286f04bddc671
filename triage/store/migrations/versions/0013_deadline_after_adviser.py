"""items: appeal_deadline and adviser_until, so the queue shows the deadline to act on today

`statutory_deadline` is the deadline to act on when the draft was written: the mediation adviser's
date while the adviser's two months run. Once they are over, the item page (judged on the day shown)
moves on to the appeal's date, but the queue kept the adviser's: "passed" in red, sorted first, while
the appeal was still ahead. The queue now shows and sorts by `appeal_deadline` once today is past
`adviser_until` (triage.domain.deadline_on; the same rule in SQL in triage.store.item_views).

Backfill: items with a statutory deadline get both from their latest draft's meta (the appeal date it
used; the adviser's last day is 2 months after the decision letter's date, none once a mediation
certificate is held). Items whose meta lacks them keep NULL and the old behaviour.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("appeal_deadline", sa.Date(), nullable=True))
        batch.add_column(sa.Column("adviser_until", sa.Date(), nullable=True))
    bind = op.get_bind()
    items = sa.table("items", sa.column("id", sa.Integer), sa.column("statutory_deadline", sa.Date),
                     sa.column("appeal_deadline", sa.Date), sa.column("adviser_until", sa.Date))
    drafts = sa.table("drafts", sa.column("item_ref", sa.Integer), sa.column("version", sa.Integer),
                      sa.column("meta", sa.JSON))
    latest = (sa.select(drafts.c.item_ref, sa.func.max(drafts.c.version).label("v"))
              .group_by(drafts.c.item_ref).subquery())
    rows = bind.execute(
        sa.select(items.c.id, drafts.c.meta)
        .join(latest, latest.c.item_ref == items.c.id)
        .join(drafts, (drafts.c.item_ref == items.c.id) & (drafts.c.version == latest.c.v))
        .where(items.c.statutory_deadline.is_not(None))).all()
    for item_id, meta in rows:
        appeal, adviser_until = _from_meta(meta or {})
        if appeal is not None:
            bind.execute(items.update().where(items.c.id == item_id)
                         .values(appeal_deadline=appeal, adviser_until=adviser_until))


def _from_meta(meta: dict) -> tuple[dt.date | None, dt.date | None]:
    from replies.working_days import add_months  # the rule the drafts use (replies.deadline_rules)

    try:
        appeal = dt.date.fromisoformat(meta["appeal_by"]) if meta.get("appeal_by") else None
        decision = (meta.get("decision") or {}).get("date")
        adviser_until = None
        if decision and not meta.get("certificate"):
            adviser_until = add_months(dt.date.fromisoformat(decision), 2)
        return appeal, adviser_until
    except (TypeError, ValueError, AttributeError):
        return None, None


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): rebuilding the table, as batch mode would, is
    # refused by the foreign keys of drafts and events once items has rows.
    with op.batch_alter_table("items", recreate="never") as batch:
        batch.drop_column("adviser_until")
        batch.drop_column("appeal_deadline")
