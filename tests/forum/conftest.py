import pytest
from django.db import connection

from forum import similar


@pytest.fixture(autouse=True)
def _similar_statistics(monkeypatch):
    """No PostgreSQL statistics for the similar questions, as in a forum never analysed.

    The real ones are read once every few minutes per process, so whether a
    request reads them would depend on the tests run before it, and so would
    every question page's query count.
    """
    if connection.vendor == "postgresql":
        monkeypatch.setattr(similar, "statistics", lambda: similar.Statistics({}, 0.0, 0))
