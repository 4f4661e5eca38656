"""Serving an app: dispatch on the loop, worker processes and reload.

``dispatch`` turns requests drained from the engine into running views;
``tasks`` starts each request's coroutine eagerly; ``workers`` runs one loop
per process and supervises several; ``reload`` restarts on source changes.
"""
