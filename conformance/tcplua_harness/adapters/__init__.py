"""Adapters by name: module tcplua_harness.adapters.<name> defines ADAPTER (an Adapter subclass)."""
import importlib
import re


def load_adapter(name, bin_path=None):
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError("--impl %r: adapter names are module names ([A-Za-z0-9_]+)" % name)
    try:
        module = importlib.import_module("%s.%s" % (__name__, name))
    except ModuleNotFoundError as exc:
        if exc.name != "%s.%s" % (__name__, name):
            raise
        raise ValueError("--impl %s: no adapter module tcplua_harness/adapters/%s.py" % (name, name))
    return module.ADAPTER(bin_path)
