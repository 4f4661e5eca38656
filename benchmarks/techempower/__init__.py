"""The pieces of benchmarks/run.py, the one command for the TechEmpower workloads:
``data`` (the tables and what they hold), ``verify`` (is an answer right?), ``stats``
(per-round ratios, medians and ranges), ``cases`` (the servers and how to start them) and
``report`` (the table, the chart and the raw results)."""
