"""Figures for answers through the disclosure gate (``fivesafes request figure``).

The figure is computed inside the area through the one read path (the officer's access
decided and audited like any analyst's), from a cell the officer names; the organisation's
rule set in force and the differencing check against everything published from the area
(its releases, and the answers approved before: ``services.release.scope`` adds those to
every check of the area, releases' included) decide whether it may leave. That check
holds the zeros of the figure's data, as the check at `release submit` does
(services/release/zeros.py): a figure whose zeros cannot be read is refused. The figure is
checked as a one-cell table of part of the units, whose filters hold every code of the
columns it names, read in the same audited read (requests/figure.py). Approved, it joins
the register, those codes sealed under the area's key; refused, the reasons (never the
value) are recorded. Both audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import ConflictError, SpecError, ValidationError
from fivesafes.release.checks import CheckVerdict, could_not_run
from fivesafes.release.differencing_scope import EarlierRelease, scoped_differencing_check
from fivesafes.release.families import Family, link_families
from fivesafes.release.regimes import EXACT, clashes, figure_clash_reason
from fivesafes.release.rulesets import DEFAULT_RULE_SET
from fivesafes.release.sealing import seal
from fivesafes.release.submission import Submission, hierarchy_pairs
from fivesafes.requests import permissions
from fivesafes.requests.figure import (
    COUNT,
    CellRequest,
    answer_population,
    answer_table,
    dimension_codes,
    figure_cells,
    figure_object_id,
    leaves_of,
    primary_reasons,
)
from fivesafes.requests.kinds import RequestKind
from fivesafes.sdc import VALUE, Occupancy, OutputTable, parse_rules
from fivesafes.services.context import Actor, now, record, resolve_actor
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.release.checks import submission_of, version_row
from fivesafes.services.release.locks import lock_for_check
from fivesafes.services.release.regimes import earlier_regimes
from fivesafes.services.release.rule_sets import rule_set_in_force
from fivesafes.services.release.scope import area_families, area_releases
from fivesafes.services.release.zeros import OccupancyFor, data_zeros, paired_with
from fivesafes.services.requests.cases import answering_case, case_row
from fivesafes.services.requests.gates import gate_for
from fivesafes.services.vault.read import open_dataset_for, split_dataset_ref
from fivesafes.services.vault.register import Vault
from fivesafes.services.vault.sealing import check_key_held, key_held_for_sealing
from fivesafes.store.models.governance import AreaRow
from fivesafes.store.models.release import PublishedReleaseRow, ReleaseRequestRow
from fivesafes.store.models.requests import RequestFigureRow

Transact = Callable[[], AbstractContextManager[Session]]
FIGURE_EVENT = "request.figure"
# what to do when the data's zeros cannot be read (the figure is refused: fail closed)
_COARSER = (
    "ask for a figure over coarser columns (a group of units, not a unit identifier), or "
    "withhold it (fivesafes request exempt)"
)
_AGAIN = (
    "run the same `fivesafes request figure` again; refused the same way, an administrator "
    "checks the stored dataset (fivesafes dataset stored AREA) and restores it from backup "
    "if it is damaged"
)


@dataclass(frozen=True)
class FigureAnswer:
    """The gate's verdict on one figure: its value only when approved."""

    id: int
    case_id: int
    source: str
    cell: str
    approved: bool
    value: float | None
    reasons: tuple[str, ...]
    rule_set: str


def register_state(session: Session, area_id: int, area: str) -> tuple[int, int, int]:
    """How many releases the area has, its last, and its last approved figure (a change
    means a publication the check has not seen)."""
    releases, newest = session.execute(
        select(func.count(), func.max(PublishedReleaseRow.id)).where(
            PublishedReleaseRow.area_id == area_id
        )
    ).one()
    last = session.scalar(
        select(func.max(RequestFigureRow.id)).where(
            RequestFigureRow.area == area, RequestFigureRow.approved.is_(True)
        )
    )
    return int(releases or 0), int(newest or 0), int(last or 0)


