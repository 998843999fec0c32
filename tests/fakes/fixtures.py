"""pytest fixtures over the fakes; a test module imports the ones it uses (tests/conftest.py is not ours)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from .rasa import FakeRasa
from .server import LoopbackServer


@pytest.fixture(scope="module")
def rasa_server() -> Iterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    with LoopbackServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
def fake_rasa(rasa_server: tuple[FakeRasa, str], monkeypatch: pytest.MonkeyPatch) -> FakeRasa:
    """The fake Rasa, reset, with RASA_URL pointing at it and a short time-out."""
    fake, url = rasa_server
    fake.reset()
    monkeypatch.setenv("RASA_URL", url)
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "1.0")
    from hotline.settings import get_settings

    get_settings.cache_clear()
    return fake
