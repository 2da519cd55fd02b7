"""Spec sections of the methods that change values: ``[perturbation]`` and ``[rounding]``.

``[table] protection`` (or ``table protect --method``) chooses the method:
``suppression`` (hide cells, the default), ``cellkey`` (perturb every cell from a
ptable, key-consistent), ``random-rounding`` or ``controlled-rounding`` (to a
multiple of ``[rounding] base``). See docs/perturbation.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fivesafes.errors import SpecError
from fivesafes.sdc.spec_values import is_number, is_whole, number, only_keys, string_value

ProtectionMethod = Literal["suppression", "cellkey", "random-rounding", "controlled-rounding"]
PROTECTION_METHODS: tuple[str, ...] = (
    "suppression",
    "cellkey",
    "random-rounding",
    "controlled-rounding",
)
ROUNDING_METHODS: tuple[str, ...] = ("random-rounding", "controlled-rounding")
MAX_MAGNITUDE_STEP = 10_000  # finer adds nothing but time to the noise row's solve
MAX_NOISE_OUTCOMES = 100_000  # D * step: half the noise row's outcomes (a solve < 1 s)


@dataclass(frozen=True)
class PerturbationSpec:
    """The cell key method's parameters: the count ptable (D, V, js) and the magnitude noise.

    ``js`` is the smallest positive count ever published (0 or 1: no restriction); the
    ptable package's ``js`` is this one minus 1 (it names the largest blocked count).
    """

    record_id: str | None = None  # column identifying each record (keys from key material)
    max_deviation: int = 2  # D
    variance: float = 1.05  # V
    js: int = 2
    ptable: Path | None = None  # an existing count ptable (CSV), checked against D, V, js
    top_k: int = 2  # magnitude tables: contributions that carry the noise
    epsilon: tuple[float, ...] = (1.0, 0.5)  # weight of each of the top_k contributions
    magnitude_percent: float = 10.0  # largest noise, % of the weighted top contributions
    magnitude_max_deviation: int = 4  # D of the magnitude noise ptable
    magnitude_variance: float = 2.0  # V of the magnitude noise ptable
    magnitude_ptable: Path | None = None
    # the noise ptable's outcomes are multiples of 1 / magnitude_step (ptable's `step`):
    # 2 D step + 1 values, quasi-continuous; 1 is the integer ptable of releases before it
    magnitude_step: int = 100

    def as_dict(self) -> dict[str, Any]:
        """Every parameter in force, defaults included (for report.json)."""
        return {
            "record_id": self.record_id,
            "D": self.max_deviation,
            "V": self.variance,
            "js": self.js,
            "ptable": str(self.ptable) if self.ptable else None,
            "top_k": self.top_k,
            "epsilon": list(self.epsilon),
            "magnitude_percent": self.magnitude_percent,
            "magnitude_D": self.magnitude_max_deviation,
            "magnitude_V": self.magnitude_variance,
            "magnitude_ptable": str(self.magnitude_ptable) if self.magnitude_ptable else None,
            "magnitude_step": self.magnitude_step,
        }


@dataclass(frozen=True)
class RoundingSpec:
    """Rounding to a multiple of ``base``: the solver's limits for controlled rounding."""

    base: float = 5.0
    time_limit: float = 60.0
    gap: float = 0.05  # relative gap (deviation vs bound) at which controlled rounding stops

    def as_dict(self) -> dict[str, Any]:
        """Every parameter in force, defaults included (for report.json)."""
        return {"base": self.base, "time_limit": self.time_limit, "gap": self.gap}


def parse_protection(value: Any) -> ProtectionMethod:
    """The ``[table] protection`` value, validated."""
    if value not in PROTECTION_METHODS:
        raise SpecError(
            f"[table] protection must be one of {PROTECTION_METHODS}, got {value!r}",
            hint='e.g. protection = "cellkey"; table protect --method overrides it',
        )
    out: ProtectionMethod = value
    return out


