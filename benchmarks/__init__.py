"""Benchmarks: how close, how precise, how fast and how lean gong-diarize is, against peers.

```
python -m benchmarks run --suite quick|full     # data built and cached, every system run
python -m benchmarks report                     # benchmarks/results/REPORT.md + PNG plots
python -m benchmarks stereo-speed               # the stereo path on a 1-hour stereo call
python -m benchmarks mono-long                  # mono diarization of a 4-hour call
```

Layout: `data` (real recordings, generated calls and their exact references), `metrics`
(pyannote.metrics plus boundary figures), `systems`/`ours`/`peers` (what is compared),
`worker`/`runner` (one process per system, per-file time and peak memory), `aggregate`,
`report`, `plots`.
"""

import models._privacy  # noqa: F401  (first: no dependency may phone home)

__all__: list[str] = []
