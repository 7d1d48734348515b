"""The triager a running process serves, swappable without dropping requests.

A request takes ``holder.triager`` once and keeps that reference to the end, so a swap never changes a model
under an in-flight request. Each worker process has its own holder: a reload request reaches one worker, and
the others notice that ``models/CURRENT`` changed (each worker checks every ``check_interval`` seconds in
the background, ``follow``, so an idle worker does not fall behind and no request waits for a load) and
load the new bundle themselves. A bundle that fails to load or does not match the taxonomy is
refused and the old one stays.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from service.model import CURRENT_FILE, BundleError
from service.triage import Triager, load_triager

log = logging.getLogger("service.model")


class ModelHolder:
    def __init__(self, models_dir: Path, review_threshold: float | None = None, check_interval: float = 2.0) -> None:
        self.models_dir = models_dir
        self.review_threshold = review_threshold
        self.check_interval = check_interval
        self._triager: Triager | None = None
        self._pointer: str | None = None  # the CURRENT value whose bundle is served
        self._refused: str | None = None  # the CURRENT value whose bundle failed to load
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @classmethod
    def of(cls, triager: Triager) -> ModelHolder:
        """A holder fixed to one triager (tests, embedding); never reloads from disk on its own."""
        holder = cls(Path("."), check_interval=float("inf"))
        holder._triager = triager
        return holder

    @property
    def triager(self) -> Triager | None:
        """The triager being served (no I/O: ``follow`` keeps it current)."""
        return self._triager

    @property
    def follows_current(self) -> bool:
        return self.check_interval != float("inf")

    async def follow(self) -> None:
        """Check ``models/CURRENT`` every ``check_interval`` seconds until cancelled (run as a task per worker
        process); the file read and any load run in a thread, off the event loop."""
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await run_in_threadpool(self.refresh_if_changed)
            except Exception:  # noqa: BLE001 - the follower must outlive any one failed check
                log.exception("checking models/CURRENT failed; trying again in %.0f s", self.check_interval)

    def _read_pointer(self) -> str | None:
        try:
            return (self.models_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def refresh_if_changed(self) -> None:
        """Reload when ``models/CURRENT`` names another bundle than the one served (file I/O: off the loop).

        A pointer that was refused once is not retried on every check; a later change of the pointer is.
        """
        pointer = self._read_pointer()
        if pointer and pointer not in (self._pointer, self._refused):
            try:
                self.reload()
            except BundleError:
                pass  # logged by reload; the old triager keeps serving

    def reload(self) -> Triager:
        """Load the bundle ``models/CURRENT`` names and swap it in; BundleError leaves the old one serving.

        The pointer is read once and that very folder is loaded, so what is recorded as served (or refused) is
        what was loaded even when ``CURRENT`` changes again while a slow load runs.
        """
        with self._lock:
            pointer = self._read_pointer()
            try:
                if not pointer:
                    raise BundleError(f"no current model in {self.models_dir}: run 'python -m training train' first")
                triager = load_triager(self.models_dir, bundle_dir=self.models_dir / pointer,
                                       review_threshold=self.review_threshold)
            except BundleError as exc:
                self.last_error, self._refused = str(exc), pointer
                log.error("model not loaded, keeping %s: %s",
                          self._triager.version if self._triager else "none", exc)
                raise
            previous = self._triager.version if self._triager else None
            self._triager, self._pointer, self._refused, self.last_error = triager, pointer, None, None
            log.info("serving model %s (was %s)", triager.version, previous)
            return triager
