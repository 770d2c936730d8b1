"""The product's URLs plus the benchmark's references, served by the same gunicorn:
a constant view (no query; the same view logged in shows what the login costs), a one-query
view, and a blank page in the product's layout (the header and its counts, no content)."""

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from medtech.urls import urlpatterns as product


def constant(request):
    return HttpResponse("ok", content_type="text/plain")


def one_query(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


def blank(request):
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/constant", constant),
    path("bench/one-query", one_query),
    path("bench/blank", blank),
    *product,
]
