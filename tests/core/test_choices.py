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


def _radios(choices, stem, checked) -> str:
    template = Template('{% load choices %}{% radios choices "status" stem checked %}')
    return template.render(Context({"choices": choices, "stem": stem, "checked": checked}))


def test_the_typed_radio_is_checked_else_the_first_and_labels_are_escaped():
    choices = [("done", "Done"), ("refused", "<b>Refused</b>")]
    assert _radios(choices, "t7-status", "refused") == (
        '<label><input type="radio" name="status" value="done" id="t7-status_0" required>'
        " Done</label> "
        '<label><input type="radio" name="status" value="refused" id="t7-status_1" required'
        " checked> &lt;b&gt;Refused&lt;/b&gt;</label> "
    )
    nothing_typed = _radios(choices, "t7-status", "")
    assert nothing_typed.count(" checked") == 1 and 'id="t7-status_0" required checked' in (
        nothing_typed
    )
    assert " checked" not in _radios(choices, "t7-status", "not one of these")
