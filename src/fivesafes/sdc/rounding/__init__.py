"""Rounding to a base: random (unbiased, key-consistent) and controlled (additive, by MIP),
with the attacker's check that every primary cell keeps its protection."""

from __future__ import annotations

from fivesafes.sdc.rounding.controlled import ControlledRounding, controlled_round
from fivesafes.sdc.rounding.protection import (
    RoundedProtection,
    audit_rounded,
    protect_rounded,
    protecting_directions,
    rounding_bounds,
)
from fivesafes.sdc.rounding.unbiased import random_round

__all__ = [
    "ControlledRounding",
    "RoundedProtection",
    "audit_rounded",
    "controlled_round",
    "protect_rounded",
    "protecting_directions",
    "random_round",
    "rounding_bounds",
]
