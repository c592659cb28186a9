"""Schemathesis, as a real client over HTTP, against every operation of the live API."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import requires_postgres
from tests.factories import AccountFactory, make_api_key


# On PostgreSQL only, as in production (CI runs the suite on both): the run takes minutes, and the
# SQLite-specific failures it once found have their own regression tests.
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_schemathesis_with_every_check_and_the_stateful_phase_finds_nothing(
    live_server, tmp_path, settings
):
    """Every check (server errors, conformance of status codes, content types, headers and
    bodies, schema-valid requests accepted and schema-violating ones refused, …), every phase,
    the stateful one included, at least 20 examples per operation (issue 18)."""
    settings.API_KEY_RATE = "100000/minute"  # the run must meet the API, not the throttle
    # Shop connections the run creates point anywhere; "Test the connection" calls only loopback.
    settings.CONNECTOR_SHOP_HOSTS = ["127.0.0.1"]
    account = AccountFactory()
    _key, plaintext = make_api_key(account)
    make_api_key(account, name="spare")
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{live_server.url}/api/schema/",
            "--url",
            f"{live_server.url}",
            # No --checks: schemathesis 4 runs every check by default, and a --checks option would
            # override the per-operation settings of tests/schemathesis.toml.
            "--header",
            f"Authorization: Bearer {plaintext}",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"),
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--workers",
            "1",
            "--seed",
            "1",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,  # schemathesis keeps a cache directory in its working directory
        capture_output=True,
        text=True,
        # About ten minutes on two busy cores (coverage ~7, fuzzing ~3, stateful ~1): room to
        # spare, so that a slow machine is not reported as a failure of the API.
        timeout=1800,
    )
    # The summary (phases, their durations, operations covered) goes to the log either way.
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-2000:]
