import json
import shutil

import pytest

from service.model import BundleError, current_bundle_dir, load_bundle, set_current


def test_bundle_round_trip_and_manifest(trained, taxonomy):
    directory = trained.directory
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["version"] == trained.bundle.version
    assert set(manifest["labels"]) == {"sector", "petition_type", "urgency", "department"}
    assert {"scikit-learn", "numpy", "underthesea"} <= set(manifest["libraries"])
    loaded = load_bundle(directory, taxonomy)
    texts = ["mat dien ca khu pho tu sang", "Đề nghị xử lý quán karaoke hát đến 2 giờ sáng"]
    a, b = loaded.predict_proba(texts), trained.bundle.predict_proba(texts)
    for head in a:
        assert (a[head] == b[head]).all()
    assert (directory / "MODEL_CARD.md").is_file() and (directory / "report" / "report.json").is_file()
    assert current_bundle_dir(directory.parent) == directory


def test_bundle_from_other_library_version_is_refused(trained, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(trained.directory, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["libraries"]["scikit-learn"] = "0.24.2"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"scikit-learn 0\.24\.2 \(installed"):
        load_bundle(copy)


def test_bundle_of_an_older_format_is_refused(trained, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(trained.directory, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["format"]  # written before formats were numbered
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="format None.*retrain"):
        load_bundle(copy)


def test_corrupt_bundle_is_refused(trained, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(trained.directory, copy)
    with open(copy / "bundle.joblib", "r+b") as handle:
        handle.seek(100)
        handle.write(b"garbage")
    with pytest.raises(BundleError, match="checksum"):
        load_bundle(copy)
    with pytest.raises(BundleError, match="no model bundle"):
        load_bundle(tmp_path / "missing")


def test_label_sets_must_match_the_taxonomy(trained, taxonomy):
    import dataclasses

    smaller = dataclasses.replace(taxonomy, sectors={k: v for k, v in taxonomy.sectors.items() if k != "khac"})
    with pytest.raises(BundleError, match="sector"):
        trained.bundle.check_labels(smaller)


def test_current_pointer(tmp_path):
    with pytest.raises(BundleError, match="no current model"):
        current_bundle_dir(tmp_path)
    (tmp_path / "v1").mkdir()
    set_current(tmp_path, tmp_path / "v1")
    assert current_bundle_dir(tmp_path) == tmp_path / "v1"
