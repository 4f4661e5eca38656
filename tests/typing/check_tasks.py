"""Tasks keep their function's parameters (``.delay`` and direct calls) and result."""

from __future__ import annotations

from typing import assert_type

from hyperdjango import HyperApp
from hyperdjango.tasks import TaskHandle

app = HyperApp()


@app.task
async def send_welcome_email(user_id: int, email: str) -> bool:
    return bool(user_id and email)


@app.task(queue="reports", max_retries=3)
def generate_report(report_id: int) -> str:
    return f"report {report_id}"


async def calls() -> None:
    assert_type(send_welcome_email.delay(user_id=1, email="alice@example.com"), TaskHandle)
    assert_type(await send_welcome_email(1, "alice@example.com"), bool)
    assert_type(generate_report.delay(report_id=7), TaskHandle)
    assert_type(await generate_report(7), str)
