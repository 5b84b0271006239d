"""Shared infrastructure: run folders (``io``), resumable sweeps (``sweep``), optimisers (``optim``), progress bars (``progress``) and figure saving (``plotting``)."""
