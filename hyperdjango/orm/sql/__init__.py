"""The SQL layer: the query tree (``query.py``), the compiler (``compiler.py``) and row readers."""
