"""Hostile and careless input to every form and every filter: never a server error.

Nothing here lists forms. Every page of the URL configuration (the walk and the rows of
tests/test_url_access.py) is opened as each kind of visitor; every `<form method="post">` in the
HTML is read (its action, its inputs, selects and textareas); then hypothesis posts hostile values
for those names, as a person whose role may use the page. A form added later is found the same
way. Each post runs in a savepoint that is rolled back, so every example starts from the same
rows; a post that is refused (the form shown again, or any answer but a redirect) must leave the
row counts of the domain tables as they were. The list and report pages get the same treatment
through their query parameters, and every path id is tried beyond the database's integers.
"""

import datetime
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meds.models import HoldParameter

# The fixtures (lower case) are the access test's objects, built once per module run in each
# process (see `access_world` there).
from tests.test_url_access import (
    EXPECTED,
    JSON_WRITES,
    POST_DATA,
    POST_OBJECTS,
    PROJECT_APPS,
    READ_ONLY,
    URLS,
    _finish,
    _post_data,
    _url,
    _world,  # noqa: F401
    access_world,  # noqa: F401
    admin_user,  # noqa: F401
    facility,  # noqa: F401
    medtech_user,  # noqa: F401
    nurse_user,  # noqa: F401
    objects,  # noqa: F401
    other_facility,  # noqa: F401
    outsider_user,  # noqa: F401
    resident,  # noqa: F401
    unit,  # noqa: F401
)

FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM_ENCODED = "application/x-www-form-urlencoded"
# Who opens the pages, most able first among those a page allows.
PERSONAS = {"nurse": "nurse_client", "admin": "admin_client", "med_tech": "medtech_client"}
# Pages that accept POST: every URL name the access table does not call read-only.
# JSON_WRITES (a cart's offline records) take no form: tests/mar/test_offline_views.py fuzzes them.
POST_NAMES = sorted(set(URLS) - READ_ONLY - JSON_WRITES)
# Query parameters the list and report pages read, beside those their filter forms name.
QUERY_PARAMETERS = [
    "q",
    "date",
    "month",
    "start",
    "end",
    "unit",
    "resident",
    "page",
    "kind",
    "status",
    "role",
    "format",
    "dose",
    "item",
    "controlled",
    "days",
]
GET_NAMES = sorted(
    name
    for name in URLS
    if any(EXPECTED[name][persona] == 200 for persona in PERSONAS) and name != "healthz"
)

# --- hostile values -------------------------------------------------------------------------

CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\r\x00"])
TEXT = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), CONTROL, st.text(max_size=8)),
    st.builds(lambda n, ch: ch * n, st.sampled_from([41, 61, 151, 301, 501, 5000]), st.just("x")),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "\udfff\ud800",
            "\ufeff",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂",
            "'; DROP TABLE x; --",
            "<script>alert(1)</script>",
            "%00",
            "\u202eevil",
        ]
    ),
    st.binary(min_size=1, max_size=6),  # not UTF-8, sent as raw bytes
)
NUMBER = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "nan",
            "-NaN",
            "sNaN",
            "Infinity",
            "-Infinity",
            "inf",
            "1e999",
            "-1e999",
            "1e-999",
            "0",
            "-1",
            "-0.0001",
            "9" * 30,
            "-" + "9" * 30,
            "2147483648",
            "9223372036854775808",
            "123456789012.123456",
            "1.23456789",
            "0.0000001",
            "1_000",
            "0x10",
            "１２",
            "1,5",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
DAY = st.one_of(
    st.sampled_from(
        [
            "9999-12-31",
            "0000-01-01",
            "0001-01-01",
            "10000-01-01",
            "2026-02-30",
            "1899-12-31",
            "2101-01-01",
            "1900-01-01",
            "2100-12-31",
            "99999-01",
            "9999-12",
            "0000-00",
            "2026-13",
            "2026-02-29",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "2026-03-08T02:30",
            "31/12/9999",
        ]
    ),
    st.dates().map(datetime.date.isoformat),
    st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
)
IDENTIFIER = st.sampled_from(
    ["0", "-1", "1.5", "9223372036854775807", "9223372036854775808", "1" * 40, "abc", "1 OR 1=1"]
)
HOSTILE = st.one_of(TEXT, NUMBER, DAY, IDENTIFIER)


