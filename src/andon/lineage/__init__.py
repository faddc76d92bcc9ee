"""OpenLineage: each run as RunEvents (``emitter``), sent by the openlineage-python client
(``client``, an optional extra)."""