def answer_figure(
    tx: Transact,
    vault: Vault,
    login: str,
    case_id: int,
    dataset: str,
    measure: str,
    cell: CellRequest,
    *,
    contributor: str | None = None,
    weight: str | None = None,
    rule_set: str = DEFAULT_RULE_SET,
    today: date | None = None,
) -> FigureAnswer:
    """Compute a figure inside the area and pass it through the release checks (audited)."""
    area, name = split_dataset_ref(dataset)
    source = f"{name}:{measure}"
    with tx() as session:
        actor = resolve_actor(session, login)
        answering_case(session, actor, case_id, "figures are checked")
        in_force = rule_set_in_force(session, rule_set)
        if in_force is None:
            raise ValidationError(
                f"no rule set {rule_set!r} is in force: no figure can be checked",
                hint="an administrator defines it: fivesafes rules set NAME ...",
            )
        # The area's releases and its approved answers (scope adds those), modelled once
        # per state of the register and kept by the process (services/requests/gates.py).
        area_id = area_row(session, area).id
        checked_against = register_state(session, area_id, area)
        key = (str(session.get_bind().engine.url), str(vault.areas_dir), area_id, checked_against)
        gate = gate_for(key, lambda: area_releases(session, vault.provider, area_id))
        families = area_families(session, area_id)
    leaves = leaves_of(cell, gate.hierarchies)
    columns = [*cell.dimensions, *([measure] if measure != COUNT else [])]
    columns += [contributor] if contributor else []
    columns += [weight] if weight else []
    # The one read path: the officer's access to the dataset decided and audited.
    data = open_dataset_for(
        tx, vault, login, area, name, today=today, columns=list(dict.fromkeys(columns))
    ).to_pandas()
    rules = parse_rules(dict(in_force.parameters))
    # As many largest contributions as the rules look at: two for p% and pq, n for (n, k).
    top_k = max([2, *(n for n, _ in rules.dominance)])
    frame = figure_cells(data, measure, leaves, contributor=contributor, weight=weight, top_k=top_k)
    value = float(frame[VALUE].iloc[0])
    reasons = [
        f"the figure itself is disclosive under {rule} (rule set {in_force.label})"
        for rule in primary_reasons(frame, rules, frequency=measure == COUNT)
    ]
    # every code of each column the figure names, from the audited read above: the check
    # must know the codes the figure leaves out (requests/figure.py)
    population = answer_population(leaves, dimension_codes(data, cell.dimensions))
    table = answer_table(f"request-{case_id}-new", population, value)  # not numbered yet
    if not reasons:  # a figure that breaks a primary rule needs no differencing to refuse
        # The combinations the dataset leaves empty, as the check at `release submit` holds
        # them (services/release/zeros.py): read after the officer's audited read above,
        # never before the access decision. Fail closed: unread, the figure is refused.
        with tx() as session:
            zeros_for = data_zeros(session, vault, area, source)
        occupancy, unread = _figure_zeros(zeros_for, table, gate.earlier, source)
        if unread is not None:
            reasons.append(unread)
        else:
            # a figure of a dataset with derived datasets (or of one of them) is checked
            # with the family's releases, each with its membership; the kept model knows
            # one source's register only, and not the data's zeros
            linked, with_family = link_families(table, source, gate.earlier, families)
            if linked is table and occupancy is None:
                check = gate.check(table, source)
            else:
                check = scoped_differencing_check(
                    linked, source, True, with_family, occupancy=occupancy
                )
            if check.verdict is not CheckVerdict.PASS:
                reasons.append(check.summary)
    # An approved figure's codes are sealed under the area's key: held for sealing from
    # before this transaction to its end, no rotation destroys the key before it commits.
    with key_held_for_sealing(tx, vault, area), tx() as session:
        # A publication of the family (or of a declared source of the area) running now
        # is waited for, so that its release is seen below (services/release/locks.py).
        lock_for_check(session, area_id, source, verified=True)
        # Serialise approvals per area (a row lock on PostgreSQL; SQLite has one writer),
        # and refuse to record a verdict on a register that changed since the check.
        session.execute(select(AreaRow.id).where(AreaRow.id == area_id).with_for_update())
        if register_state(session, area_id, area) != checked_against:
            raise ConflictError(
                f"a release or an answer of area {area} was published while the figure was "
                "being checked",
                hint="run the same `fivesafes request figure` again: it must be checked "
                "against the register as it is now",
            )
        if not reasons:
            # under the lock: a request submitted since the check holds its regime too
            reasons += _regime_reasons(
                session, vault, area_id, source, table, gate.earlier, families, case_id
            )
        approved = not reasons
        figure = RequestFigureRow(
            case_id=case_id,
            area=area,
            source=source,
            cell=cell.text(),
            # the plain register keeps the figure's own codes (as a release's filter: a
            # column may be a unit identifier); every code is sealed below for later checks
            hierarchies_json=json.dumps(
                {d: hierarchy_pairs(population.public_hierarchy(d)) for d in population.where}
            ),
            codes_json=json.dumps({d: str(table.cells[d].iloc[0]) for d in table.dimensions}),
            approved=approved,
            value=value if approved else None,  # a refused figure's value stays in the area
            reasons_json=json.dumps(reasons),
            rule_set=in_force.label,
            checked_by=login,
            checked_at=now(),
        )
        session.add(figure)
        session.flush()
        if approved:  # read back by every later check of the area (services/requests/register.py)
            check_key_held(area)
            whole = {h.name: hierarchy_pairs(h) for h in table.hierarchies}
            figure.sealed_hierarchies, figure.hierarchies_wrapped_key_json = seal(
                vault.provider, area, figure_object_id(figure.id), json.dumps(whole).encode()
            )
        record(
            session,
            login,
            FIGURE_EVENT,
            outcome=Outcome.ALLOWED if approved else Outcome.DENIED,
            area=area,
            dataset=name,
            subject=str(case_id),
            details={
                "figure": figure.id,
                "source": source,
                "cell": cell.text(),
                "rule_set": in_force.label,
                "reasons": reasons,
            },
        )
        return FigureAnswer(
            id=figure.id,
            case_id=case_id,
            source=source,
            cell=cell.text(),
            approved=approved,
            value=value if approved else None,
            reasons=tuple(reasons),
            rule_set=in_force.label,
        )


