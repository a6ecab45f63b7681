"""The course's one way to wait for something: ask again until it is so, never longer than a bound."""
import time


def wait_until(check, timeout, every=0.05):
    """Call ``check()`` until it returns something true, at most ``timeout`` seconds, ``every`` seconds apart.

    Returns that value, or, when the time is up, what ``check()`` returned last (false): the caller says why.
    ``check`` runs at least once, and once more at the end of the time.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        left = deadline - time.monotonic()
        if value or left <= 0:
            return value
        time.sleep(min(every, left))
