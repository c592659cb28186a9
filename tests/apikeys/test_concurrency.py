import threading

import pytest
from django.db import connection

from apikeys.models import ApiKey
from apikeys.services import ApiKeyLimitReached, api_key_create
from tests.conftest import requires_postgres
from tests.factories import AccountFactory


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_six_concurrent_creations_leave_exactly_five():
    account = AccountFactory()
    barrier = threading.Barrier(6)
    outcomes = []

    def create(index):
        try:
            barrier.wait()
            api_key_create(account=account, name=f"racer {index}", mode="live")
            outcomes.append("created")
        except ApiKeyLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(outcomes) == ["created"] * 5 + ["refused"]
    assert ApiKey.objects.filter(account=account, revoked_at__isnull=True).count() == 5


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_api_requests_leave_exactly_five(live_server):
    """The same race through the HTTP API, served by real threads."""
    import json
    import urllib.error
    import urllib.request

    from tests.factories import make_api_key

    account = AccountFactory()
    _key, plaintext = make_api_key(account)
    barrier = threading.Barrier(6)
    statuses = []

    def post(index):
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/api-keys/",
            data=json.dumps({"name": f"http racer {index}"}).encode(),
            headers={"Authorization": f"Bearer {plaintext}", "Content-Type": "application/json"},
            method="POST",
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201, 201, 201, 409, 409]
    assert ApiKey.objects.filter(account=account, revoked_at__isnull=True).count() == 5
