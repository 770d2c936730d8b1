"""Assertions about rendered pages that several test modules share."""

import re

from django.utils.html import escape


def assert_refused_beside(response, field: str, message: str) -> None:
    """The form came back (no redirect) with `message` in the errors under `field`'s input."""
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    html = response.content.decode()
    after = html[html.index(f'id="id_{field}"') :]
    end = re.search(r'<div class="field">|</form>', after)
    assert escape(message) in after[: end.start()], f"{message!r} is not beside {field}"
