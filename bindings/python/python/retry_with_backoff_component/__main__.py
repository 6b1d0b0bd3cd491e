"""``python -m retry_with_backoff_component PATH...`` runs the conformance scenarios."""

import sys

from .conformance import main

sys.exit(main())
