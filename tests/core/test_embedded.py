"""`make run`'s launcher: where the development server listens and what it tells the developer."""

from core import embedded


def test_make_run_listens_on_this_machine_only_by_default():
    web = embedded.child_commands("8123")["web"]
    assert web[-2:] == ["127.0.0.1:8123", "--noreload"]
    assert not any("0.0.0.0" in part for part in web)


def test_host_chooses_the_address_and_the_printed_url():
    assert embedded.child_commands("8123", "0.0.0.0")["web"][-2] == "0.0.0.0:8123"
    assert embedded.child_commands("8123", "::1")["web"][-2] == "[::1]:8123"
    assert embedded.app_url("127.0.0.1", "8123") == "http://127.0.0.1:8123/"
    assert embedded.app_url("0.0.0.0", "8123") == "http://127.0.0.1:8123/"
    assert embedded.app_url("::1", "8123") == "http://[::1]:8123/"

    url = embedded.app_url("0.0.0.0", "8123")
    assert "other computers see these logins" in embedded.final_block(url, [], host="0.0.0.0")
    assert "other computers" not in embedded.final_block(url, [])


SEED_OUTPUT = """demo: facilities, staff, residents and their orders
history: day 1 of 2
history: day 2 of 2
Demo ready: 2 facilities, 8 staff, 46 residents and 300 orders added.
Demo logins (password for all: medtech-demo):
  admin       Administrator, Maple Grove Assisted Living
  medtech2    Med tech, Cedar House Group Home
""".splitlines()


def test_the_seeds_logins_are_read_from_the_end_of_its_output():
    assert embedded.logins_from_seed(SEED_OUTPUT[:4]) == []
    assert embedded.logins_from_seed(SEED_OUTPUT) == [
        "Demo logins (password for all: medtech-demo):",
        "  admin       Administrator, Maple Grove Assisted Living",
        "  medtech2    Med tech, Cedar House Group Home",
    ]


def test_run_ends_with_one_block_the_url_every_login_and_how_to_stop():
    logins = embedded.logins_from_seed(SEED_OUTPUT)

    block = embedded.final_block("http://127.0.0.1:8000/", logins).splitlines()

    assert block[0] == block[-1] == "=" * 72
    assert block[1] == "  MedTech eMAR is up at http://127.0.0.1:8000/"
    assert "  Demo logins (password for all: medtech-demo):" in block
    assert "    medtech2    Med tech, Cedar House Group Home" in block
    assert block[-2] == (
        "  Press Ctrl-C to stop everything (web, worker, beat, HL7 listener, PostgreSQL, Redis)."
    )
    assert not any("still starting" in line for line in block)


def test_the_block_says_when_the_worker_is_not_ready_yet_or_no_logins_were_listed():
    block = embedded.final_block("http://127.0.0.1:8000/", [], worker_ready=False)

    assert "The Celery worker is still starting: see var/log/worker.log." in block
    assert "No demo logins were listed" in block


def test_run_starts_the_pharmacy_listener_beside_the_worker_and_beat():
    commands = embedded.child_commands("8123")

    assert commands["hl7"][-1] == "hl7_listen"
    assert "hl7" in embedded.LOGGED
