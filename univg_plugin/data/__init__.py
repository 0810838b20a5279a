"""The CoT grounding dataset format: schema, validation, readers and writers, synthetic data."""

from .schema import KNOWN_TASKS, GroundingSample

__all__ = ["KNOWN_TASKS", "GroundingSample"]
