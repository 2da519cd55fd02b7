import json

import pytest
from bundle_fixtures import bundle, table

from fivesafes.errors import IntegrityError
from fivesafes.release.bundle import verify_bundle


def test_bundle_has_every_file_and_a_verifiable_manifest(tmp_path):
    out = bundle(tmp_path / "bundle")
    names = {p.name for p in out.iterdir()}
    assert names == {
        "methods.md",
        "methods.html",
        "tables.xlsx",
        "tables.ods",
        "turnover.csv",
        "manifest.json",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["tables"] == [{"name": "turnover", "sheet": "turnover", "csv": "turnover.csv"}]
    verify_bundle(out)


def test_a_changed_or_extra_file_fails_verification(tmp_path):
    out = bundle(tmp_path / "bundle")
    (out / "turnover.csv").write_text("region,value\nN,300.25\n")
    (out / "extra.txt").write_text("x")
    with pytest.raises(IntegrityError, match=r"turnover.csv has changed.*extra.txt was added"):
        verify_bundle(out)


def test_a_table_named_like_a_fixed_file_does_not_replace_it(tmp_path):
    out = bundle(tmp_path / "bundle", [table("manifest"), table("tables")])
    manifest = json.loads((out / "manifest.json").read_text())
    csvs = sorted(t["csv"] for t in manifest["tables"])
    assert csvs == ["manifest_2.csv", "tables_2.csv"]
    verify_bundle(out)
