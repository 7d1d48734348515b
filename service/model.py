"""The model bundle: every head's fitted Pipeline plus what is needed to trust it.

A bundle is one joblib file ``bundle.joblib`` in a versioned folder under ``models/``, beside a
``manifest.json`` that can be read without unpickling (version, label sets, library versions, metrics). Pickles
are tied to the library versions that wrote them, so ``load`` reads the manifest first and refuses a bundle
built with another scikit-learn / numpy / underthesea than the one installed, with a message that says which.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.pipeline import Pipeline

from service.calibrated import StackedHeads
from service.taxonomy import HEADS, Taxonomy

BUNDLE_FILE = "bundle.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "CURRENT"  # models/CURRENT names the bundle the service serves
#: Layout of the pickled objects; bumped when the serving classes change shape (2: one calibrated model
#: per head instead of one per calibration fold). A bundle of another format is refused, not half-loaded.
BUNDLE_FORMAT = 2
#: Packages whose version must match between the writer and the reader of a pickle.
PINNED_PACKAGES = ("scikit-learn", "numpy", "scipy", "underthesea", "underthesea_core")


class BundleError(RuntimeError):
    """A bundle that cannot be served: missing, corrupt, built by other library versions, wrong labels."""


def library_versions() -> dict[str, str]:
    versions = {name: package_version(name) for name in PINNED_PACKAGES}
    versions["python"] = platform.python_version()
    return versions


@dataclass
class ModelBundle:
    """Fitted heads and their metadata. ``heads[name]`` is a complete sklearn Pipeline (text → label) ending in
    a ``CompiledSigmoidLinear`` (as ``training`` builds them)."""

    heads: dict[str, Pipeline]
    version: str
    trained_at: str
    data_hash: str
    metrics: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    #: sector → {folded word or two-word phrase: weight}: what ``Triage.keywords`` shows an officer.
    keywords: dict[str, dict[str, float]] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=library_versions)

    @property
    def labels(self) -> dict[str, list[str]]:
        return {head: [str(c) for c in pipe.classes_] for head, pipe in self.heads.items()}

    def manifest(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "version": self.version,
            "trained_at": self.trained_at,
            "data_hash": self.data_hash,
            "labels": self.labels,
            "thresholds": self.thresholds,
            "libraries": self.libraries,
            "metrics": self.metrics,
        }

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Probabilities per head, columns in ``labels[head]`` order.

        Heads that share their fitted preprocessing steps (the same objects, as ``training`` builds them)
        transform the texts once: normalisation and feature extraction are most of the cost. Their linear
        classifiers are then scored with one product against their stacked coefficients.
        """
        result: dict[str, np.ndarray] = {}
        for steps, stacked in self._scoring_plan():
            data: Any = texts
            for step in steps:  # the steps directly: Pipeline.transform adds per-call overhead
                data = step.transform(data)
            result.update(stacked.predict_proba(data))
        return {head: result[head] for head in self.heads}

    def _scoring_plan(self) -> list[tuple[list[Any], StackedHeads]]:
        """Heads grouped by shared feature steps (computed once per loaded bundle, never pickled)."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            groups: dict[tuple[int, ...], list[str]] = {}
            for head, pipe in self.heads.items():
                groups.setdefault(tuple(id(step) for _, step in pipe.steps[:-1]), []).append(head)
            plan = [([step for _, step in self.heads[heads[0]].steps[:-1]],
                     StackedHeads({head: self.heads[head].steps[-1][1] for head in heads}))
                    for heads in groups.values()]
            self.__dict__["_plan"] = plan
        return plan

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_plan", None)
        return state

    def check_labels(self, taxonomy: Taxonomy) -> None:
        """Refuse a bundle whose label sets are not the taxonomy's (a model from another contract)."""
        for head in HEADS:
            if head not in self.heads:
                raise BundleError(f"bundle {self.version} has no '{head}' head")
            expected, actual = set(taxonomy.labels(head)), set(self.labels[head])
            if actual != expected:
                raise BundleError(
                    f"bundle {self.version}: '{head}' labels differ from the taxonomy "
                    f"(missing {sorted(expected - actual)}, unknown {sorted(actual - expected)})"
                )

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        bundle_path = directory / BUNDLE_FILE
        joblib.dump(self, bundle_path)  # uncompressed: loads in a fraction of the time of a compressed one
        manifest = self.manifest()
        manifest["sha256"] = file_sha256(bundle_path)
        (directory / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return directory


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(f"no model bundle at {directory} (missing {MANIFEST_FILE})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"unreadable {MANIFEST_FILE} in {directory}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise BundleError(f"{MANIFEST_FILE} in {directory} is not a JSON object")
    return manifest


def load_bundle(directory: Path, taxonomy: Taxonomy | None = None) -> ModelBundle:
    """Load a bundle after checking its manifest: library versions, checksum, then (optionally) labels."""
    manifest = read_manifest(directory)
    if manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"bundle {manifest.get('version')} at {directory} has format {manifest.get('format')}, "
                          f"this service reads format {BUNDLE_FORMAT}: retrain it with 'python -m training train'")
    installed = library_versions()
    mismatched = {
        name: (manifest.get("libraries", {}).get(name), installed[name])
        for name in PINNED_PACKAGES
        if manifest.get("libraries", {}).get(name) != installed[name]
    }
    if mismatched:
        details = ", ".join(f"{name} {built} (installed {now})" for name, (built, now) in mismatched.items())
        raise BundleError(
            f"bundle {manifest.get('version')} was built with {details}; retrain it with "
            "'python -m training train' rather than unpickling it with other library versions"
        )
    bundle_path = directory / BUNDLE_FILE
    if not bundle_path.is_file() or file_sha256(bundle_path) != manifest.get("sha256"):
        raise BundleError(f"bundle {manifest.get('version')} at {directory}: file missing or checksum mismatch")
    try:
        bundle = joblib.load(bundle_path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "cannot serve this"
        raise BundleError(f"bundle at {directory} could not be loaded: {exc}") from exc
    if not isinstance(bundle, ModelBundle):
        raise BundleError(f"{bundle_path} does not hold a ModelBundle")
    if taxonomy is not None:
        bundle.check_labels(taxonomy)
    return bundle


def current_bundle_dir(models_dir: Path) -> Path:
    """The folder ``models/CURRENT`` names; BundleError when there is none yet."""
    pointer = models_dir / CURRENT_FILE
    if not pointer.is_file():
        raise BundleError(f"no current model in {models_dir}: run 'python -m training train' first")
    return models_dir / pointer.read_text(encoding="utf-8").strip()


def set_current(models_dir: Path, bundle_dir: Path) -> None:
    """Point ``models/CURRENT`` at ``bundle_dir`` atomically (write then rename)."""
    tmp = models_dir / (CURRENT_FILE + ".tmp")
    tmp.write_text(bundle_dir.name + "\n", encoding="utf-8")
    tmp.replace(models_dir / CURRENT_FILE)
