from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_support import clean_up, new_cloud

from kiln.clients.local import LocalCloud


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    cloud = new_cloud(tmp_path / "local")
    try:
        yield cloud
    finally:
        clean_up(cloud)
