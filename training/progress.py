"""A small step-by-step progress display for the training CLIs (tqdm, which underthesea already needs)."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    """One bar over named steps; each finished step prints one line with its elapsed time and a note."""

    def __init__(self, steps: list[str], quiet: bool = False) -> None:
        self.steps = steps
        self.quiet = quiet
        self.started = time.perf_counter()
        self.bar = None if quiet else tqdm(total=len(steps), file=sys.stderr, unit="step", leave=False,
                                           bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]")

    def done(self, step: str, note: str = "") -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        self.bar.write(f"[{time.perf_counter() - self.started:6.1f}s] {step}{': ' + note if note else ''}",
                       file=sys.stderr)
        if self.bar.n >= self.bar.total:
            self.bar.close()
