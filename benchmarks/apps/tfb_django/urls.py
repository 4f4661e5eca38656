"""The TFB views and their URLs."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path

from tfb import EXTRA_FORTUNE, query_count, random_ids, random_number
from tfb_django.models import Fortune, World


def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain; charset=utf-8")


def json(request):
    return JsonResponse({"message": "Hello, World!"})


def db(request):
    world = World.objects.get(id=random_ids(1)[0])
    return JsonResponse({"id": world.id, "randomNumber": world.randomnumber})


def _read(request) -> list[World]:
    return [World.objects.get(id=i) for i in random_ids(query_count(request.GET.get("queries")))]


def queries(request):
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in _read(request)], safe=False)


def updates(request):
    worlds = _read(request)
    for world in worlds:
        world.randomnumber = random_number()
    # Sorted by id: concurrent requests lock rows in one order (no deadlock).
    World.objects.bulk_update(sorted(worlds, key=lambda w: w.id), ["randomnumber"])
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


def fortunes(request):
    rows = list(Fortune.objects.values_list("id", "message"))
    rows.append((0, EXTRA_FORTUNE))
    rows.sort(key=lambda f: f[1])
    return render(request, "fortunes.html", {"fortunes": rows})


urlpatterns = [
    path("plaintext", plaintext),
    path("json", json),
    path("db", db),
    path("queries", queries),
    path("updates", updates),
    path("fortunes", fortunes),
]
