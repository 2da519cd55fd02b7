import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ValidationError
from fivesafes.release.votes import (
    Review,
    Verdict,
    Vote,
    check_can_review,
    verdict,
    visible_reviews,
)


def test_author_cannot_review_own_request():
    with pytest.raises(ValidationError, match="own request"):
        check_can_review("ann", "ann", [], 1)


def test_a_reviewer_votes_once_per_version_and_only_two_vote():
    reviews = [Review("bob", Vote.APPROVE)]
    with pytest.raises(ValidationError, match="already reviewed"):
        check_can_review("bob", "ann", reviews, 1)
    check_can_review("bob", "ann", reviews, 2)  # a new version resets reviews
    reviews.append(Review("cat", Vote.APPROVE))
    with pytest.raises(ValidationError, match="already has its 2"):
        check_can_review("dan", "ann", reviews, 1)


@given(st.lists(st.sampled_from(list(Vote)), min_size=0, max_size=2))
def test_only_two_approvals_approve(votes):
    reviews = [Review(f"r{i}", v) for i, v in enumerate(votes)]
    result = verdict(reviews, 1)
    assert (result is Verdict.APPROVED) == (votes == [Vote.APPROVE, Vote.APPROVE])
    if len(votes) < 2:
        assert result is Verdict.PENDING


def test_disagreement_is_a_conflict_and_fails_closed():
    reviews = [Review("bob", Vote.APPROVE), Review("cat", Vote.REJECT)]
    assert verdict(reviews, 1) is Verdict.CONFLICTED
    assert max(Verdict.APPROVED, verdict(reviews, 1)) is not Verdict.APPROVED


def test_votes_on_an_older_version_do_not_count():
    reviews = [Review("bob", Vote.APPROVE, version=1), Review("cat", Vote.APPROVE, version=1)]
    assert verdict(reviews, 2) is Verdict.PENDING


def test_reviews_are_blinded_until_both_are_in():
    one = [Review("bob", Vote.REJECT)]
    assert visible_reviews(one, "cat", 1) == ()
    assert visible_reviews(one, "bob", 1) == tuple(one)
    two = [*one, Review("cat", Vote.APPROVE)]
    assert len(visible_reviews(two, "cat", 1)) == 2


def test_two_approvals_by_one_reviewer_are_not_two_independent_approvals():
    reviews = [Review("bob", Vote.APPROVE), Review("bob", Vote.APPROVE)]
    assert verdict(reviews, 1) is Verdict.PENDING
    assert verdict([*reviews, Review("cat", Vote.APPROVE)], 1) is Verdict.APPROVED
