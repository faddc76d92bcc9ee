"""The andon cord outside the pure core: quarantine and delete of suspect outputs and their
restore by hand, requests to pull and resolve cords, and every cord described as an incident (the
halting itself is engine state: ``andon.engine.cords``)."""
