"""gong-diarize's audio side: who spoke when in a call recording, tied to the call's parties.

```python
import diarize

enriched = diarize.enrich_call("call.wav", call_json)           # the call with speakersTimeline
result = diarize.process_call("call.wav", call_json)            # ... and how it was found
result.layout, result.assignments, result.to_rttm()
```
"""

from diarize.assignment import SpeakerAssignment
from diarize.channels import ChannelLayout
from diarize.errors import (
    AudioLoadError,
    CallValidationError,
    ChannelLayoutError,
    ConfigError,
    DiarizeError,
    ModelLoadError,
    PartyMappingError,
)
from diarize.options import Options
from diarize.pipeline import CallResult, enrich_call, process_call
from diarize.segments import Segment

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
