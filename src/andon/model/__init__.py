"""The domain: assets, partitions, pipelines, pools and the validated graph (no I/O)."""
