"""``python -m entrypoints`` is the ``talia`` command."""

from entrypoints.cli.main import main

raise SystemExit(main())
