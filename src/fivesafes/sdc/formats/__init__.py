"""Formats in and out of the tools statisticians use, and text that is safe in spreadsheets.

- :mod:`~fivesafes.sdc.formats.injection`: CSV fields and spreadsheet cells that are
  never read as a formula;
- :mod:`~fivesafes.sdc.formats.hrc`: tau-Argus hierarchy files (``.hrc``);
- :mod:`~fivesafes.sdc.formats.sdchier`: sdcTable / sdcHierarchies hierarchy data frames;
- :mod:`~fivesafes.sdc.formats.hierarchies`: a hierarchy file in any of these formats
  (``load_hierarchy``), or a hierarchy as one (``hierarchy_text``);
- :mod:`~fivesafes.sdc.formats.statuses`: cell statuses written by other tools;
- :mod:`~fivesafes.sdc.formats.export`: a protected table exported as tau-Argus or
  sdcTable table input.

Code outside ``sdc`` uses what it needs through ``fivesafes.sdc``.
"""
