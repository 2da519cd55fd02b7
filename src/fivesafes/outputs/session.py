"""``Session``: ACRO's researcher-facing surface, with real protection and a differencing check.

    from fivesafes.outputs import Session
    s = Session(suppress=True)
    s.crosstab(df.region, df.industry, values=df.income, aggfunc="mean", margins=True)
    s.olsr("income ~ age", data=df)
    s.finalise("outputs")           # results.json (ACRO's format), checks.json, tables/

Every method of ``acro.ACRO`` that a researcher calls has the same name and arguments
here (see docs/outputs.md for the few that differ); what changes is underneath.
"""

from __future__ import annotations

import linecache
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from fivesafes.errors import DataError, NotFoundError, ValidationError
from fivesafes.outputs import inputs
from fivesafes.outputs.differencing import EarlierOutputs, SessionOutputs, population_key
from fivesafes.outputs.protect import DEFAULT_SUPPRESSION
from fivesafes.outputs.record import Output
from fivesafes.outputs.rules import OutputRules, resolve_rules
from fivesafes.outputs.subsets import RowSets
from fivesafes.outputs.tables import SessionContext, TableCall, make_table, statistics_of
from fivesafes.sdc import RuleSet, SuppressionSpec
from fivesafes.sdc.tabulate import private_connection

BLOCKED_EXTENSIONS = (".svg", ".gph")


