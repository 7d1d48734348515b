import json
import subprocess
import sys

REQUIRED = {"id", "sector", "sector_candidates", "petition_type", "urgency", "departments", "location",
            "needs_review", "keywords", "flags", "model_version"}


def test_batch_cli_writes_one_result_per_line_and_survives_bad_lines(tmp_path, models_dir):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "a", "text": "mat dien tu sang den gio o P.5 Q.3", "extra": 1}),
             "{broken json",
             json.dumps({"id": "b", "text": "   "}),
             json.dumps({"id": "c"}),
             json.dumps(["not", "an", "object"]),
             "",
             json.dumps({"id": 7, "text": "Quán karaoke hát đến 2 giờ sáng, đề nghị công an xử lý"})]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, "-m", "service", "classify", "--input", str(source), "--output", str(out)],
                         capture_output=True, text=True, env={"MODELS_DIR": str(models_dir), "PATH": ""}, timeout=300)
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in results] == ["a", None, "b", "c", None, 7]
    assert REQUIRED <= set(results[0]) and REQUIRED <= set(results[5])
    assert results[0]["location"]["commune"] == "Phường Bàn Cờ"
    assert "invalid JSON" in results[1]["error"] and "line 2" in results[1]["error"]
    assert "empty" in results[2]["error"] and "'text'" in results[3]["error"]
    assert "5 classified" not in run.stderr and "2 classified, 4 errors" in run.stderr


def test_batch_cli_without_model_says_how_to_build_one(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "x"}\n')
    run = subprocess.run([sys.executable, "-m", "service", "classify", "--input", str(source), "--output",
                          str(tmp_path / "o.jsonl")], capture_output=True, text=True,
                         env={"MODELS_DIR": str(tmp_path), "PATH": ""}, timeout=120)
    assert run.returncode == 2 and "python -m training train" in run.stderr
