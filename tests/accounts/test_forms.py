from django import forms

from accounts.errors import ConflictError, ServiceError
from accounts.forms import add_service_error


class NameForm(forms.Form):
    name = forms.CharField()


def valid_form() -> NameForm:
    form = NameForm({"name": "Anne"})
    assert form.is_valid()
    return form


def test_a_reason_about_a_field_of_the_form_is_shown_beside_it():
    # given
    form = valid_form()
    # when
    add_service_error(form, ServiceError({"name": ["is taken", "is too plain"]}))
    # then
    assert form.errors == {"name": ["is taken", "is too plain"]}
    assert not form.is_valid()


def test_a_reason_about_a_field_the_form_does_not_show_is_shown_on_the_form():
    form = valid_form()
    add_service_error(form, ServiceError({"status": "already sent"}))
    assert form.non_field_errors() == ["already sent"]
    assert "status" not in form.errors


def test_an_error_naming_no_field_shows_its_message_on_the_form():
    form = valid_form()
    add_service_error(form, ConflictError("A DKIM key already exists for shop.fr."))
    assert form.errors == {"__all__": ["A DKIM key already exists for shop.fr."]}
