"""A server app with an in-process periodic task that appends "<pid> <slot>" to $PERIODIC_LOG."""

import datetime
import os
import time

from hyperdjango import HyperApp

app = HyperApp(database="sqlite://:memory:")


@app.periodic(every=datetime.timedelta(seconds=0.2))
def tick():
    with open(os.environ["PERIODIC_LOG"], "a") as log:
        log.write(f"{os.getpid()} {time.time()}\n")
