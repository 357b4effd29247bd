"""Deterministic sample clients with planted, known effects (see TRUTH.md in each sample)."""

from .generate import write_all_samples, write_sample
from .spec import SAMPLE_CLIENTS, SampleSpec

__all__ = ["SAMPLE_CLIENTS", "SampleSpec", "write_all_samples", "write_sample"]
