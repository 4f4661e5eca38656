# The check_*.py and errors_*.py files are read by mypy (test_types.py), not run.
collect_ignore_glob = ["check_*.py", "errors_*.py"]
