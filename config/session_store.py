"""The database session store, less one transaction: saving a session that exists is one
UPDATE, which needs no block of its own (Django's store wraps it in `atomic`, a BEGIN and a
COMMIT around a single statement, a savepoint pair inside a test). Creating one keeps
Django's block: there a clash of keys must not spoil an enclosing transaction. The
middleware saves outside any transaction; code that saves a session inside one (none does)
would see a session ended meanwhile fail that transaction, not only the save. Same table,
same rows: sessions can be listed and ended as before."""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, router


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        data = self._get_session()
        obj = self.create_model_instance(data)
        try:
            obj.save(force_update=True, using=router.db_for_write(self.model, instance=obj))
        except DatabaseError as error:
            raise UpdateError from error
