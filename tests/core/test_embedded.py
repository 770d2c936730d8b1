"""`make run`'s launcher: where the development server listens and what it tells the developer."""

from core import embedded


def test_make_run_listens_on_this_machine_only_by_default():
    web = embedded.child_commands("8123")["web"]
    assert web[-2:] == ["127.0.0.1:8123", "--noreload"]
    assert not any("0.0.0.0" in part for part in web)


def test_host_chooses_the_address_and_the_printed_url(capsys):
    assert embedded.child_commands("8123", "0.0.0.0")["web"][-2] == "0.0.0.0:8123"
    assert embedded.child_commands("8123", "::1")["web"][-2] == "[::1]:8123"
    assert embedded.app_url("127.0.0.1", "8123") == "http://127.0.0.1:8123/"
    assert embedded.app_url("0.0.0.0", "8123") == "http://127.0.0.1:8123/"
    assert embedded.app_url("::1", "8123") == "http://[::1]:8123/"

    embedded.print_banner("8123")
    assert "running at http://127.0.0.1:8123/" in capsys.readouterr().out
    embedded.print_banner("8123", "0.0.0.0")
    assert "other computers see these logins" in capsys.readouterr().out
