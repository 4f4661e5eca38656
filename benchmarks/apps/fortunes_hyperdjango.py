"""The fortunes page with hyperdjango as a user writes it: the ORM reads the rows, a
template (rendered in Rust) draws them. ``python fortunes_hyperdjango.py PORT``;
the database is ``$DATABASE_URL``."""

import os
import sys
from pathlib import Path

from hyperdjango import HyperApp, Model
from hyperdjango.templates import Templates, render

app = HyperApp(database=os.environ["DATABASE_URL"])
app.templates = Templates(Path(__file__).parent / "templates")


class Fortune(Model):
    class Meta:
        table = "fortune"

    message: str = ""


@app.get("/fortunes")
async def fortunes(request):
    rows = await Fortune.objects.all()
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=lambda f: f.message)
    return await render(request, "fortunes.html", {"fortunes": rows})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=1)
