"""The reference implementation: this repository's build/tcplua (or $TCPLUA_BIN)."""
import os

from ..adapter import CONFORMANCE_DIR, Adapter


class ReferenceAdapter(Adapter):
    name = "reference"

    def default_bin(self):
        return os.environ.get("TCPLUA_BIN") or str(CONFORMANCE_DIR.parent / "build" / "tcplua")


ADAPTER = ReferenceAdapter
