"""Settings for the HTTP benchmark (bench/med_pass.py): the production settings, served over plain
HTTP on the loopback, with two reference views added beside the product's URLs."""

from medtech.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
