"""Speed and memory of the triage core on one core (a script that prints figures, not a timed test).

    python scripts/benchmark.py [--model DIR] [--rounds N]

Prints: bundle load time, resident memory, batch throughput on the corpus mix of lengths and channels,
p50/p99 latency of one ~300-word letter, and the share of time spent in each pipeline stage.
Targets (issue 2): >= 1,000 petitions/s, p99 < 20 ms for a 300-word letter, load < 2 s, RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import os

# One core, one thread: set before numpy / scipy load their BLAS.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="bundle folder; default models/CURRENT")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the corpus for throughput")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    baseline_rss = rss_mb()
    started = time.perf_counter()
    from service.settings import get_settings
    from service.triage import load_triager

    imported = time.perf_counter()
    triager = load_triager(get_settings().models_dir, args.model)
    loaded = time.perf_counter()
    triager.triage("khởi động")  # first call builds lazy tables (teencode engine, address index)
    first_call = time.perf_counter()

    from service.location import find_location
    from service.taxonomy import load_taxonomy
    from training.corpus import load_corpus

    records = load_corpus(load_taxonomy())
    texts = [r.text for r in records]
    words = [len(t.split()) for t in texts]
    print(f"model {triager.version}")
    print(f"bundle load (manifest checks, checksum, unpickle, router): {loaded - imported:.2f} s;  "
          f"process start in all (imports {imported - started:.2f} s + bundle + first call "
          f"{first_call - loaded:.2f} s): {first_call - started:.2f} s")
    print(f"RSS after load {rss_mb():.0f} MB (interpreter before loading {baseline_rss:.0f} MB)")
    print(f"corpus mix: {len(texts)} petitions, words per petition median {statistics.median(words):.0f}, "
          f"p90 {sorted(words)[int(0.9 * len(words))]}, max {max(words)}")

    best = 0.0
    for _ in range(args.rounds):
        started = time.perf_counter()
        for start in range(0, len(texts), 256):
            triager.triage_many(texts[start:start + 256])
        best = max(best, len(texts) / (time.perf_counter() - started))
    print(f"throughput, batches of 256, one core: {best:,.0f} petitions/s")

    letters = sorted((t for t in texts if 250 <= len(t.split()) <= 400), key=lambda t: abs(len(t.split()) - 300))[:20]
    latencies = []
    for _ in range(25):
        for letter in letters:
            started = time.perf_counter()
            triager.triage(letter)
            latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    print(f"one ~300-word letter ({len(letters)} letters, {statistics.mean(len(t.split()) for t in letters):.0f} words "
          f"on average): p50 {latencies[len(latencies) // 2]:.2f} ms, p99 {latencies[int(0.99 * len(latencies))]:.2f} ms")
    short = [t for t in texts if len(t.split()) < 40][:200]
    single = []
    for text in short:
        started = time.perf_counter()
        triager.triage(text)
        single.append((time.perf_counter() - started) * 1000)
    single.sort()
    print(f"one SMS / short message: p50 {single[len(single) // 2]:.2f} ms, p99 {single[int(0.99 * len(single))]:.2f} ms")

    # Where the time goes, stage by stage, on the whole mix.
    bundle = triager.bundle
    first = next(iter(bundle.heads.values()))
    stages: dict[str, float] = {}

    def timed(name, function, *arguments):
        started = time.perf_counter()
        result = function(*arguments)
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
        return result

    normalised = timed("normalise (text.py)", first[0].transform, texts)
    features = timed("features (TF-IDF views)", first[1].transform, normalised)
    probabilities = {}
    for head, pipe in bundle.heads.items():
        probabilities[head] = timed("classifiers (4 heads)", pipe.steps[-1][1].predict_proba, features)
    locations = timed("location", lambda: [find_location(t) for t in texts])
    labels = bundle.labels

    def route_all():
        for i, text in enumerate(texts):
            triager.router.route(text, dict(zip(labels["sector"], probabilities["sector"][i])),
                                 dict(zip(labels["department"], probabilities["department"][i])), locations[i],
                                 triager.model_weight)

    timed("routing rules", route_all)
    timed("keywords", lambda: [triager._keywords_for(t, "dat_dai") for t in texts])
    total = sum(stages.values())
    print("share of time by stage:")
    for name, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {name:26s} {seconds / total:6.1%}  ({seconds / len(texts) * 1e6:6.0f} µs per petition)")
    print(f"RSS at the end: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
