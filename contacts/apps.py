from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        from contacts.imports.services import import_runner_register
        from contacts.search import register_search_function
        from contacts.segments.functions import register_sqlite_functions
        from contacts.tasks import run_import_task

        connection_created.connect(register_sqlite_functions, dispatch_uid="contacts-sqlite-fns")
        connection_created.connect(register_search_function, dispatch_uid="contacts-search-fn")
        # The import service enqueues through its task without importing it (a file cycle).
        import_runner_register(run_import_task.delay)
