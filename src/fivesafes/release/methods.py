"""What the methods note says, in sentences: the rules, the choices made, the checks.

The note keeps its promises. When the thresholds are withheld, no parameter of
any rule appears (``dominance(1,50)`` is a threshold too): only the kinds of rule,
and a sentence saying that their parameters are withheld and by whom. The check
against earlier releases names those releases only when there were some.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

AREA_POLICY = "area policy"

SECONDARY_METHODS = {
    "optimal": "by solving an optimisation problem that hides as little as possible",
    "modular": "sub-table by sub-table, each by an optimisation problem",
    "fast": "by a fast heuristic whose every choice is then checked",
    "hypercube": "by a fast heuristic (hypercubes) whose every choice is then checked",
    "none": "not at all",
}
COSTS = {
    "value": "the total value of the hidden cells",
    "unit": "the number of hidden cells",
    "contributors": "the number of contributors in the hidden cells",
    "log": "the logarithm of the hidden values (many small cells rather than one large one)",
}


def join(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _num(value: Any) -> str:
    f = float(value)
    return f"{int(f)}" if f.is_integer() else f"{f:g}"


def _largest(n: int) -> str:
    if n == 1:
        return "its largest contributor accounts"
    return f"its {n} largest contributors together account"


def rule_sentences(rules: Mapping[str, Any]) -> list[str]:
    """One sentence per primary rule, with its parameters (when they may be published)."""
    out: list[str] = []
    if rules.get("threshold") is not None:
        out.append(
            f"A cell is confidential when fewer than {_num(rules['threshold'])} contributors "
            "make it up (the threshold rule)."
        )
    if rules.get("frequency_threshold") is not None:
        out.append(
            f"A cell is confidential when fewer than {_num(rules['frequency_threshold'])} "
            "records make it up (the frequency rule)."
        )
    for n, k in rules.get("dominance") or []:
        out.append(
            f"A cell is confidential when {_largest(int(n))} for more than "
            f"{_num(k)}% of its total (the ({int(n)}, {_num(k)}) dominance rule)."
        )
    if rules.get("p_percent") is not None:
        out.append(
            "A cell is confidential when the second largest contributor could estimate the "
            f"largest one's value to within {_num(rules['p_percent'])}% (the p% rule)."
        )
    if rules.get("pq"):
        p, q = rules["pq"]
        out.append(
            "A cell is confidential when the second largest contributor, who already knows "
            f"each value to within {_num(q)}%, could estimate the largest one's value to "
            f"within {_num(p)}% (the pq rule)."
        )
    if rules.get("zeros") == "sensitive":
        out.append("A cell without contributors is confidential.")
    tpp = rules.get("threshold_protection_percent")
    if tpp is not None and (rules.get("threshold") is not None or rules.get("frequency_threshold")):
        out.append(
            "A cell hidden by the threshold or frequency rule must not be estimable to within "
            f"{_num(tpp)}% of its value."
        )
    if not out:
        out.append("No primary rule was applied.")
    return out


def rule_kinds(rules: Mapping[str, Any]) -> list[str]:
    """The kinds of rule in force, without any parameter (for a note that withholds them)."""
    kinds: list[str] = []
    if rules.get("threshold") is not None:
        kinds.append("a minimum number of contributors (the threshold rule)")
    if rules.get("frequency_threshold") is not None:
        kinds.append("a minimum number of records (the frequency rule)")
    dominance = rules.get("dominance") or []
    if dominance:
        kinds.append("dominance rules" if len(dominance) > 1 else "a dominance rule")
    if rules.get("p_percent") is not None:
        kinds.append("the p% rule")
    if rules.get("pq"):
        kinds.append("the pq rule")
    if rules.get("zeros") == "sensitive":
        kinds.append("cells without contributors are confidential")
    return kinds


def withheld_by_text(withheld_by: str) -> str:
    """Who decided to withhold the thresholds, in words."""
    if withheld_by == AREA_POLICY:
        return "by the policy of the restricted area that holds the data"
    return "by the publisher of this release"


def rules_text(rules: Mapping[str, Any], *, withhold: bool, withheld_by: str = "") -> list[str]:
    """The rules paragraph: the sentences, or the kinds of rule and that the rest is withheld."""
    if not withhold:
        return rule_sentences(rules)
    kinds = rule_kinds(rules)
    first = f"The rules applied are {join(kinds)}." if kinds else "No primary rule was applied."
    return [
        first,
        "Their parameters (the thresholds, the percentages and the protection each hidden "
        f"cell requires) are withheld {withheld_by_text(withheld_by)}, so that they cannot be "
        "used to narrow down a hidden value.",
    ]


def choices(
    rules: Mapping[str, Any],
    suppression: Mapping[str, Any],
    method: str,
    *,
    withhold: bool,
    hidden: bool = True,
) -> list[str]:
    """The choices made in protecting the table, each as a sentence.

    A table protected by changing values (``method`` in CHANGES_VALUES) states only the
    choices about its hidden cells when it has some (``hidden``)."""
    out: list[str] = []
    if rules.get("basis"):
        out.append(f"The rules were applied to {rules['basis']}.")
    if method in CHANGES_VALUES:
        if hidden:
            out.append(
                "Cells that rounding alone left too narrowly bounded are hidden; an "
                "independent check solved the attacker's linear programs for them, "
                "knowing that each published value lies within one rounding base of the truth."
            )
        return out
    if rules.get("zeros", "safe") == "safe":
        out.append("Cells without contributors are not confidential: they are published as 0.")
    how = SECONDARY_METHODS.get(method)
    if method == "none":
        out.append("No secondary suppression was applied.")
    elif how:
        cost = COSTS.get(str(suppression.get("cost", "value")))
        text = f"The further cells to hide (secondary suppression) were chosen {how}"
        out.append(text + (f", keeping {cost} as small as possible." if cost else "."))
    apriori = suppression.get("a_priori_percent")
    if apriori is None:
        out.append(
            "The check of the hidden cells assumed that a user knows only that no value is "
            "negative, besides everything published."
        )
    elif withhold:
        out.append(
            "The check of the hidden cells assumed that a user already knows each value "
            "approximately; how closely is withheld with the thresholds."
        )
    else:
        out.append(
            "The check of the hidden cells assumed that a user already knows each value to "
            f"within {_num(apriori)}%."
        )
    if suppression.get("singleton", True):
        out.append(
            "The check also covered what one contributor could learn about another from "
            "the published cells and its own value."
        )
    out.append("Totals and subtotals include the hidden cells: they are the true totals.")
    return out


def earlier_text(differencing: Mapping[str, Any] | None, earlier: Sequence[str]) -> str:
    """The check against earlier releases, naming them only when there were some."""
    if differencing is None:
        return "No check against earlier releases is recorded for this release."
    safe = bool(differencing.get("safe"))
    verdict = (
        "no hidden cell can be worked out by combining them (differencing)"
        if safe
        else "SOME HIDDEN CELLS COULD BE WORKED OUT BY COMBINING THEM"
    )
    if not earlier:
        return (
            "This is the first release from this source: there was no earlier release to "
            "check it against. It was checked on its own."
        )
    n = len(earlier)
    names = join(list(earlier))
    return (
        f"The tables were checked together with the {n} earlier release{'s' if n > 1 else ''} "
        f"from the same source ({names}): {verdict}."
    )


CHANGES_VALUES = ("cellkey", "random-rounding", "controlled-rounding")


def perturbation_text(
    protection: Mapping[str, Any], *, counts: bool, withhold: bool, withheld_by: str = ""
) -> list[str]:
    """What a method that changes values did, and what it means for users, as sentences.

    The cell key method's D, V and js are thresholds of a kind (with them a user narrows
    a small count down): withheld with the others. A rounding base is never withheld:
    every published value shows it."""
    method = str(protection.get("method", ""))
    params = protection.get("parameters") or {}
    withheld = f"Its parameters are withheld ({withheld_by_text(withheld_by)})."
    if method == "cellkey":
        if counts:
            first = (
                "The counts were protected by the cell key method instead of hiding cells: each "
                "count was changed by a small random amount, zero on average"
            )
            if withhold:
                out = [first + ". " + withheld]
            else:
                js = int(params.get("js", 0))
                out = [
                    first
                    + f", by at most {_num(params['D'])}, with variance {_num(params['V'])}"
                    + (
                        "; no count of 1 is published."
                        if js == 2
                        else f"; no count between 1 and {js - 1} is published."
                        if js > 2
                        else "."
                    )
                ]
        else:
            first = (
                "The values were protected by the cell key method instead of hiding cells: each "
                "value was changed by a random amount carried by its largest contributions, "
                "zero on average"
            )
            out = [
                first + ". " + withheld
                if withhold
                else first + f", at most {_num(params['magnitude_percent'])}% of them."
            ]
        out.append(
            "The change is fixed by the records in the cell: the same cell has the same value "
            "in every table and every release, so combining tables reveals nothing more."
        )
        out.append(
            "Totals were changed on their own: a total may differ from the sum of its parts."
        )
        return out
    base = _num((protection.get("parameters") or {}).get("base", 0))
    if method == "random-rounding":
        return [
            f"The values were rounded to a multiple of {base}, up or down at random (the "
            "expected value is the true one); the same cell rounds the same way in every "
            "table.",
            "Totals were rounded on their own: a total may differ from the sum of its parts.",
        ]
    if method == "controlled-rounding":
        controlled = (protection.get("rounding") or {}).get("controlled") or {}
        exact = bool(controlled.get("exact", False))
        return [
            f"The values were rounded to one of the two nearest multiples of {base} (controlled "
            "rounding); a value already a multiple was not changed.",
            "Totals equal the sum of their parts."
            if exact
            else "Totals may differ from the sum of their parts by up to "
            f"{_num(controlled.get('tolerance', 0))}: no rounding that keeps every total "
            "exact was found.",
        ]
    return []
