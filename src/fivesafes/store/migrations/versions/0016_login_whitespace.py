"""Logins registered with trailing whitespace (``alice\\n``) lose it.

Before logins were anchored with ``\\Z`` (not ``$``), ``alice\\n`` passed validation: such a
person could never be named by the operating system (``alice``) nor be told apart from
``alice`` on a page. Their login is normalised (surrounding whitespace removed), and so is
every register column that names them as the one who did something (``*_by``), so that
comparisons such as "recorded their own training" still find them. The audit log keeps
what it recorded (it is append-only and hash-chained).

If normalising would make two people share a login (``alice\\n`` and ``alice``), nothing
is changed: the upgrade is refused, naming both rows, for an administrator to resolve.

Revision ID: 0016_login_whitespace
Revises: 0015_figure_hierarchies
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fivesafes.errors import WorkspaceError

revision = "0016_login_whitespace"
down_revision = "0015_figure_hierarchies"
branch_labels = None
depends_on = None

# The register's columns that hold a login as text (as of 0015), by table.
BY_COLUMNS: dict[str, tuple[str, ...]] = {
    "accreditations": ("recorded_by",),
    "datasets": ("registered_by",),
    "declaration_versions": ("published_by",),
    "project_changes": ("requested_by", "decided_by"),
    "projects": ("proposed_by", "decided_by"),
    "published_releases": ("published_by",),
    "release_checks": ("run_by",),
    "release_request_versions": ("submitted_by", "source_confirmed_by"),
    "request_cases": ("opened_by",),
    "request_exemptions": ("recorded_by",),
    "request_figures": ("checked_by",),
    "request_releases": ("attached_by",),
    "reviews": ("carried_out_by",),
    "rule_sets": ("created_by",),
    "training_completions": ("recorded_by",),
    "vault_objects": ("ingested_by", "destroyed_by"),
}


def renames(people: list[tuple[int, str]]) -> dict[str, str]:
    """Old login -> normalised login for every person whose login changes; WorkspaceError
    if two people would then share one (ignoring case, as registration does)."""
    by_login: dict[str, list[tuple[int, str]]] = {}
    for pid, login in people:
        by_login.setdefault(login.strip().lower(), []).append((pid, login))
    for rows in by_login.values():
        if len(rows) > 1 and any(old != old.strip() for _, old in rows):
            named = " and ".join(f"person {pid} with login {old!r}" for pid, old in sorted(rows))
            login = min(rows)[1].strip()
            raise WorkspaceError(
                f"cannot normalise logins: {named} would be the same login {login!r}",
                hint="before upgrading (with the previous fivesafes), give one of them another "
                "login in the database, e.g. UPDATE people SET login = "
                f"'{login}-old' WHERE id = {max(pid for pid, _ in rows)}; then upgrade again. "
                "Nothing was changed.",
            )
    return {old: old.strip() for _, old in people if old != old.strip()}


def upgrade() -> None:
    """Strip the logins that need it, and the ``*_by`` columns naming them."""
    bind = op.get_bind()
    people = sa.table("people", sa.column("id", sa.Integer), sa.column("login", sa.String))
    rows = [(int(r.id), str(r.login)) for r in bind.execute(sa.select(people.c.id, people.c.login))]
    changes = renames(rows)
    if not changes:
        return
    # the research (0003) and vault (0004) tables are other branches: they may come later
    present = sa.inspect(bind)
    names = set(present.get_table_names())
    by = [
        sa.table(table, sa.column(column, sa.String))
        for table, columns in BY_COLUMNS.items()
        if table in names
        for column in columns
        if column in {c["name"] for c in present.get_columns(table)}
    ]
    for old, new in sorted(changes.items()):
        bind.execute(people.update().where(people.c.login == old).values(login=new))
        for t in by:
            (column,) = t.c
            bind.execute(t.update().where(column == old).values({column.name: new}))


def downgrade() -> None:
    """Nothing to undo: a login with trailing whitespace was never a usable one."""
