"""The methods-note threshold policy of an area: a publisher may withhold more, never less."""

from __future__ import annotations

import pytest

from fivesafes.governance.areas import AREA_POLICY, PUBLISHER, Area, ThresholdNote, threshold_note


@pytest.mark.parametrize(
    ("area_withholds", "publisher_withholds", "expected"),
    [
        (False, False, ThresholdNote(False)),
        (False, True, ThresholdNote(True, PUBLISHER)),
        (True, False, ThresholdNote(True, AREA_POLICY)),
        # the area's policy is named even when the publisher asked too: it would apply anyway
        (True, True, ThresholdNote(True, AREA_POLICY)),
    ],
)
def test_threshold_note_follows_the_area_and_the_publisher(
    area_withholds: bool, publisher_withholds: bool, expected: ThresholdNote
) -> None:
    area = Area("earnings", "iris", withhold_thresholds=area_withholds)
    note = threshold_note(area, publisher_withholds)
    assert note == expected
    # never less withholding than either party asked for
    assert note.withhold >= area_withholds and note.withhold >= publisher_withholds


def test_an_area_states_thresholds_unless_told_otherwise() -> None:
    assert Area("earnings", "iris").withhold_thresholds is False
