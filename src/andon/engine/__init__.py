"""The pure engine core: state + event + now -> decisions."""
