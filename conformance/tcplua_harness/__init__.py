"""tcplua conformance harness: adapters, server instances and TCP clients for pytest cases.

Cases use the fixtures from tcplua_harness.plugin (server, impl, adapter); these names are
exported for adapters and helper code."""
from .adapter import Adapter
from .cli import Impl, Result
from .client import Client
from .instance import Instance

__all__ = ["Adapter", "Client", "Impl", "Instance", "Result"]
