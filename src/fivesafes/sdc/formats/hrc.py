"""tau-Argus hierarchy files (``.hrc``): one code per line, depth shown by leading ``@``.

A code directly under the total has no marker, a code one level deeper one
``@``, and so on; the total itself is not in the file (tau-Argus takes it from
``<TOTCODE>`` in the metadata, default ``Total``)::

    N
    @N1
    @N2
    S

Codes may be padded with spaces (fixed-width files); they are stripped. The
marker (tau-Argus' ``<HIERLEADSTRING>``) can be another string.
"""

from __future__ import annotations

from pathlib import Path

from fivesafes.errors import HierarchyError
from fivesafes.sdc.hierarchy import DEFAULT_TOTAL_CODE, Hierarchy

LEAD = "@"


def parse_hrc(
    name: str,
    text: str,
    *,
    total_code: str = DEFAULT_TOTAL_CODE,
    lead: str = LEAD,
    where: str = "the .hrc file",
) -> Hierarchy:
    """A hierarchy from the text of a tau-Argus ``.hrc`` file (the total is ``total_code``)."""
    if not lead:
        raise HierarchyError("the .hrc level marker must not be empty", hint='use "@"')
    pairs: list[tuple[str, str | None]] = [(total_code, None)]
    stack = [total_code]  # stack[d] = the latest code at depth d (the total at 0)
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        markers = 0
        rest = line.lstrip()
        while rest.startswith(lead):
            markers += 1
            rest = rest[len(lead) :]
        code = rest.strip()
        if not code:
            raise HierarchyError(
                f"{where}, line {lineno}: no code after the level marker(s)",
                hint=f"each line is a code, preceded by one '{lead}' per level below the top",
            )
        depth = markers + 1
        if depth > len(stack):
            before = (
                "it is the first code"
                if len(stack) == 1
                else f"the code before it has {len(stack) - 2}"
            )
            raise HierarchyError(
                f"{where}, line {lineno}: code {code!r} has {markers} level marker(s) "
                f"('{lead * markers}') but {before}",
                hint="a code can be at most one level below the code on the line before it",
            )
        if code == total_code:
            raise HierarchyError(
                f"{where}, line {lineno}: the total code {total_code!r} is listed as a code",
                hint="an .hrc file lists the codes under the total, not the total itself "
                "(set total_code in the spec if the total has another code)",
            )
        if code in seen:
            raise HierarchyError(
                f"{where}, line {lineno}: code {code!r} appears twice (first on line {seen[code]})",
                hint="each code has exactly one place in the hierarchy",
            )
        seen[code] = lineno
        del stack[depth:]
        pairs.append((code, stack[depth - 1]))
        stack.append(code)
    return Hierarchy.from_pairs(name, pairs)


def read_hrc(
    name: str, path: str | Path, *, total_code: str = DEFAULT_TOTAL_CODE, lead: str = LEAD
) -> Hierarchy:
    """Read a tau-Argus ``.hrc`` file as the hierarchy of dimension ``name``."""
    path = Path(path)
    text = _read_text(path)
    return parse_hrc(name, text, total_code=total_code, lead=lead, where=str(path))


def hrc_text(h: Hierarchy, *, lead: str = LEAD) -> str:
    """The hierarchy as the text of a tau-Argus ``.hrc`` file (the total left out)."""
    lines = []
    for code in h.order[1:]:
        if code != code.strip() or code.startswith(lead) or "\n" in code or "\r" in code:
            raise HierarchyError(
                f"hierarchy '{h.name}': code {code!r} cannot be written to an .hrc file",
                hint=f"an .hrc code cannot start with '{lead}', have spaces around it or "
                "span lines",
            )
        lines.append(lead * (h.depth[code] - 1) + code)
    return "".join(line + "\n" for line in lines)


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise HierarchyError(f"hierarchy file not found: {path}")
    data = path.read_bytes()
    if not data:
        raise HierarchyError(
            f"hierarchy file {path} is empty (0 bytes)",
            hint="list the codes under the total, one per line",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HierarchyError(
            f"hierarchy file {path} is not UTF-8 text (byte {exc.start} cannot be read; "
            "a file saved as Latin-1 or Windows-1252 looks like this)",
            hint="save it as UTF-8",
        ) from exc
