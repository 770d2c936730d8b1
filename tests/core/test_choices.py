"""The `options` filter: a select's options, escaped, the chosen one selected."""

from django.template import Context, Template


def _render(choices, selected) -> str:
    template = Template("{% load choices %}{{ choices|options:selected }}")
    return template.render(Context({"choices": choices, "selected": selected}))


def test_the_chosen_value_is_selected_and_labels_are_escaped():
    choices = [("", "—"), ("A", "Asleep"), ("X", "<b>Out</b> & about")]
    html = _render(choices, "X")
    assert html == (
        '<option value="">—</option><option value="A">Asleep</option>'
        '<option value="X" selected>&lt;b&gt;Out&lt;/b&gt; &amp; about</option>'
    )
    assert _render(choices, "").count(" selected") == 1  # the blank one
    assert " selected" not in _render(choices, "nothing of these")
