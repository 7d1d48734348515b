"""Held-out split by group: deterministic, so every run (and every retraining) compares on the same petitions.

A group lands in the test split when the first bytes of sha256(group) fall under the test share. This does
not depend on what else is in the corpus, so adding records never moves an existing group across the split.
"""

from __future__ import annotations

import hashlib

from training.corpus import Record

TEST_SHARE = 0.2
VALIDATION_SHARE = 0.15


def _bucket(group: str, salt: str = "") -> float:
    digest = hashlib.sha256(f"{salt}{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(group: str, share: float = TEST_SHARE) -> bool:
    return _bucket(group) < share


def split_by_group(records: list[Record], share: float = TEST_SHARE, salt: str = "") -> tuple[list[Record], list[Record]]:
    """(train, test): every record of a group falls on the same side."""
    train, test = [], []
    for record in records:
        (test if _bucket(record.group, salt) < share else train).append(record)
    return train, test


def validation_split(train: list[Record]) -> tuple[list[Record], list[Record]]:
    """An inner split of the training side, for tuning thresholds without touching the test split."""
    return split_by_group(train, VALIDATION_SHARE, salt="validation:")
