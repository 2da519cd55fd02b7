"""Small validators shared by the spec parsers: unknown keys, strings, numbers.

TOML's true/false are Python bools, and bool is a subclass of int: every check
here refuses a bool where a number is meant.
"""

from __future__ import annotations

from typing import Any

from fivesafes.errors import SpecError
from fivesafes.sdc.suggest import did_you_mean


def only_keys(d: dict[str, Any], allowed: set[str], where: str) -> None:
    """Raise SpecError naming any key of ``d`` outside ``allowed``."""
    unknown = sorted(set(d) - allowed)
    if unknown:
        guesses = "".join(did_you_mean(k, sorted(allowed)) for k in unknown)
        raise SpecError(
            f"unknown key(s) {unknown} in {where}{guesses}",
            hint=f"allowed: {sorted(allowed)}",
        )


def string_value(d: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """A non-empty string at ``key`` (stripped), None when absent and not required."""
    value = d.get(key)
    if value is None:
        if required:
            raise SpecError(f"{where} needs '{key}'")
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where} '{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def is_int(value: Any) -> bool:
    """True for a whole number that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_whole(value: Any) -> bool:
    """True for a whole number that is not a bool; 7.0 counts (a CLI option or JSON gives one)."""
    return is_int(value) or (isinstance(value, float) and value.is_integer())


def is_number(value: Any) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(d: dict[str, Any], key: str, default: float) -> float:
    """The number at ``key`` (``default`` when absent) as a float."""
    value = d.get(key, default)
    if not is_number(value):
        raise SpecError(f"'{key}' must be a number, got {value!r}")
    return float(value)


def population_filter(raw: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[table] where = { column = ["value", ...] }`` (or one value): the units tabulated.

    Values are compared as text (the column's values cast to text, as codes are)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise SpecError(
            f"{where} where must be a table of column = [values]",
            hint='e.g. where = { size = ["small"] }: only the small units are tabulated',
        )
    out: list[tuple[str, tuple[str, ...]]] = []
    for column, values in raw.items():
        listed = values if isinstance(values, list) else [values]
        if not listed or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in listed
        ):
            raise SpecError(
                f"{where} where.{column} must be a value or a non-empty list of values",
                hint=f'e.g. where = {{ {column} = ["a", "b"] }}',
            )
        out.append((str(column), tuple(sorted({str(v) for v in listed}))))
    return tuple(out)
