"""The standing hostile-input suite: definitions, API requests, files and processes an attacker or
a careless user would send, each asserting the clear error and that nothing was recorded or
written."""