# The known troublemakers. The first of each kind is tried alone in every field (the other
# fields valid, so a rule behind the form is reached); the others in all fields of the kind at once.
CANONICAL = {
    "text": ["a\x00b", "x" * 5000, "\x1b[2J"],
    "number": ["NaN", "1e999", "9" * 30, "123456789012.123456", "-1"],
    "date": ["9999-12-31", "0000-01-01", "2026-02-30"],
    "choice": ["9" * 30, "a\x00b"],
}
CANONICAL_KIND = {
    "number": "number",
    "date": "date",
    "datetime-local": "date",
    "month": "date",
    "select": "choice",
    "radio": "choice",
    "checkbox": "choice",
    "hidden": "choice",
}
# Every query parameter at once, set to one of these, before hypothesis mixes them.
CANONICAL_QUERY = ["a\x00b", "x" * 3000, "9999-12-31", "0000-01-01", "9999-12", "NaN", "9" * 30]


def _kind(input_type: str) -> str:
    return CANONICAL_KIND.get(input_type, "text")


def _hostile_for(kind: str):
    """Mostly the kind of trouble the input invites, sometimes any other."""
    favourite = {
        "number": NUMBER,
        "date": DAY,
        "datetime-local": DAY,
        "month": DAY,
        "select": IDENTIFIER,
        "radio": IDENTIFIER,
        "checkbox": IDENTIFIER,
        "hidden": st.one_of(IDENTIFIER, TEXT),
    }.get(kind, TEXT)
    return st.one_of(favourite, favourite, HOSTILE)


def _encode(data: dict) -> bytes:
    """A form body as a browser (or an attacker) might send it: any bytes, lone surrogates too."""

    def part(value) -> str:
        if isinstance(value, bytes):
            return quote_from_bytes(value)
        return quote_from_bytes(str(value).encode("utf-8", "surrogatepass"))

    pairs = []
    for name, value in data.items():
        for one in value if isinstance(value, list | tuple) else [value]:
            pairs.append(f"{quote(name)}={part(one)}")
    return "&".join(pairs).encode("ascii")


# --- finding the forms ---------------------------------------------------------------------


@dataclass
class FoundForm:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> input kind
    defaults: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = FoundForm(
                action=attrs.get("action") or "", method=(attrs.get("method") or "get").lower()
            )
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag in ("input", "textarea", "select") and name and name != "csrfmiddlewaretoken":
            kind = tag if tag != "input" else (attrs.get("type") or "text").lower()
            if attrs.get("inputmode") in ("decimal", "numeric") and kind == "text":
                kind = "number"
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            self._form.fields.setdefault(name, kind)
            checkable = kind in ("checkbox", "radio")
            if "value" in attrs and (not checkable or "checked" in attrs):
                self._form.defaults.setdefault(name, []).append(attrs["value"] or "")
            self._select = name if tag == "select" else None
        elif tag == "option" and self._select and "selected" in attrs:
            self._form.defaults.setdefault(self._select, []).append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _forms_on(response) -> list[FoundForm]:
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    parser = _FormParser()
    parser.feed(response.content.decode("utf-8", "replace"))
    return parser.forms


def _name_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def _allowed(name: str, persona: str) -> bool:
    roles = getattr(resolve(_route(name)).func, "allowed_roles", None)
    return roles is None or persona in roles


def _route(name: str) -> str:
    return reverse(name, kwargs=dict.fromkeys(URLS[name][1], 1))


def _clients(request) -> dict[str, Client]:
    clients = {persona: request.getfixturevalue(fixture) for persona, fixture in PERSONAS.items()}
    clients["anon"] = Client()
    return clients


