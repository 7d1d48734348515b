"""``python -m training validate``: schema, duplicates and distribution of the corpus, with the quotas."""

from __future__ import annotations

from pathlib import Path

from service.taxonomy import HEADS, Taxonomy
from training.corpus import (
    corpus_files,
    diacritic_free_share,
    distribution,
    exact_duplicates,
    load_records,
    near_duplicates,
)

MIN_ORIGINALS = 3000
MIN_PER_SECTOR = 150
MIN_PER_DEPARTMENT = 30
MIN_NO_DIACRITICS_SHARE = 0.25


def validate_corpus(directory: Path, taxonomy: Taxonomy, strict: bool = False, out=print) -> int:
    """Print every problem and the distribution; return the process exit code.

    Invalid records and exact duplicates always fail. Quotas (size, per-sector, per-department, share without
    diacritics) and near duplicates fail only with ``strict``: a work-in-progress corpus still trains.
    """
    files = corpus_files(directory)
    records, problems = load_records(files, taxonomy)
    originals = [r for r in records if not r.variant_of]
    out(f"{len(records)} records ({len(originals)} originals) in {len(files)} files under {directory}")
    for problem in problems:
        out(f"ERROR {problem}")
    exact = exact_duplicates(originals)
    for a, b in exact:
        out(f"ERROR exact duplicate: {a} = {b}")
    near = near_duplicates(originals)
    for a, b, similarity in near:
        out(f"WARNING near duplicate ({similarity:.2f}): {a} ~ {b}")

    counts = distribution(originals)
    for field in ("sector", "petition_type", "urgency", "department", "channel"):
        out(f"\nby {field}:")
        for code, n in sorted(counts[field].items(), key=lambda item: -item[1]):
            out(f"  {code:32s} {n:5d}")
    share = diacritic_free_share(originals)
    out(f"\nwithout diacritics: {share:.1%} of originals")

    shortfalls = []
    if len(originals) < MIN_ORIGINALS:
        shortfalls.append(f"{len(originals)} originals < {MIN_ORIGINALS}")
    for code in taxonomy.labels("sector"):
        if counts["sector"][code] < MIN_PER_SECTOR:
            shortfalls.append(f"sector {code}: {counts['sector'][code]} < {MIN_PER_SECTOR}")
    for head in HEADS:
        for code in taxonomy.labels(head):
            if counts[head][code] == 0:
                shortfalls.append(f"{head} {code}: no example")
    for code in taxonomy.labels("department"):
        if 0 < counts["department"][code] < MIN_PER_DEPARTMENT:
            shortfalls.append(f"department {code}: {counts['department'][code]} < {MIN_PER_DEPARTMENT}")
    for code in taxonomy.channels:
        if counts["channel"][code] == 0:
            shortfalls.append(f"channel {code}: no example")
    if share < MIN_NO_DIACRITICS_SHARE:
        shortfalls.append(f"without diacritics {share:.1%} < {MIN_NO_DIACRITICS_SHARE:.0%}")
    for shortfall in shortfalls:
        out(f"{'ERROR' if strict else 'WARNING'} quota: {shortfall}")

    failed = bool(problems or exact or (strict and (shortfalls or near)))
    out(f"\n{'FAILED' if failed else 'OK'}: {len(problems)} invalid, {len(exact)} exact and {len(near)} near "
        f"duplicates, {len(shortfalls)} quota shortfalls")
    return 1 if failed else 0
