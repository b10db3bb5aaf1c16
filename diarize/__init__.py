"""gong-diarize's audio side: who spoke when in a call recording, tied to the call's parties.

```python
import diarize

enriched = diarize.enrich_call("call.wav", call_json)           # the call with speakersTimeline
result = diarize.process_call("call.wav", call_json)            # ... and how it was found
result.layout, result.assignments, result.to_rttm()
```
"""

import models._privacy  # noqa: F401, I001  (first: no dependency may phone home)

from importlib import import_module
from typing import TYPE_CHECKING, Any

from diarize.errors import (
    AudioLoadError,
    CallValidationError,
    ChannelLayoutError,
    ConfigError,
    DiarizeError,
    ModelLoadError,
    PartyMappingError,
)

# The pipeline (audio decoders, VAD, models) loads on first use, so that `diarize.errors` and
# `diarize.call` stay light for the upload client.
_LAZY = {
    "CallResult": "diarize.pipeline",
    "ChannelLayout": "diarize.channels",
    "Options": "diarize.options",
    "Segment": "diarize.segments",
    "SpeakerAssignment": "diarize.assignment",
    "enrich_call": "diarize.pipeline",
    "process_call": "diarize.pipeline",
}

if TYPE_CHECKING:
    from diarize.assignment import SpeakerAssignment
    from diarize.channels import ChannelLayout
    from diarize.options import Options
    from diarize.pipeline import CallResult, enrich_call, process_call
    from diarize.segments import Segment


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'diarize' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AudioLoadError",
    "CallResult",
    "CallValidationError",
    "ChannelLayout",
    "ChannelLayoutError",
    "ConfigError",
    "DiarizeError",
    "ModelLoadError",
    "Options",
    "PartyMappingError",
    "Segment",
    "SpeakerAssignment",
    "enrich_call",
    "process_call",
]
