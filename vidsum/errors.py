"""Typed errors. Every message names the file (when there is one), the cause and the fix.

The CLI turns a VidsumError into one red line and exit code 1; anything else is a bug.
"""

from __future__ import annotations


class VidsumError(Exception):
    """Base class: an error the user can act on."""

    exit_code = 1


class UsageError(VidsumError):
    """Options that contradict each other or are out of range."""

    exit_code = 2


class InputError(VidsumError):
    """An input file is missing, unreadable, not a video, or has no usable frames."""


class OutputError(VidsumError):
    """An output path cannot be written (missing folder, not writable, exists, equals input)."""


class DatasetError(VidsumError):
    """An HDF5 dataset, split file or annotation file is malformed."""


class WeightsError(VidsumError):
    """Weights are missing, corrupt (checksum mismatch) or incompatible."""


class MissingWeightsError(WeightsError):
    """No weight file for the backbone in use was found or could be downloaded."""


class CheckpointError(WeightsError):
    """A DMASum checkpoint cannot be loaded or does not match the features in use."""


class ToolError(VidsumError):
    """An external tool (ffmpeg) is missing or failed."""
