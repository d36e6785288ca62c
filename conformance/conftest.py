"""Loads the harness plugins; all logic lives in the tcplua_harness package."""
pytest_plugins = ("tcplua_harness.plugin", "tcplua_harness.report")
