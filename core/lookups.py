"""Plain values a template reads without a failed lookup.

A variable a template cannot find is not free: Django tries it as a key, as an attribute (and
then lists the object's attributes with `dir()` to tell a missing one from a broken property)
and as an index before it gives up with "" -- ten times the cost of one it finds. A card that
reads a message or a typed value beside each of its inputs, on a page of many cards, pays that
for every empty one; these read "" at once instead, and show the same."""


class Blank(dict):
    """A dict whose missing keys read "" with `[]` (and so in a template); `get`, `in` and
    iteration are a dict's."""

    def __missing__(self, key) -> str:
        return ""


class NoRefusal:
    """What a line with nothing refused reads: no message, nothing typed; false in `{% if %}`."""

    errors = Blank()
    values = Blank()

    def __bool__(self) -> bool:
        return False


NO_REFUSAL = NoRefusal()


class Refusal:
    """What a refused line reads: its messages and what was typed, by field (Blank: a field
    with neither reads ""); true in `{% if %}`. Attributes, not keys: a Jinja2 card reads
    `refusal.values` as an attribute first (a dict's would be its method)."""

    def __init__(self, errors: dict, values: dict):
        self.errors, self.values = Blank(errors), Blank(values)
