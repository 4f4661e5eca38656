"""The Django app is imported by the oracle's process only, once Django is configured."""

collect_ignore = ["models.py"]
