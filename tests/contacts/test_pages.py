import pytest

from contacts.models import Contact
from tests.factories import AccountFactory, ContactFactory, ContactListFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_creating_a_contact_that_exists_says_so(logged_in_client, account):
    ContactFactory(account=account, email="a@example.com")
    response = logged_in_client.post(
        "/contacts/new/", {"email": "A@example.com", "email_status": "none", "sms_status": "none"}
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert response.context["contact"] is None
    assert Contact.objects.count() == 1


def test_pages_of_another_accounts_objects_are_404(logged_in_client):
    other = AccountFactory()
    contact = ContactFactory(account=other, email="x@example.com")
    contact_list = ContactListFactory(account=other, name="Theirs")
    segment = SegmentFactory(account=other, name="Theirs", rules={"all": []})
    for url in [
        f"/contacts/{contact.pk}/",
        f"/contacts/{contact.pk}/gdpr-export/",
        f"/contacts/lists/{contact_list.pk}/",
        f"/contacts/segments/{segment.pk}/",
        f"/contacts/?segment={segment.pk}",
    ]:
        assert logged_in_client.get(url).status_code == 404, url
    assert logged_in_client.post(f"/contacts/{contact.pk}/erase/").status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
