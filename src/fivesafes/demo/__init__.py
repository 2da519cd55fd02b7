"""Synthetic data for the demo, the tests and the benchmarks (never real data)."""

from fivesafes.demo.survey import generate_survey, survey_hierarchy, write_hierarchies

__all__ = ["generate_survey", "survey_hierarchy", "write_hierarchies"]
