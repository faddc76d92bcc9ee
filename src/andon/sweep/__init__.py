"""Agreed deletions and the 5S sweep: the rules that say what may be deleted and when
(``rules``), which recorded locations andon may remove (``paths``) and the sweep's plan
(``plan``). The rules are pure; the live shell (``andon.live.lifecycle``) reads the facts from
the store, records every deletion as an event and removes the files."""