def _figure_zeros(
    zeros_for: OccupancyFor | None,
    figure: OutputTable,
    earlier: Sequence[EarlierRelease],
    source: str,
) -> tuple[Occupancy | None, str | None]:
    """The zeros of the figure's data for its differencing check, or, when they cannot be
    read, the reason that refuses the figure (never the value, nor the data's text)."""
    if zeros_for is None:
        return None, None  # a derived dataset's rows are part of its family's units
    refused = (
        f"the differencing check of the figure could not read which combinations of values "
        f"the data of {source} leave empty"
    )
    refusal = "the figure is refused, not checked without them"
    try:
        return zeros_for(figure, paired_with(earlier, source)), None
    except SpecError as exc:  # more value pairs than the check holds (sdc/tabulate/sources.py)
        told = exc.withheld("reading the data's zeros", _COARSER).message
        return None, f"{refused}: {told}; {refusal}: {_COARSER}"
    except Exception as exc:  # the dataset unreadable: only the kind of error is told
        return None, f"{refused} ({type(exc).__name__}): {refusal}; {_AGAIN}"


def _regime_reasons(
    session: Session,
    vault: Vault,
    area_id: int,
    source: str,
    figure: OutputTable,
    earlier: Sequence[EarlierRelease],
    families: Sequence[Family],
    case_id: int,
) -> list[str]:
    """One perturbation regime per source (release/regimes.py): an answer's figure is an
    exact value, refused beside a perturbed release or pending request of its source or
    family (those the differencing check links to ``figure``: the same units and measure).
    Fail closed: a regime that cannot be read refuses the figure."""

    def read(req: ReleaseRequestRow) -> Submission:
        return submission_of(vault.provider, req, version_row(session, req))

    label = f"the figure for request {case_id}"
    try:
        found = earlier_regimes(session, read, area_id, source, True, earlier, families, new=figure)
    except Exception as exc:
        return [could_not_run("regime check", exc)]
    clashing = clashes(EXACT, found)
    return [figure_clash_reason(label, source, clashing)] if clashing else []


def case_figures(session: Session, actor: Actor, case_id: int) -> list[FigureAnswer]:
    """The figures asked for in case ``case_id`` with the gate's verdicts, oldest first.

    Read by whoever may read the case (its officers and the report roles, as
    ``cases.get_case``): a refused figure's value was never kept, only its reasons.
    """
    row = case_row(session, case_id)
    if not permissions.can_act_on_case(
        actor.person, RequestKind(row.kind), row.opened_by, row.officer
    ):
        permissions.check_read_reports(actor.person)
    stored = session.scalars(
        select(RequestFigureRow)
        .where(RequestFigureRow.case_id == case_id)
        .order_by(RequestFigureRow.id)
    )
    return [
        FigureAnswer(
            id=f.id,
            case_id=case_id,
            source=f.source,
            cell=f.cell,
            approved=f.approved,
            value=f.value if f.approved else None,
            reasons=tuple(json.loads(f.reasons_json)),
            rule_set=f.rule_set or "",
        )
        for f in stored
    ]
