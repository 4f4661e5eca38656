#!/usr/bin/env python3
"""System calls per statement for a batch of 20 statements: ``db.pipeline([...])``
and ``asyncio.gather`` of 20 ``db.query_val`` (issue 19: statements issued in one
loop iteration should leave in one write and come back in one wake-up).

Runs itself under ``strace -f -c`` once per mode and prints the calls per
statement (batches minus a run without batches, so connecting is left out).

    .venv/bin/python benchmarks/db_syscalls.py postgres://postgres@127.0.0.1:5432/postgres [--batches 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

WIDTH = 20


async def run(url: str, mode: str, batches: int) -> None:
    from hyperdjango.database import Database

    db = Database(url)
    await db.connect()
    try:
        await db.query_val("SELECT 1")
        for _ in range(batches):
            if mode == "pipeline":
                await db.pipeline([("SELECT $1::int", (i,)) for i in range(WIDTH)])
            else:
                await asyncio.gather(*(db.query_val("SELECT $1::int", i) for i in range(WIDTH)))
    finally:
        await db.close()


def traced(url: str, mode: str, batches: int) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "strace"
        subprocess.run(["strace", "-f", "-c", "-o", str(out), sys.executable, __file__, "--child", mode,
                        "--batches", str(batches), url], check=True)
        calls = {}
        for line in out.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 5 and fields[-1].isidentifier() and fields[3].isdigit():
                calls[fields[-1]] = int(fields[3])
        return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--child", choices=["pipeline", "gather"])
    args = parser.parse_args()
    if args.child:
        asyncio.run(run(args.url, args.child, args.batches))
        return
    for mode in ("pipeline", "gather"):
        idle, busy = traced(args.url, mode, 0), traced(args.url, mode, args.batches)
        statements = args.batches * WIDTH
        per = {name: round((busy.get(name, 0) - idle.get(name, 0)) / statements, 3) for name in sorted(busy)}
        print(json.dumps({"mode": mode, "statements": statements,
                          "per_statement": {k: v for k, v in per.items() if v >= 0.01}}), flush=True)


if __name__ == "__main__":
    main()
