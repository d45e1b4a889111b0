"""examples/with_ops: the ops routes behind OPS_TOKEN over an in-process work queue, app-local /metrics, and
devtools mounted only when asked for outside production."""