def parse_perturbation(raw: Any, *, base: Path) -> PerturbationSpec:
    """Validate ``[perturbation]``; relative ptable paths resolve from ``base``."""
    where = "[perturbation]"
    if not isinstance(raw, dict):
        raise SpecError(f"{where} must be a table")
    keys = {
        "record_id",
        "D",
        "V",
        "js",
        "ptable",
        "top_k",
        "epsilon",
        "magnitude_percent",
        "magnitude_D",
        "magnitude_V",
        "magnitude_ptable",
        "magnitude_step",
    }
    only_keys(raw, keys, where)
    d = PerturbationSpec()
    big_d = _whole(raw, "D", d.max_deviation, where, least=1)
    js = _whole(raw, "js", d.js, where, least=0)
    variance = number(raw, "V", d.variance)
    if variance <= 0:
        raise SpecError(f"{where} V (the noise variance) must be > 0, got {variance:g}")
    if js > 1 and big_d < js - 1:
        raise SpecError(
            f"{where} D = {big_d} is too small for js = {js}: a count of 1 must be able to "
            f"move to js and stay unbiased",
            hint=f"use D >= js - 1 = {js - 1}",
        )
    top_k = _whole(raw, "top_k", d.top_k, where, least=1)
    eps_raw = raw.get("epsilon", list(d.epsilon[:top_k]) + [0.5] * max(0, top_k - 2))
    epsilon = _epsilon(eps_raw, top_k, where)
    percent = number(raw, "magnitude_percent", d.magnitude_percent)
    if not 0 < percent < 100:
        raise SpecError(
            f"{where} magnitude_percent must be in (0, 100), got {percent:g}",
            hint="below 100 the noise never turns a positive cell negative",
        )
    mag_d = _whole(raw, "magnitude_D", d.magnitude_max_deviation, where, least=1)
    mag_v = number(raw, "magnitude_V", d.magnitude_variance)
    if mag_v <= 0:
        raise SpecError(f"{where} magnitude_V must be > 0, got {mag_v:g}")
    mag_step = _whole(raw, "magnitude_step", d.magnitude_step, where, least=1)
    if mag_step > MAX_MAGNITUDE_STEP or mag_d * mag_step > MAX_NOISE_OUTCOMES:
        raise SpecError(
            f"{where} magnitude_step must be at most {MAX_MAGNITUDE_STEP}, and magnitude_D "
            f"times it at most {MAX_NOISE_OUTCOMES}; got {mag_step} (D = {mag_d})",
            hint="100 already gives 2 D 100 + 1 noise values",
        )
    ptable = string_value(raw, "ptable", where)
    mag_ptable = string_value(raw, "magnitude_ptable", where)
    return PerturbationSpec(
        record_id=string_value(raw, "record_id", where),
        max_deviation=big_d,
        variance=variance,
        js=js,
        ptable=base / ptable if ptable else None,
        top_k=top_k,
        epsilon=epsilon,
        magnitude_percent=percent,
        magnitude_max_deviation=mag_d,
        magnitude_variance=mag_v,
        magnitude_ptable=base / mag_ptable if mag_ptable else None,
        magnitude_step=mag_step,
    )


def parse_rounding(raw: Any, *, frequency: bool) -> RoundingSpec:
    """Validate ``[rounding]``: a count table rounds to a whole base of at least 2."""
    where = "[rounding]"
    if not isinstance(raw, dict):
        raise SpecError(f"{where} must be a table")
    only_keys(raw, {"base", "time_limit", "gap"}, where)
    d = RoundingSpec()
    base = number(raw, "base", d.base)
    if base <= 0:
        raise SpecError(f"{where} base must be > 0, got {base:g}")
    if frequency and (not float(base).is_integer() or base < 2):
        raise SpecError(
            f"{where} base of a count table must be a whole number >= 2, got {base:g}",
            hint="e.g. base = 5 (counts are published as multiples of 5)",
        )
    time_limit = number(raw, "time_limit", d.time_limit)
    gap = number(raw, "gap", d.gap)
    if time_limit <= 0 or not 0 <= gap < 1:
        raise SpecError(f"{where} time_limit must be > 0 and gap in [0, 1)")
    return RoundingSpec(base=base, time_limit=time_limit, gap=gap)


def _whole(raw: dict[str, Any], key: str, default: int, where: str, *, least: int) -> int:
    value = raw.get(key, default)
    if not is_whole(value) or value < least:
        raise SpecError(f"{where} {key} must be a whole number >= {least}, got {value!r}")
    return int(value)


def _epsilon(raw: Any, top_k: int, where: str) -> tuple[float, ...]:
    if (
        not isinstance(raw, list | tuple)
        or len(raw) != top_k
        or not all(is_number(e) and 0 <= e <= 1 for e in raw)
        or raw[0] != 1
        or any(b > a for a, b in itertools.pairwise(raw))
    ):
        raise SpecError(
            f"{where} epsilon must list top_k = {top_k} weights in [0, 1], the first 1, "
            f"descending; got {raw!r}",
            hint="e.g. top_k = 2 with epsilon = [1.0, 0.5]",
        )
    return tuple(float(e) for e in raw)
