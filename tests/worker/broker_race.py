"""A Celery app on the embedded broker alone (no Django, no database), for the race test of
`config.broker`: publishers write while real workers consume the same folder.

    python -m tests.worker.broker_race publish FIRST COUNT   # sends FIRST .. FIRST+COUNT-1

`PRESIDIO_RACE_FOLDER` names the folder of the queue, the control files and `executed.log`,
where each run of the task appends its number.
"""

import os
import sys
import time
from pathlib import Path

from celery import Celery

FOLDER = Path(os.environ.get("PRESIDIO_RACE_FOLDER", ".tmp/broker-race"))
EXECUTED = FOLDER / "executed.log"
# Upstream's window: a message file exists, empty, while its JSON is being encoded. A large
# body widens it as a loaded machine does.
PADDING = "x" * 20_000
# Paced so that the workers keep up: they then claim the newest files, the ones still written.
PACE_SECONDS = 0.002

app = Celery("broker_race", broker="filesystem://", set_as_current=False)
app.conf.update(
    broker_transport="config.broker:Transport",
    broker_transport_options={
        "data_folder_in": str(FOLDER / "queue"),
        "data_folder_out": str(FOLDER / "queue"),
        "control_folder": str(FOLDER / "control"),
        "polling_interval": 0.05,
    },
    broker_connection_retry_on_startup=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
)


@app.task(name="broker_race.record")
def record(number: int, padding: str = "") -> None:
    """One short append: atomic with O_APPEND, so concurrent workers never interleave."""
    fd = os.open(EXECUTED, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{number}\n".encode())
    finally:
        os.close(fd)


def publish(first: int, count: int) -> None:
    with app.producer_or_acquire() as producer:
        for number in range(first, first + count):
            record.apply_async((number, PADDING), producer=producer)
            time.sleep(PACE_SECONDS)


if __name__ == "__main__":
    _, command, first, count = sys.argv
    if command != "publish":
        raise SystemExit(__doc__)
    publish(int(first), int(count))
