"""The beat's fan-out: one Celery task per facility (or per batch of
settings.DOSE_ENGINE_FACILITIES_PER_TASK facilities), so that the workers of every machine share
the clock-driven work and a slow or failing facility holds up and fails no other."""

from django.conf import settings

from .models import Facility


def fan_out(dispatch, task, *, expires: int) -> int:
    """Send `task` once per batch of facilities; return how many tasks were sent.

    They go to the queue the fan-out itself (`dispatch`, a bound task) came from (the default
    queue unless the beat's tasks are routed elsewhere): route the fan-outs to a queue and the
    engines' work follows them there.
    """
    delivery = dispatch.request.delivery_info or {}
    ids = list(Facility.objects.order_by("pk").values_list("pk", flat=True))
    size = max(1, settings.DOSE_ENGINE_FACILITIES_PER_TASK)
    batches = [ids[start : start + size] for start in range(0, len(ids), size)]
    for batch in batches:
        task.apply_async(
            kwargs={"facility_ids": batch}, expires=expires, queue=delivery.get("routing_key")
        )
    return len(batches)
