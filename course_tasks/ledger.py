"""What a task does to the world besides its result (lesson 12): a charge, an e-mail. Each is a row of a ledger in
Redis, so that a notebook can count how many times a task did it: ``add()`` in the task, ``show()`` in the notebook.

Each notebook has a ledger of its own (the key of its journal, carried by every message it sends), so two notebooks
never count each other's rows.
"""
from .i18n import register, say
from .journal import text_table
from .machinery.journaling import HEADER, KEEP_SECONDS, KEY

PREFIX = "course:ledger:"

# SET key NX and RPUSH the row in one step (a script runs atomically in Redis): either both happen, or neither.
_ADD_ONCE = """
if redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
    redis.call('rpush', KEYS[1], ARGV[1])
    redis.call('expire', KEYS[1], ARGV[2])
    return 1
end
return 0
"""

register({
    "ledger.header": {"en": "#|what|order|delivered", "ru": "№|что|заказ|доставка"},
    "ledger.empty": {"en": "(no rows)", "ru": "(записей нет)"},
    "ledger.first": {"en": "first time", "ru": "впервые"},
    "ledger.again": {"en": "again (redelivered)", "ru": "повторно (redelivered)"},
    "ledger.count": {"en": "rows for {order}: {count}", "ru": "записей по заказу {order}: {count}"},
})


def _key(journal):
    return PREFIX + journal


def add(task, what, order_id, key=None):
    """Add the row ``(what, order_id)`` to the ledger of the notebook that sent ``task``. With ``key``, only if no row
    of that ledger has that key yet: the key and the row are written in one step. True if the row was added."""
    request = task.request
    journal = getattr(request, HEADER, None) or KEY
    redelivered = bool((request.delivery_info or {}).get("redelivered"))
    row = f"{what}|{order_id}|{int(redelivered)}"
    client = task.app.backend.client
    if key is None:
        client.rpush(_key(journal), row)
        client.expire(_key(journal), KEEP_SECONDS)
        return True
    return bool(client.eval(_ADD_ONCE, 2, _key(journal), f"{_key(journal)}:key:{key}", row, KEEP_SECONDS))


def rows(client):
    """This notebook's rows: ``[(what, order_id, redelivered), ...]``, oldest first."""
    found = []
    for raw in client.lrange(_key(KEY), 0, -1):
        what, order_id, redelivered = (raw.decode() if isinstance(raw, bytes) else raw).split("|")
        found.append((what, order_id, redelivered == "1"))
    return found


def count(client, what, order_id):
    """How many rows ``(what, order_id)`` this notebook's ledger holds."""
    return sum(row[:2] == (what, order_id) for row in rows(client))


def clear(client):
    """Forget this notebook's rows and keys."""
    client.delete(_key(KEY), *client.scan_iter(match=f"{_key(KEY)}:key:*"))


def table(client, lang=None):
    """This notebook's rows as a table (in the notebook's language)."""
    found = rows(client)
    if not found:
        return say("ledger.empty", lang)
    header = say("ledger.header", lang).split("|")
    body = [[str(n), what, order_id, say("ledger.again" if again else "ledger.first", lang)]
            for n, (what, order_id, again) in enumerate(found, 1)]
    return text_table(header, body)