def _discover(request, rows) -> dict[str, tuple[str, str]]:
    """{URL name a form posts to: (persona, URL name of a page showing it)}, every page walked."""
    found: dict[str, tuple[str, str]] = {}
    not_html: set[str] = set()  # PDFs and downloads carry no form; rendered once is enough
    for persona, client in _clients(request).items():
        for page_name in sorted(URLS):
            if EXPECTED[page_name][persona] != 200 or page_name in not_html:
                continue
            page = _url(page_name, rows)
            response = client.get(page)
            _finish(response)
            if "html" not in response.get("Content-Type", ""):
                not_html.add(page_name)
            for form in _forms_on(response):
                target = _name_of(form.action or page)
                if form.method != "post" or target is None or target in found:
                    continue
                if persona == "anon" or _allowed(target, persona):
                    found[target] = (persona, page_name)
    return found


_FOUND: dict[str, tuple[str, str]] = {}


def _found(request, rows) -> dict[str, tuple[str, str]]:
    """The walk is the slow part: done once; each test then re-reads its one page."""
    if not _FOUND:
        _FOUND.update(_discover(request, rows))
    return _FOUND


def _form_for(request, rows, name: str) -> tuple[str, FoundForm, str]:
    """(persona, the form as this test's page shows it, the URL it posts to)."""
    persona, page_name = _found(request, rows)[name]
    page = _url(page_name, rows)
    response = _client_for(request, persona).get(page)
    _finish(response)
    for form in _forms_on(response):
        if form.method == "post" and _name_of(form.action or page) == name:
            return persona, form, form.action or page
    pytest.fail(f"The form posting to {name!r} is no longer on {page}.")


# --- what must not change ------------------------------------------------------------------


# Rows whose whole point is to be written when a post is refused: a wrong witness password or
# PIN is remembered (it throttles the one who typed it).
RECORDS_OF_REFUSALS = {"accounts.SignoffFailure"}


def _domain_counts() -> tuple[int, ...]:
    tables = [
        model._meta.db_table
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy and model._meta.label not in RECORDS_OF_REFUSALS
    ]
    sql = " UNION ALL ".join(
        f"SELECT {index}, count(*) FROM {connection.ops.quote_name(table)}"
        for index, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(count for _, count in sorted(cursor.fetchall()))


def _client_for(request, persona: str) -> Client:
    return Client() if persona == "anon" else request.getfixturevalue(PERSONAS[persona])


# --- the tests -----------------------------------------------------------------------------


@pytest.fixture
def rows(objects):  # noqa: F811
    """The access test's objects, with hold parameters so the med pass forms ask for vitals."""
    for order in (objects.prescription, objects.prn_order):
        HoldParameter.objects.create(
            prescription=order, vital="systolic_bp", comparator="lt", threshold="100"
        )
        HoldParameter.objects.create(
            prescription=order, vital="pulse", comparator="gt", threshold="120"
        )
    return objects


def test_every_form_of_the_project_is_found_and_posts_to_a_fuzzed_page(request, rows):
    found = set(_found(request, rows))
    assert found, "No form was found on any page; the HTML walk is broken."
    stray = sorted(found - set(POST_NAMES))
    assert not stray, f"Forms post to pages the access table calls read-only: {stray}"
    # Every page that takes a POST shows its form somewhere (or has its data in POST_DATA).
    missing = sorted(set(POST_NAMES) - found - set(POST_DATA) - {"logout"})
    assert not missing, f"No form found for these pages: {missing}"


@pytest.mark.parametrize("name", POST_NAMES)
def test_hostile_post_never_errors_and_a_refusal_saves_nothing(request, rows, name):
    if name not in _found(request, rows):
        # A page whose form shows only in some states: post the access table's fields.
        persona = next(p for p in ("nurse", "admin", "med_tech", "anon") if _allowed(name, p))
        url = _url(name, rows, POST_OBJECTS.get(name))
        base = {key: str(value) for key, value in _post_data(name, rows).items()}
        kinds = dict.fromkeys(base, "text")
    else:
        persona, form, url = _form_for(request, rows, name)
        base = dict(form.defaults)
        if name in POST_DATA:
            base.update(_post_data(name, rows))
        kinds = dict(form.fields)
    client = _client_for(request, persona)
    names = sorted(kinds)

    def attempt(body: dict) -> None:
        with transaction.atomic():
            before = _domain_counts()
            response = client.post(url, _encode(body), content_type=FORM_ENCODED)
            _finish(response)
            assert response.status_code < 500, f"{persona} POST {url} {body!r}"
            if response.status_code != 302:
                assert _domain_counts() == before, f"Refused, yet saved: POST {url} {body!r}"
            transaction.set_rollback(True)

    for key in names:
        attempt({**base, key: CANONICAL[_kind(kinds[key])][0]})
    for kind, values in CANONICAL.items():
        same_kind = [key for key in names if _kind(kinds[key]) == kind]
        for value in values[1:] if same_kind else []:
            attempt({**base, **dict.fromkeys(same_kind, value)})

    @FUZZ
    @given(st.data())
    def post(data):
        body = dict(base)
        if names:
            chosen = data.draw(
                st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)
            )
            for key in chosen:
                body[key] = data.draw(_hostile_for(kinds[key]), label=key)
        attempt(body)

    post()


