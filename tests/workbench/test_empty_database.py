"""The workbench on an empty database. In a module of its own: emptying the database in the middle
of a module whose other tests share one ingested sample (``sample_db`` is module-scoped) left the
tests after it running on no data (they passed, proving nothing)."""
from __future__ import annotations

import holoviews as hv
import pandas as pd


def test_empty_database_gives_clear_messages(clean_db):
    from workbench.cards import DatasetCards
    from workbench.floatmap import FloatMap
    from workbench.profiles import ProfileView

    fmap = FloatMap()
    assert len(fmap.positions) == 0 and "database is empty" in fmap.status
    hv.render(fmap._plot)
    assert "No datasets yet" in DatasetCards().status
    assert "Select a float" in ProfileView().status
    assert isinstance(fmap.positions, pd.DataFrame)
