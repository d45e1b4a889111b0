"""plumego.x.data.rw (experimental): primary/replica routing for PostgreSQL on psycopg 3 async pools.

:class:`Cluster` sends writes, locking reads and unknown statements to the primary and safe reads to healthy
replicas (:func:`classify`), pins transactions to the primary, honours :func:`force_primary` and
:func:`prefer_replica`, and takes failing replicas out of rotation until a health check reaches them. Tested
against a real streaming replica made with pg_basebackup. Imports the standard library; psycopg when opened.
"""

from ._cluster import BALANCERS, Cluster, NoReplicaError, force_primary, prefer_replica
from ._policy import Target, classify

__all__ = ["BALANCERS", "Cluster", "NoReplicaError", "Target", "classify", "force_primary", "prefer_replica"]
