"""``python -m tsrec ...`` is the ``tsrec`` command (``tsrec.cli``)."""
from tsrec.cli import main

raise SystemExit(main())
