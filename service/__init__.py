"""Triage of Vietnamese citizens' petitions: text in, sector / type / urgency / departments out."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
