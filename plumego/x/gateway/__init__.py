"""plumego.x.gateway (beta): the HTTP edge — a streaming reverse proxy on per-backend keep-alive pools
(aiohttp by default, httpx as an option) with load balancing,
health checks and a circuit breaker per backend, path rewrites and header modifiers, the response cache and the
JSON transform middleware; discovery and ipc are experimental subpackages.

::

    gateway = Gateway(GatewayConfig(targets=["http://10.0.0.5:8080", "http://10.0.0.6:8080"],
                                    load_balancer=LeastConnections(), path_rewrite=strip_prefix("/api"),
                                    health_check=HealthCheck(interval=5), circuit_breaker=True))
    app.add_component("gateway", gateway)
    register_proxy(app, "/api", gateway)

Install with ``pip install 'plumego[gateway]'`` (aiohttp, httpx, dnspython, websockets). May import the stable roots its
module.yaml allows, plumego.x.resilience and its own subpackages; never plumego.core, the store or other x families.
"""

from ._backend import Backend, BackendStats, PoolLimits
from ._balance import IPHash, LeastConnections, LoadBalancer, Random, RoundRobin, WeightedRoundRobin
from ._cache import (
    CacheEntry,
    CacheKey,
    MemoryCacheStore,
    cache,
    composite_key,
    default_key,
    header_aware_key,
    no_cache_key,
    path_pattern_key,
    query_param_key,
    tenant_aware_key,
    url_only_key,
    user_aware_key,
)
from ._proxy import Gateway, GatewayConfig, HealthCheck, Target
from ._rewrite import (
    HeaderList,
    HeaderModifier,
    PathRewrite,
    add_header,
    add_prefix,
    chain,
    chain_modifiers,
    delete_header,
    replace_prefix,
    rewrite_map,
    rewrite_regex,
    set_header,
    strip_prefix,
)
from ._routes import register_proxy
from ._transform import (
    TransformError,
    modify_field,
    remove_field,
    rename_field,
    set_field,
    transform,
)
from ._upstream import UpstreamError, UpstreamKind, UpstreamTimeout

__all__ = [
    "Backend",
    "BackendStats",
    "CacheEntry",
    "CacheKey",
    "Gateway",
    "GatewayConfig",
    "HeaderList",
    "HeaderModifier",
    "HealthCheck",
    "IPHash",
    "LeastConnections",
    "LoadBalancer",
    "MemoryCacheStore",
    "PathRewrite",
    "PoolLimits",
    "UpstreamError",
    "UpstreamKind",
    "UpstreamTimeout",
    "Random",
    "RoundRobin",
    "Target",
    "TransformError",
    "WeightedRoundRobin",
    "add_header",
    "add_prefix",
    "cache",
    "chain",
    "chain_modifiers",
    "composite_key",
    "default_key",
    "delete_header",
    "header_aware_key",
    "modify_field",
    "no_cache_key",
    "path_pattern_key",
    "query_param_key",
    "register_proxy",
    "remove_field",
    "rename_field",
    "replace_prefix",
    "rewrite_map",
    "rewrite_regex",
    "set_field",
    "set_header",
    "strip_prefix",
    "tenant_aware_key",
    "transform",
    "url_only_key",
    "user_aware_key",
]
