"""Batches of calls: a manifest in, every call enriched (and uploaded), a summary out.

```python
from gong_client.batch import run_batch

result = run_batch("calls.csv", "results/", workers=2, on_progress=print)
print(result.totals["done"], result.exit_code)
```

Modules: `manifest` and `csv_calls` read the calls; `work` is the per-call work; `executor`
is the interface that `local_pool` (and the optional Ray executor) implement; `runner` is the
driver that writes `outputs`, the `summary` (JSON, table, `report_html`) and runs the
`uploads`; `progress` reports; `cli` holds the ``batch`` and ``journal`` commands.
"""

from gong_client.batch.errors import BatchError
from gong_client.batch.executor import Executor, PriorityFeed, make_executor
from gong_client.batch.jobs import Job, Outcome, WorkSettings
from gong_client.batch.local_pool import LocalPool
from gong_client.batch.progress import BatchProgress
from gong_client.batch.runner import BatchResult, run_batch
from gong_client.batch.work import run_job

__all__ = [
    "BatchError",
    "BatchProgress",
    "BatchResult",
    "Executor",
    "Job",
    "LocalPool",
    "Outcome",
    "PriorityFeed",
    "WorkSettings",
    "make_executor",
    "run_batch",
    "run_job",
]
