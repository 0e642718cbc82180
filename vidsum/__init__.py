"""vidsum: video summarization with DMASum.

Public API (imported lazily so that `import vidsum` stays cheap):

    from vidsum import summarize, load_model, __version__
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "summarize", "load_model"]


def summarize(*args: Any, **kwargs: Any) -> Any:
    """Summarize one video file; see ``vidsum.pipeline.summarize``."""
    from vidsum.pipeline import summarize as _summarize

    return _summarize(*args, **kwargs)


def load_model(*args: Any, **kwargs: Any) -> Any:
    """Load a DMASum checkpoint; see ``vidsum.checkpoint.load_model``."""
    from vidsum.models import load_model as _load_model

    return _load_model(*args, **kwargs)
