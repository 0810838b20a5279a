"""Which versions of the host frameworks this package supports, checked without importing them.

Versions are read from installed package metadata (``importlib.metadata``), so checking costs
milliseconds and works before torch is imported. The core (boxes, rewards, weighting, data, eval
scoring, the verl/EasyR1 adapters) needs none of these frameworks and works beside any version of them
(e.g. VLM-R1's transformers 4.49 and trl 0.17, verl's torch 2.9.1). What needs them, and the two
environments supported for it:

- **LLaMA-Factory**: llamafactory 0.9.5 with trl 0.24.x, transformers 4.57.1+ (4.57.x; trl 0.24 does
  not import under transformers 5) and datasets <= 4.0.0;
- **newest TRL**: trl 1.x (1.16 tested) with the transformers and datasets it asks for, no
  LLaMA-Factory (LLaMA-Factory 0.9.5 caps trl at 0.24 and datasets at 4.0).
"""

from __future__ import annotations

import importlib.metadata
import sys
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Requirement:
    """A package and the version ranges that work (any one of ``ranges``)."""

    package: str
    ranges: tuple[str, ...]
    why: str = ""

    def accepts(self, version: str) -> bool:
        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        return any(parsed in SpecifierSet(spec) for spec in self.ranges)

    def describe(self) -> str:
        return " or ".join(self.ranges)


TRL = Requirement("trl", (">=0.24.0,<0.25", ">=1.16,<2"), "GRPOTrainer internals the trainer hooks into")
TORCH = Requirement(
    "torch",
    (">=2.4,<2.9", ">=2.10"),
    "torch 2.9.x is refused for Qwen2-VL (Conv3d): it can run the vision tower's Conv3d on a fallback kernel "
    "10-20x slower and far hungrier for memory, fixed in 2.10 (PyTorch #166122)",
)
LLAMAFACTORY = Requirement("llamafactory", ("==0.9.5",), "the GRPO stage patches 0.9.5's argument parser")
#: Requirements that depend on the TRL line in use.
TRANSFORMERS_FOR_TRL_024 = Requirement(
    "transformers", (">=4.55,<4.57", ">=4.57.1,<4.58"), "trl 0.24 does not import under transformers 5"
)
TRANSFORMERS_FOR_TRL_1 = Requirement("transformers", (">=4.56",), "trl 1.x")
DATASETS_FOR_LLAMAFACTORY = Requirement("datasets", (">=2.16,<=4.0.0",), "llamafactory 0.9.5 caps datasets")


@dataclass(frozen=True)
class Feature:
    """Something beyond the core: what it is, the packages it needs (at supported versions), its extra."""

    description: str
    packages: tuple[str, ...]
    extra: str


#: What needs the host frameworks (``univg doctor`` says which work here; the tests select by it too).
FEATURES = {
    "trainer": Feature(
        "DifficultyAwareGRPOTrainer", ("torch", "torchvision", "transformers", "trl", "datasets"), "trl"
    ),
    "generation": Feature("univg eval run, univg tiny-model", ("torch", "torchvision", "transformers"), "eval"),
    "llamafactory": Feature(
        "LLaMA-Factory's stage: grpo, univg demo",
        ("torch", "torchvision", "transformers", "trl", "datasets", "llamafactory", "pyyaml"),
        "llamafactory",
    ),
}
#: What needs each framework, and the extra that installs it, for "not installed" lines.
NEEDED_BY = {
    "torch": "the trainer and generation: pip install 'univg-plugin[trl]' or '[eval]'",
    "trl": "the trainer: pip install 'univg-plugin[trl]'",
    "transformers": "the trainer and generation: pip install 'univg-plugin[trl]' or '[eval]'",
    "datasets": "the trainer: pip install 'univg-plugin[trl]'",
    "llamafactory": "stage: grpo: pip install 'univg-plugin[llamafactory]'",
}


class UnsupportedVersionError(RuntimeError):
    """A host framework is installed in a version this package does not support."""