def test_hostile_query_parameters_never_error(request, rows):
    """Every page a person reads, with hostile values in every parameter a page may read.

    One test for all pages (the rows are built once): a failure names its page and query.
    Each page gets the known troublemakers in all its parameters at once; then hypothesis picks
    pages and mixes of values.
    """
    pages = {name: _query_target(request, rows, name) for name in GET_NAMES}
    for client, url, parameters, _ in pages.values():
        for value in CANONICAL_QUERY:
            _get(client, url, dict.fromkeys(parameters, value))
    html = sorted(name for name, (*_, is_html) in pages.items() if is_html)

    @settings(FUZZ, max_examples=4 * len(html))
    @given(st.data())
    def get(data):
        client, url, parameters, _ = pages[data.draw(st.sampled_from(html), label="page")]
        query = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(parameters, HOSTILE)))
        _get(client, url, query)

    get()


def _query_target(request, rows, name: str) -> tuple[Client, str, list[str], bool]:
    """(client of someone who may read the page, its URL, the parameters to try, is it HTML)."""
    persona = next(p for p in PERSONAS if EXPECTED[name][p] == 200)
    client = _client_for(request, persona)
    url = _url(name, rows)
    page = client.get(url)
    _finish(page)
    parameters = set(QUERY_PARAMETERS)
    for form in _forms_on(page):
        if form.method == "get":
            parameters.update(form.fields)
    # A PDF or a download is slow to make: the sweep is enough for it (hypothesis skips it).
    return client, url, sorted(parameters), "html" in page.get("Content-Type", "")


def _get(client: Client, url: str, query: dict) -> None:
    response = client.get(url + "?" + _encode(query).decode())
    _finish(response)
    assert response.status_code < 500, f"GET {url}?{query!r}"


HUGE_IDS = [2**31, 2**63, 2**64, 10**40]


@pytest.mark.parametrize("name", sorted(name for name in URLS if URLS[name][1]))
def test_ids_beyond_the_database_integers_are_not_found(admin_client, nurse_client, name):
    client = nurse_client if EXPECTED[name]["nurse"] != 403 else admin_client
    for huge in HUGE_IDS:
        url = reverse(name, kwargs=dict.fromkeys(URLS[name][1], huge))
        for method in (client.get, client.post):
            response = method(url)
            _finish(response)
            assert response.status_code < 500, f"{method.__name__} {url}"
            assert response.status_code in (302, 403, 404, 405), f"{method.__name__} {url}"
