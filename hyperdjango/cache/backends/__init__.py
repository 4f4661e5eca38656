"""Cache backends: one module per backend, all built on ``base.BaseCache``."""
