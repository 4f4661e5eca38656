"""The benchmark's views: /json (a dict as JSON), /db (one random Question by
primary key), /fortunes (every question rendered by a template, escaped) and
the admin's changelist (/admin/polls/question/, with the benchmark's session cookie)."""

import random

from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

from polls.models import Question

ROWS = 100


def json_view(request):
    return JsonResponse({"message": "Hello, World!"})


def db_view(request):
    question = Question.objects.get(pk=random.randint(1, ROWS))
    return JsonResponse({"id": question.id, "question_text": question.question_text})


def fortunes_view(request):
    fortunes = list(Question.objects.values_list("id", "question_text"))
    fortunes.append((0, "Additional fortune added at request time."))
    fortunes.sort(key=lambda f: f[1])
    return render(request, "fortunes.html", {"fortunes": fortunes})


urlpatterns = [
    path("json", json_view),
    path("db", db_view),
    path("fortunes", fortunes_view),
    path("admin/", admin.site.urls),
]
