"""Schemathesis, as a real client over HTTP, against every operation of the live API."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import AccountFactory, make_api_key

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_undocumented_response(live_server, tmp_path):
    account = AccountFactory()
    _key, plaintext = make_api_key(account)
    make_api_key(account, name="spare")
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{live_server.url}/api/schema/",
            "--url",
            f"{live_server.url}",
            "--checks",
            CHECKS,
            "--header",
            f"Authorization: Bearer {plaintext}",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"),
            # Revoking the key the run authenticates with would leave it testing only 401s;
            # revocation has its own tests.
            "--exclude-operation-id",
            "api_keys_destroy",
            "--phases",
            "examples,coverage,fuzzing",
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
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
