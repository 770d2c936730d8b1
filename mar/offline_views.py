"""The offline med pass: the snapshot a cart prepares, the records it sends back, and the
reconciliation of those the server could not simply accept (mar.services.offline)."""

import datetime
import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.permissions import EVERYONE, facility_view
from core.time import local_day_time
from core.views import run_service
from meds.models import Prescription
from residents.models import Resident, ResidentStatus

from .forms import OfflineRecordForm, ReconciliationForm
from .models import ReconciliationItem, ReconciliationState, ScheduledDose
from .services.offline import OfflineRecord, Outcome, offline_replay, reconciliation_resolve
from .views import _passing

# What every prepared page needs besides itself.
_ASSETS = ("css/app.css", "js/htmx.min.js", "js/offline.js", "favicon.svg")


@facility_view(EVERYONE)
def offline_snapshot(request):
    """What "Prepare for offline" stores: the board and the med pass page of every present
    resident of what the person is passing, with the facility's offline limit."""
    now = timezone.now()
    passing = _passing(request)
    residents = list(
        Resident.objects.filter(facility=request.facility, status=ResidentStatus.ACTIVE)
        .filter(passing.residents_q())
        .distinct()
        .order_by("last_name", "first_name", "pk")
        .values_list("pk", "photo")
    )
    urls = [reverse("board"), reverse("offline_records")]
    for pk, photo in residents:
        urls.append(reverse("resident_pass", args=[pk]))
        if photo:
            urls.append(reverse("resident_photo", args=[pk]))
    urls += [static(asset) for asset in _ASSETS]
    hours = request.facility.offline_max_hours
    return JsonResponse(
        {
            "taken_at": now.isoformat(),
            "taken_text": local_day_time(now, request.facility.tz),
            "label": passing.label,
            "residents": len(residents),
            "max_hours": hours,
            "user": request.user.pk,
            "user_name": str(request.user),
            "urls": urls,
        },
        headers={"Cache-Control": "no-store"},
    )


@never_cache
@facility_view(EVERYONE)
def offline_sync(request):
    """GET: who is signed in and a fresh CSRF token (the cached pages' may be stale).
    POST (JSON, one record): recorded, duplicate or reconcile; 400 for what is not a record of
    this app's pages, 409 for a record another person made (they must sign in to send it)."""
    if request.method == "GET":
        return JsonResponse({"user": request.user.pk, "csrf": get_token(request)})
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "Not JSON."}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"error": "Not a record."}, status=400)
    if body.get("user") != request.user.pk:
        return JsonResponse(
            {"error": "This record was made by someone else: they must sign in to send it."},
            status=409,
        )
    form = OfflineRecordForm(body)
    if not form.is_valid():
        return JsonResponse({"error": "Not a record.", "fields": form.errors}, status=400)
    data = form.cleaned_data
    record = OfflineRecord(
        key=data["key"],
        kind=data["kind"],
        target=data["target"],
        device_at=data["device_at"],
        snapshot_at=data["snapshot_at"],
        status=data["status"],
        reason=data["reason"],
        late_reason=data["late_reason"],
        other_code=data["other_code"],
        prn_reason=data["prn_reason"],
        notes=data["notes"],
        vitals=data["vitals"],
    )
    if not _in_facility(record, request.facility):
        return JsonResponse({"error": "No such dose or order in this facility."}, status=400)
    replay = run_service(
        form,
        lambda: offline_replay(
            actor=request.user, record=record, client_address=request.client_address
        ),
    )
    if replay is None:  # not a member any more: refused with its message
        return JsonResponse(
            {"error": form.refusal.message if form.refusal else "Refused."}, status=409
        )
    answer = {"outcome": replay.outcome, "message": replay.message}
    if replay.outcome == Outcome.RECONCILE:
        answer["url"] = reverse("offline_records")
    return JsonResponse(answer)


def _in_facility(record: OfflineRecord, facility) -> bool:
    model = ScheduledDose if record.kind == "dose" else Prescription
    return model.objects.filter(pk=record.target, facility=facility).exists()


@facility_view(EVERYONE)
def offline_records(request):
    """The person's records that waited for a nurse, and (by the page's script) what waits on
    this device. Cached by "Prepare for offline": offline it shows the queue."""
    items = _items(
        ReconciliationItem.objects.filter(facility=request.facility, made_by=request.user),
        since=timezone.now() - datetime.timedelta(days=7),
    )
    return render(request, "mar/offline_records.html", {"items": items})


def _items(queryset, *, since=None):
    if since is not None:
        queryset = queryset.filter(received_at__gte=since) | queryset.filter(
            state=ReconciliationState.OPEN
        )
    return list(
        queryset.select_related(
            "resident", "prescription__medication", "dose", "made_by", "resolved_by"
        ).order_by("state", "-device_at", "-pk")[:200]
    )


@facility_view((Role.NURSE,), action="reconcile offline records")
def reconciliation_list(request):
    return _render_queue(request)


def _render_queue(request, refused: tuple[int, ReconciliationForm] | None = None):
    items = _items(
        ReconciliationItem.objects.filter(facility=request.facility),
        since=timezone.now() - datetime.timedelta(days=7),
    )
    rows = [
        (
            item,
            refused[1]
            if refused and refused[0] == item.pk
            else ReconciliationForm(auto_id=f"r{item.pk}-%s"),
        )
        for item in items
    ]
    return render(
        request,
        "mar/reconciliation.html",
        {"rows": rows, "open": sum(item.state == ReconciliationState.OPEN for item in items)},
        status=400 if refused else 200,
    )


@facility_view((Role.NURSE,), action="reconcile offline records")
def reconciliation_resolve_view(request, pk: int):
    if request.method != "POST":
        return redirect("reconciliation_list")
    item = ReconciliationItem.objects.filter(facility=request.facility, pk=pk).first()
    if item is None:
        raise Http404("No such offline record.")
    form = ReconciliationForm(request.POST, auto_id=f"r{item.pk}-%s")
    if form.is_valid():
        data = form.cleaned_data
        at = data["administered_at"]
        if at is not None:
            at = at.replace(tzinfo=None).replace(tzinfo=request.facility.tz)
        result = run_service(
            form,
            lambda: reconciliation_resolve(
                actor=request.user,
                item=item,
                action=data["action"],
                reason=data["reason"],
                status=data["status"],
                administered_at=at,
            ),
        )
        if result is not None:
            messages.success(
                request, f"{result.get_state_display()}: {item.resident} — {item.prescription}."
            )
            return redirect(f"{reverse('reconciliation_list')}#item-{pk}")
    return _render_queue(request, (pk, form))


@require_GET
def service_worker(request):
    """The service worker, served from the site's root so that it may answer for every page
    (its scope); never cached by the browser, so a new version takes over at the next visit."""
    path = settings.BASE_DIR / "static" / "js" / "sw.js"
    return HttpResponse(
        path.read_text(),
        content_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@require_GET
def manifest(request):
    return JsonResponse(
        {
            "name": "MedTech eMAR — med pass",
            "short_name": "Med pass",
            "start_url": reverse("board"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#13294b",
            "icons": [
                {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        },
        content_type="application/manifest+json",
    )
