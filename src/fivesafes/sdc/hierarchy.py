"""Hierarchies of codes: a tree per dimension, from a ``code,parent`` CSV or a flat list.

Codes are strings everywhere: ``01`` and ``1`` are different codes and nothing is
ever parsed as a number. A hierarchy CSV may have a ``label`` column: the words
people read in a published table (``Manufacturing`` for ``C``); codes stay the key.
tau-Argus ``.hrc`` files and sdcTable/sdcHierarchies data frames are read too
(:func:`load_hierarchy`, :mod:`fivesafes.sdc.formats`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fivesafes.errors import DataError, HierarchyError

DEFAULT_TOTAL_CODE = "Total"
# C0/C1 control characters and the bidirectional controls: never part of a code. A
# newline or tab breaks the line-based files (tau-Argus .hrc and .tab), an escape moves a
# terminal's cursor, a spreadsheet refuses them, and a right-to-left override reorders
# what a checker reads (view/text.py replaces them on screen; here they are refused)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SHOWN = 5


def refuse_control_characters(h: Hierarchy, *, from_data: bool) -> Hierarchy:
    """``h``, or a HierarchyError naming its codes and labels with control characters.

    ``from_data``: the codes came from the data (a dimension without a hierarchy file),
    so the error has a redacted form that does not quote them.
    """
    bad = [c for c in h.order if CONTROL_CHARACTERS.search(c)]
    labels = [c for c, v in h.labels.items() if CONTROL_CHARACTERS.search(v)]
    if not bad and not labels:
        return h
    where = "in the data" if from_data else f"in hierarchy '{h.name}'"
    what = (
        f"{len(bad)} code(s) {where} hold control characters (a newline, tab, escape or "
        f"direction override): {[*bad[:_SHOWN]]}"
        if bad
        else f"the labels of {len(labels)} code(s) in hierarchy '{h.name}' hold control "
        f"characters: {labels[:_SHOWN]}"
    )
    if from_data:
        raise DataError(
            f"dimension '{h.name}': {what}",
            hint="codes are plain text: remove the control characters from the data",
            redacted=f"dimension '{h.name}': some codes in the data hold control characters",
        )
    raise HierarchyError(
        f"dimension '{h.name}': {what}",
        hint="codes and labels are plain text: remove the control characters from the "
        "hierarchy file",
    )


@dataclass(frozen=True)
class Hierarchy:
    """A rooted tree of string codes; the root is the dimension's grand total."""

    name: str
    root: str
    parent: dict[str, str | None] = field(repr=False)
    children: dict[str, tuple[str, ...]] = field(repr=False)
    order: tuple[str, ...] = field(repr=False)  # depth-first, parents before children
    depth: dict[str, int] = field(repr=False)
    # what people read for each code (from the hierarchy file's label column); optional
    labels: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def label(self, code: str) -> str:
        """The code's label, or the code itself when it has none."""
        return self.labels.get(code) or code

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, root first, in display order."""
        return self.order

    @property
    def leaves(self) -> tuple[str, ...]:
        """Codes without children, in display order."""
        return tuple(c for c in self.order if not self.children[c])

    @property
    def max_depth(self) -> int:
        """Depth of the deepest code (the root has depth 0)."""
        return max(self.depth.values())

    def is_leaf(self, code: str) -> bool:
        """True when ``code`` has no children."""
        return not self.children[code]

    def ancestors(self, code: str) -> tuple[str, ...]:
        """``code`` and every code above it, up to the root."""
        out = [code]
        parent = self.parent[code]
        while parent is not None:
            out.append(parent)
            parent = self.parent[parent]
        return tuple(out)

    def ancestor_at(self, code: str, level: int) -> str:
        """The ancestor of ``code`` at depth ``level`` (``code`` itself if it is shallower)."""
        chain = self.ancestors(code)[::-1]  # root first
        return chain[min(level, len(chain) - 1)]

    def leaves_under(self, code: str) -> tuple[str, ...]:
        """The leaves that make up ``code``."""
        out: list[str] = []
        stack = [code]
        while stack:
            c = stack.pop()
            kids = self.children[c]
            if kids:
                stack.extend(reversed(kids))
            else:
                out.append(c)
        return tuple(out)

    def ancestor_matrix(self) -> npt.NDArray[np.bool_]:
        """``m[i, j]``: code ``order[i]`` is ``order[j]`` or one of its ancestors."""
        pos = {c: i for i, c in enumerate(self.order)}
        m = np.zeros((len(self.order), len(self.order)), dtype=bool)
        for code in self.order:
            for anc in self.ancestors(code):
                m[pos[anc], pos[code]] = True
        return m

    def relations(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every (parent, children) pair: the parent equals the sum of its children."""
        return tuple((c, self.children[c]) for c in self.order if self.children[c])

    @classmethod
    def from_pairs(
        cls,
        name: str,
        pairs: Iterable[tuple[str, str | None]],
        labels: Mapping[str, str] | None = None,
    ) -> Hierarchy:
        """Build and validate a hierarchy from (code, parent) pairs; parent None for the root."""
        parent: dict[str, str | None] = {}
        for lineno, (raw_code, raw_parent) in enumerate(pairs, start=2):
            code = (raw_code or "").strip()
            par = (raw_parent or "").strip() or None
            if not code:
                raise HierarchyError(
                    f"hierarchy '{name}': empty code on line {lineno}",
                    hint="every row needs a code; leave only the parent empty for the root",
                )
            if code in parent:
                raise HierarchyError(
                    f"hierarchy '{name}': code '{code}' appears twice (line {lineno})",
                    hint="each code must have exactly one parent; remove the duplicate row",
                )
            parent[code] = par
        return cls._build(name, parent, labels)

    @classmethod
    def from_csv(cls, name: str, path: str | Path) -> Hierarchy:
        """Read a ``code,parent[,label]`` CSV (parent empty for the root); codes stay strings."""
        path = Path(path)
        if not path.is_file():
            raise HierarchyError(
                f"hierarchy file for '{name}' not found: {path}",
                hint="give a CSV with columns code,parent (paths are relative to the spec file)",
            )
        if path.stat().st_size == 0:
            raise HierarchyError(
                f"hierarchy file {path} is empty (0 bytes)",
                hint="the first line should read: code,parent (then one line per code)",
            )
        labels: dict[str, str] = {}
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                header = [h.strip() for h in (reader.fieldnames or [])]
                if "code" not in header or "parent" not in header:
                    raise HierarchyError(
                        f"hierarchy file {path} must have columns 'code' and 'parent', "
                        f"found {header}",
                        hint="the first line should read: code,parent",
                    )
                reader.fieldnames = header
                rows = []
                for r in reader:
                    rows.append((r["code"], r["parent"]))
                    label = (r.get("label") or "").strip()
                    if label:
                        labels[(r["code"] or "").strip()] = label
        except UnicodeDecodeError as exc:
            raise HierarchyError(
                f"hierarchy file {path} is not UTF-8 text (byte {exc.start} cannot be read; "
                "a file saved as Latin-1 or Windows-1252 looks like this)",
                hint="save it as UTF-8 CSV (in Excel: CSV UTF-8) with the columns code,parent",
            ) from exc
        except csv.Error as exc:
            raise HierarchyError(
                f"hierarchy file {path} cannot be read as a UTF-8 CSV: {exc}",
                hint="save it as UTF-8 CSV with the columns code,parent",
            ) from exc
        return cls.from_pairs(name, rows, labels)

    @classmethod
    def flat(cls, name: str, codes: Sequence[str], total: str = DEFAULT_TOTAL_CODE) -> Hierarchy:
        """A one-level hierarchy: a grand total over the given codes (kept in sorted order)."""
        unique = sorted(set(codes))
        if total in unique:
            raise HierarchyError(
                f"dimension '{name}': the data contain the code '{total}', "
                "which is also the grand total's code",
                hint="set total_code in the dimension's spec to a code the data do not use",
                redacted=f"dimension '{name}': the data contain the grand total's code",
            )
        parent: dict[str, str | None] = {total: None}
        parent.update({c: total for c in unique})
        return cls._build(name, parent)

    @classmethod
    def _build(
        cls, name: str, parent: dict[str, str | None], labels: Mapping[str, str] | None = None
    ) -> Hierarchy:
        roots = [c for c, p in parent.items() if p is None]
        if len(roots) != 1:
            raise HierarchyError(
                f"hierarchy '{name}' must have exactly one root (a code with an empty parent); "
                f"found {len(roots)}: {roots[:10]}",
                hint="add a single total code with an empty parent and hang the top codes under it",
            )
        missing = sorted({p for p in parent.values() if p is not None and p not in parent})
        if missing:
            raise HierarchyError(
                f"hierarchy '{name}': parent code(s) {missing[:10]} are not defined as codes",
                hint="add a row for each parent code, or correct the parent column",
            )
        children: dict[str, list[str]] = {c: [] for c in parent}
        for c, p in parent.items():
            if p is not None:
                children[p].append(c)
        root = roots[0]
        order: list[str] = []
        depth: dict[str, int] = {}
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            code, d = stack.pop()
            order.append(code)
            depth[code] = d
            stack.extend((k, d + 1) for k in reversed(children[code]))
        if len(order) != len(parent):
            unreachable = sorted(set(parent) - set(order))
            raise HierarchyError(
                f"hierarchy '{name}' has a cycle: code(s) {unreachable[:10]} never reach the root",
                hint="each code's chain of parents must end at the root",
            )
        return cls(
            name=name,
            root=root,
            parent=dict(parent),
            children={c: tuple(k) for c, k in children.items()},
            order=tuple(order),
            depth=depth,
            labels={c: v for c, v in (labels or {}).items() if c in parent and v},
        )