def installed_version(package: str) -> str | None:
    """The installed version of ``package`` from its metadata, or None when it is not installed."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Check:
    """One line of the support report."""

    package: str
    version: str | None
    ok: bool
    message: str


def _check(requirement: Requirement, version: str | None) -> Check:
    if version is None:  # the core needs none of them
        return Check(requirement.package, None, True, f"not installed (optional, for {NEEDED_BY[requirement.package]})")
    if requirement.accepts(version):
        return Check(requirement.package, version, True, "supported")
    why = f" ({requirement.why})" if requirement.why else ""
    return Check(
        requirement.package,
        version,
        False,
        f"unsupported: {requirement.package} {version}; supported: {requirement.describe()}{why}",
    )


def support_report() -> list[Check]:
    """Check every host framework and the combinations between them.

    Returns:
        One :class:`Check` per package; ``ok`` is False for an unsupported version or combination. A
        framework that is not installed is ok: the core needs none of them.
    """
    py = sys.version_info
    checks = [
        Check(
            "python",
            f"{py.major}.{py.minor}.{py.micro}",
            py >= (3, 10),
            "supported" if py >= (3, 10) else "unsupported: python >= 3.10 is required",
        ),
        _check(TORCH, installed_version("torch")),
    ]
    trl_version = installed_version("trl")
    checks.append(_check(TRL, trl_version))
    transformers_req = TRANSFORMERS_FOR_TRL_1
    if trl_version is not None and trl_version.startswith("0."):
        transformers_req = TRANSFORMERS_FOR_TRL_024
    checks.append(_check(transformers_req, installed_version("transformers")))
    llamafactory_version = installed_version("llamafactory")
    if llamafactory_version is None:
        checks.append(_check(Requirement("datasets", (">=3.0",)), installed_version("datasets")))
        checks.append(_check(LLAMAFACTORY, None))
    else:
        checks.append(_check(DATASETS_FOR_LLAMAFACTORY, installed_version("datasets")))
        checks.append(_check(LLAMAFACTORY, llamafactory_version))
        if trl_version is not None and not trl_version.startswith("0.24"):
            checks.append(
                Check(
                    "llamafactory+trl",
                    f"{llamafactory_version}+{trl_version}",
                    False,
                    "unsupported combination: llamafactory 0.9.5 needs trl 0.24.x; use a separate environment "
                    "for trl 1.x",
                )
            )
    return checks


def unusable(package: str) -> str | None:
    """Why ``package`` cannot serve what needs it here (not installed, or a version this package does not
    support, as :func:`support_report` says), or None when it can.

    Example:
        >>> unusable("no-such-package")
        'no-such-package is not installed'
    """
    if installed_version(package) is None:
        return f"{package} is not installed"
    failed = (check for check in support_report() if not check.ok and package in check.package.split("+"))
    return next((check.message for check in failed), None)


def feature_problems(name: str) -> list[str]:
    """Why the feature :data:`FEATURES` ``[name]`` cannot work here (empty when it can): the packages it
    lacks, then those in a version this package does not support (:func:`support_report` says why)."""
    packages = FEATURES[name].packages
    missing = [package for package in packages if installed_version(package) is None]
    unsupported = [
        f"{package} {installed_version(package)}"
        for package in packages
        if package not in missing and unusable(package)
    ]
    return [
        f"{label}: {', '.join(names)}"
        for label, names in [("not installed", missing), ("unsupported", unsupported)]
        if names
    ]


def require_supported_torch() -> None:
    """Raise :class:`UnsupportedVersionError` when the installed torch is one the trainer and generation refuse.

    The core never calls this: with verl's torch 2.9.1, the rewards work; the trainer and ``univg eval
    run`` do not start.
    """
    check = _check(TORCH, installed_version("torch"))
    if not check.ok:
        raise UnsupportedVersionError(f"univg-plugin: {check.message}")


def require_supported_trl() -> str:
    """Raise :class:`UnsupportedVersionError` unless the installed TRL is supported.

    Returns:
        The installed TRL version.
    """
    version = installed_version("trl")
    check = _check(TRL, version)
    if not check.ok:
        raise UnsupportedVersionError(f"univg-plugin: {check.message}")
    return version  # type: ignore[return-value]
