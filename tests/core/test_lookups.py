"""Plain values a template reads without a failed lookup (core.lookups)."""

from django.template import Context, Template

from core.lookups import NO_REFUSAL, Blank


def test_a_blank_reads_empty_for_a_missing_key_and_is_a_dict_otherwise():
    typed = Blank({"reason": "asleep"})
    assert typed["reason"] == "asleep" and typed["other"] == ""
    assert typed.get("other") is None and "other" not in typed and list(typed) == ["reason"]


def test_a_template_shows_the_same_for_a_blank_and_for_nothing_refused():
    template = Template(
        "{% if refusal %}refused{% endif %}[{{ refusal.errors.reason }}]"
        "[{{ form.values.reason }}]{% if form.errors.reason %}error{% endif %}"
    )
    blank = template.render(Context({"refusal": NO_REFUSAL, "form": {"values": Blank()}}))
    missing = template.render(Context({"refusal": None, "form": {"values": {}}}))
    assert blank == missing == "[][]"