class Session:
    """A researcher's session of outputs: each is checked as it is made, then finalised."""

    def __init__(
        self,
        suppress: bool = False,
        rules: OutputRules | RuleSet | Any | None = None,
        *,
        dataset: str | None = None,
        area: str | None = None,
        suppression: SuppressionSpec | None = None,
        earlier: Sequence[EarlierOutputs] = (),
        blocked_extensions: Sequence[str] = BLOCKED_EXTENSIONS,
        register: Callable[[str, str], EarlierOutputs] | None = None,
    ) -> None:
        """``rules``: ACRO's defaults, or the organisation's rule set; ``dataset`` and
        ``area`` say where the data come from (for the release submission); ``earlier``:
        further providers of published outputs (the release register) for differencing;
        ``register``: called once here with ``(area, dataset)``, gives the releases
        published from the dataset (``services.release.session_register.register_loader``:
        an audited read for the session's user), checked with every output."""
        self.rules = resolve_rules(rules)
        self.suppress = bool(suppress)
        self.dataset = dataset
        self.area = area
        self.suppression = suppression or DEFAULT_SUPPRESSION
        self.blocked_extensions = tuple(e.lower() for e in blocked_extensions)
        self.history = SessionOutputs()
        self.row_sets = RowSets()
        self.providers: tuple[EarlierOutputs, ...] = (self.history, *earlier)
        if register is not None:
            if not (area and dataset):
                raise ValidationError(
                    "a register is loaded for a session on an area's dataset only",
                    hint="give area=AREA and dataset=DATASET with register=...",
                )
            # loaded once: the register as it is when the session opens (release submit
            # checks again against the register as it is then)
            self.providers = (*self.providers, register(area, dataset))
        self.outputs: dict[str, Output] = {}
        self._next = 0
        self._artifacts: Path | None = None
        # one DuckDB connection per session: opening one costs more than tabulating a table
        # never spilling to disk: the session's frames are confidential
        self._connection = private_connection()

    # -- tables -------------------------------------------------------------------------

    def crosstab(
        self,
        index: Any,
        columns: Any,
        values: Any = None,
        rownames: Any = None,
        colnames: Any = None,
        aggfunc: Any = None,
        margins: bool = False,
        margins_name: str = "All",
        dropna: bool = True,
        normalize: bool | str = False,
        show_suppressed: bool = False,
    ) -> pd.DataFrame:
        """A cross tabulation of two (or more) factors, checked (and protected)."""
        del dropna, show_suppressed  # ACRO forces dropna=False; show_suppressed is deprecated
        if normalize:
            raise DataError(
                "normalize is not supported: shares hide the counts the checks need",
                hint="tabulate counts and divide afterwards",
            )
        rows = inputs.as_series_list(index, "row")
        cols = inputs.as_series_list(columns, "col")
        _rename(rows, rownames)
        _rename(cols, colnames)
        vals = inputs.values_series(values)
        stats, level = statistics_of(aggfunc, vals is not None)
        frame = inputs.table_frame([*rows, *cols], vals)
        call = TableCall(
            method="crosstab",
            frame=frame,
            names=tuple(str(s.name) for s in [*rows, *cols]),
            n_index=len(rows),
            values_name=None if vals is None else str(vals.name),
            statistics=stats,
            stat_level=level,
            margins=margins,
            margins_name=margins_name,
        )
        return self._table(call, _command())

    def pivot_table(
        self,
        data: pd.DataFrame,
        values: Any = None,
        index: Any = None,
        columns: Any = None,
        aggfunc: Any = "mean",
        fill_value: Any = None,
        margins: bool = False,
        dropna: bool = True,
        margins_name: str = "All",
        observed: bool = False,
        sort: bool = True,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """A spreadsheet-style pivot table of one values column, checked (and protected)."""
        del dropna, observed, sort
        if values is None or (isinstance(values, list) and len(values) != 1):
            raise DataError(
                "pivot_table needs exactly one values column",
                hint="give values='<column>' (one pivot table per values column)",
            )
        if fill_value is not None or kwargs:
            raise DataError("fill_value and aggfunc arguments are not supported")
        name = values[0] if isinstance(values, list) else values
        idx = [index] if not isinstance(index, list) else index
        cols = [] if columns is None else ([columns] if not isinstance(columns, list) else columns)
        missing = [c for c in [name, *idx, *cols] if c not in data.columns]
        if missing:
            raise DataError(f"column(s) {missing} are not in the data")
        stats, level = statistics_of(aggfunc, True)
        frame = inputs.table_frame([data[c] for c in [*idx, *cols]], _column(data, name))
        call = TableCall(
            method="pivot_table",
            frame=frame,
            names=tuple(str(c) for c in [*idx, *cols]),
            n_index=len(idx),
            values_name=str(name),
            statistics=stats,
            stat_level=level,
            margins=margins,
            margins_name=margins_name,
        )
        return self._table(call, _command())

    def _table(self, call: TableCall, command: str) -> pd.DataFrame:
        ctx = SessionContext(
            rules=self.rules,
            suppress=self.suppress,
            suppression=self.suppression,
            providers=self.providers,
            population=population_key(call.frame.index, self.dataset),
            connection=self._connection,
            row_sets=self.row_sets,
        )
        uid = self._uid()
        made = make_table(call, ctx, uid, command)
        for source, table in made.kept:
            self.history.add(uid, source, table)
        for rows in made.rows_kept:
            self.row_sets.add(rows)
        self._add(made.output)
        return made.table

    # -- models, survival, plots, files ---------------------------------------------------

    def ols(
        self,
        endog: Any,
        exog: Any = None,
        missing: str = "none",
        hasconst: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Ordinary least squares (statsmodels), checked on its residual degrees of freedom."""
        from fivesafes.outputs import regression

        return self._model(
            regression.fit_array("ols", endog, exog, missing=missing, hasconst=hasconst, **kwargs)
        )

    def logit(
        self, endog: Any, exog: Any = None, missing: str | None = None, check_rank: bool = True
    ) -> Any:
        """Logistic regression (statsmodels), checked on its residual degrees of freedom."""
        from fivesafes.outputs import regression

        return self._model(
            regression.fit_array("logit", endog, exog, missing=missing, check_rank=check_rank)
        )

    def probit(
        self, endog: Any, exog: Any = None, missing: str | None = None, check_rank: bool = True
    ) -> Any:
        """Probit regression (statsmodels), checked on its residual degrees of freedom."""
        from fivesafes.outputs import regression

        return self._model(
            regression.fit_array("probit", endog, exog, missing=missing, check_rank=check_rank)
        )

    def olsr(
        self,
        formula: str,
        data: Any,
        subset: Any = None,
        drop_cols: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """OLS from an R-style formula (statsmodels), checked on its residual DoF."""
        from fivesafes.outputs import regression

        return self._model(
            regression.fit_formula("olsr", formula, data, subset, drop_cols, *args, **kwargs)
        )

    def logitr(
        self,
        formula: str,
        data: Any,
        subset: Any = None,
        drop_cols: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Logistic regression from an R-style formula, checked on its residual DoF."""
        from fivesafes.outputs import regression

        return self._model(
            regression.fit_formula("logitr", formula, data, subset, drop_cols, *args, **kwargs)
        )

    def probitr(
        self,
        formula: str,
        data: Any,
        subset: Any = None,
        drop_cols: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Probit regression from an R-style formula, checked on its residual DoF."""
        from fivesafes.outputs import regression

        return self._model(
            regression.fit_formula("probitr", formula, data, subset, drop_cols, *args, **kwargs)
        )

    def _model(self, fitted: Any) -> Any:
        from fivesafes.outputs import regression

        self._add(regression.record(fitted, self.rules, self._uid(), _command(2)))
        return fitted.results

    def surv_func(
        self,
        time: Any,
        status: Any,
        output: str,
        entry: Any = None,
        title: Any = None,
        freq_weights: Any = None,
        exog: Any = None,
        bw_factor: float = 1.0,
        filename: str = "kaplan-meier.png",
    ) -> Any:
        """A Kaplan-Meier survival table or plot; events accumulated to the threshold, then
        shown (ACRO's accumulate-then-round) when suppressing."""
        from fivesafes.outputs import survival

        if output == "plot" and self._blocked(filename):
            return None
        made = survival.survival_output(
            time,
            status,
            output,
            self.rules,
            self.suppress,
            self._uid(),
            _command(),
            self._artifact(filename) if output == "plot" else None,
            entry=entry,
            title=title,
            freq_weights=freq_weights,
            exog=exog,
            bw_factor=bw_factor,
        )
        if made is None:
            return None
        self._add(made.output)
        return made.result

    def hist(
        self,
        data: pd.DataFrame,
        column: str,
        bins: Any = 10,
        filename: str = "histogram.png",
        **kwargs: Any,
    ) -> str | None:
        """A histogram of one column; its bins are checked as a frequency table."""
        from fivesafes.outputs import plots

        if self._blocked(filename):
            return None
        made = plots.histogram(
            data,
            column,
            bins,
            self.rules,
            self.suppress,
            self._uid(),
            _command(),
            self._artifact(filename),
            **kwargs,
        )
        self._add(made)
        return str(made.output[0]) if made.output else None

    def pie(
        self, data: pd.DataFrame, column: str, filename: str = "pie.png", **kwargs: Any
    ) -> str | None:
        """A pie chart of one categorical column; its slices are checked as counts."""
        from fivesafes.outputs import plots

        if self._blocked(filename):
            return None
        made = plots.pie_chart(
            data,
            column,
            self.rules,
            self.suppress,
            self._uid(),
            _command(),
            self._artifact(filename),
            **kwargs,
        )
        self._add(made)
        return str(made.output[0]) if made.output else None

    def custom_output(self, filename: str, comment: str = "") -> bool:
        """Add another file (a chart, a note) for a human to check; False if its type is blocked."""
        if self._blocked(filename):
            return False
        path = Path(filename)
        if not path.is_file():
            raise DataError(f"file not found: {filename}", hint="give the path of the output file")
        out = Output(
            uid=self._uid(),
            status=_verdict_review(),
            output_type="custom",
            properties={},
            sdc={},
            command="custom",
            summary="review",
            outcome=pd.DataFrame(),
            output=(path,),
            comments=(comment,) if comment else (),
            checks={"file": "a human must check this file: no automated check applies"},
        )
        self._add(out)
        return True

    def import_results(self, folder: str | Path) -> list[str]:
        """Add the outputs of an ACRO results folder (``results.json``): checked by ACRO, for
        review here (never ``pass``), finalised with the session's own; returns their names."""
        from fivesafes.outputs.acro_json import read_results

        names = []
        for output in read_results(folder):
            if output.uid.endswith("DONT_RELEASE"):
                continue  # ACRO's session summary for its checkers, never an output
            uid = output.uid if output.uid not in self.outputs else self._uid()
            # the file's status is no check made here (the researcher's process wrote the
            # file, or the researcher did): at best a human reviews it
            status = max(output.status, _verdict_review())
            checks = {**output.checks, "imported_status": output.status.text}
            self._add(replace(output, uid=uid, status=status, checks=checks))
            names.append(uid)
        return names

    # -- the session's outputs --------------------------------------------------------------

    def print_outputs(self) -> str:
        """Print every output of the session (ACRO's layout) and return the text."""
        text = "".join(o.describe() + "\n" for o in self.outputs.values())
        print(text)
        return text

    def remove_output(self, key: str) -> None:
        """Remove an output: it is not finalised, and later outputs are not checked against it."""
        self._get(key)
        del self.outputs[key]
        self.history.remove(key)
        self.row_sets.remove(key)

    def rename_output(self, old: str, new: str) -> None:
        """Rename an output."""
        self._get(old)
        if new in self.outputs:
            raise ValidationError(f"an output called {new!r} exists", hint="choose another name")
        if not new or any(c in new for c in "/\\:") or new.startswith("."):
            raise ValidationError(f"{new!r} cannot name an output (it becomes a file name)")
        self.outputs = {
            (new if k == old else k): (replace(v, uid=new) if k == old else v)
            for k, v in self.outputs.items()
        }
        self.history.rename(old, new)
        self.row_sets.rename(old, new)

    def add_comments(self, output: str, comment: str) -> None:
        """Add a comment to an output."""
        out = self._get(output)
        self.outputs[output] = replace(out, comments=(*out.comments, comment))

    def add_exception(self, output: str, reason: str) -> None:
        """Ask for an exception: why an output that does not pass should still be released."""
        out = self._get(output)
        self.outputs[output] = replace(out, exception=reason)

    def enable_suppression(self) -> None:
        """Turn suppression (with secondary suppression) on for the next outputs."""
        self.suppress = True

    def disable_suppression(self) -> None:
        """Turn suppression off for the next outputs."""
        self.suppress = False

    def finalise(self, path: str = "outputs", ext: str = "json", interactive: bool = False) -> Path:
        """Write every output, results.json (ACRO's format), checks.json and the tables'
        submission folders into ``path`` (which must not exist)."""
        from fivesafes.outputs.finalise import finalise

        if interactive:
            raise ValidationError(
                "interactive finalise is not supported",
                hint="give reasons with add_exception(output, reason) before finalise",
            )
        if ext != "json":
            raise ValidationError(f"ext {ext!r} is not supported", hint="use ext='json'")
        return finalise(self, Path(path))

    # -- helpers ------------------------------------------------------------------------------

    def _uid(self) -> str:
        uid = f"output_{self._next}"
        self._next += 1
        while uid in self.outputs:
            uid = f"output_{self._next}"
            self._next += 1
        return uid

    def _add(self, output: Output) -> None:
        self.outputs[output.uid] = output

    def _get(self, key: str) -> Output:
        if key not in self.outputs:
            raise NotFoundError(
                f"no output called {key!r}", hint=f"outputs: {', '.join(self.outputs) or 'none'}"
            )
        return self.outputs[key]

    def _blocked(self, filename: str) -> bool:
        return Path(filename).suffix.lower() in self.blocked_extensions

    def _artifact(self, filename: str) -> Path:
        """A new file in the session's own folder for plots (copied out by finalise)."""
        if self._artifacts is None:
            self._artifacts = Path(tempfile.mkdtemp(prefix="fivesafes-outputs-"))
        path = self._artifacts / Path(filename).name
        stem, suffix, n = path.stem, path.suffix, 0
        while path.exists():
            n += 1
            path = self._artifacts / f"{stem}_{n}{suffix}"
        return path


def _verdict_review() -> Any:
    from fivesafes.outputs.verdict import Verdict

    return Verdict.REVIEW


def _column(data: pd.DataFrame, name: Any) -> pd.Series:
    column = data[name]
    if not isinstance(column, pd.Series):
        raise DataError(f"column {name!r} is not one column of the data (repeated name?)")
    return column


def _rename(series: list[pd.Series], names: Any) -> None:
    if names is not None and len(names) == len(series):
        series[:] = [s.rename(n) for s, n in zip(series, names, strict=True)]


def _command(depth: int = 1) -> str:
    """The researcher's line that made the output (ACRO records it), read cheaply."""
    frame = sys._getframe(depth + 1)
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return line or f"{frame.f_code.co_name}()"
