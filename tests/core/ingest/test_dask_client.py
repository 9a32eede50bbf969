"""The ingestion client follows the configured scheduler: a cached LocalCluster client is not
reused once FLOATCHAT_DASK_SCHEDULER points elsewhere, and vice versa."""
from __future__ import annotations

from distributed import LocalCluster

from floatchat_core.config import override
from floatchat_core.ingest import runner


def test_client_follows_the_configured_scheduler():
    runner.close_client()
    own = runner.get_client(1)
    ext = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        assert getattr(own, "cluster", None) is not None             # our own LocalCluster
        with override(dask_scheduler=ext.scheduler_address):
            external = runner.get_client()
            assert external is not own and getattr(external, "cluster", None) is None
            assert external.scheduler.address == ext.scheduler_address
            assert runner.get_client() is external                    # cached while the setting holds
        back = runner.get_client()
        assert back is not external and getattr(back, "cluster", None) is not None
    finally:
        runner.close_client()
        ext.close()
