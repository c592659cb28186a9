from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        from contacts.segments.functions import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="contacts-sqlite-fns")
