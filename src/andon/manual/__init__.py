"""The operations manual: failures grouped by signature (``signature``) under the project's
grouping rules (``rules``)."""
