"""The trained model on held-out petitions (split by group, never seen in training).

Floors are below the targets in the README on purpose: they catch a broken pipeline, while the measured
figures are reported by ``python -m training evaluate`` and in the bundle's metrics.
"""

from service.text import fold_diacritics


def test_held_out_quality_floors(bundle):
    metrics = bundle.metrics
    assert metrics["test_records"] >= 300
    assert metrics["sector_macro_f1"] >= 0.85
    assert metrics["sector_macro_f1_no_diacritics"] >= 0.80
    assert metrics["department_top1"] >= 0.80
    assert metrics["petition_type_macro_f1"] >= 0.75
    assert metrics["khan_cap_recall"] >= 0.85


def test_thresholds_were_tuned(bundle):
    assert 0.3 <= bundle.thresholds["review"] <= 0.95
    assert 0.0 <= bundle.thresholds["department_model_weight"] <= 1.0
    assert 0.1 <= bundle.thresholds["khan_cap"] <= 0.5


def test_accentless_twins_of_held_out_petitions_mostly_agree(trained, triager):
    accented = [r for r in trained.test if fold_diacritics(r.text) != r.text][:200]
    original = triager.triage_many([r.text for r in accented])
    folded = triager.triage_many([fold_diacritics(r.text) for r in accented])
    agreement = sum(a.sector.code == b.sector.code for a, b in zip(original, folded)) / len(accented)
    assert agreement >= 0.85


def test_no_held_out_group_was_trained_on(trained):
    assert {r.group for r in trained.train}.isdisjoint({r.group for r in trained.test})


def test_triage_result_shape(triager):
    result = triager.triage("Cột điện trước nhà số 45 ngõ 12 phố Khâm Thiên bị đổ, dây điện rơi xuống đường, "
                            "rất nguy hiểm", "Hà Nội").as_dict()
    assert set(result) == {"sector", "sector_candidates", "petition_type", "urgency", "departments", "location",
                           "needs_review", "keywords", "flags", "model_version"}
    assert len(result["sector_candidates"]) == 3
    assert result["sector_candidates"][0] == result["sector"]
    assert 1 <= len(result["departments"]) <= 3 and all(d["reason"] for d in result["departments"])
    assert result["location"]["province"] == "Hà Nội"
    confidences = [c["confidence"] for c in result["sector_candidates"]]
    assert confidences == sorted(confidences, reverse=True) and 0 < sum(confidences) <= 1.0001


def test_independent_petitions_evaluated_from_a_folder(trained, tmp_path):
    """data/eval: petitions written blind from taxonomy.md alone, never trained on (see data/eval/README.md)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "training", "evaluate", "--model", str(trained.directory), "--out", str(tmp_path)]
    result = subprocess.run([*command, "--data", str(root / "data" / "eval")], cwd=root, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records"] == sum(1 for f in (root / "data" / "eval").glob("*.jsonl") for _ in f.open())
    assert report["headline"]["sector_macro_f1"] >= 0.85 and report["headline"]["department_top1"] >= 0.80
    missing = subprocess.run([*command, "--data", str(tmp_path / "nowhere")], cwd=root, capture_output=True,
                             text=True, timeout=300)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
