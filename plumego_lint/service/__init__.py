"""The service-repo rule family: config, facts, maturity and hygiene rules, report, fix, init.

Public: ``ServiceConfig``/``load_service_config``, ``ServiceContext``, ``Finding``, ``check_tree``,
``check_file``, ``check_paths``. Must not import the CLI; the CLI and the flake8 plugin import this.
"""

from plumego_lint.service.config import ServiceConfig, load_service_config, match_dotted, service_config
from plumego_lint.service.context import Finding, ServiceContext
from plumego_lint.service.runner import SERVICE_CODES, check_file, check_paths, check_tree, is_plumego_repo

__all__ = [
    "SERVICE_CODES", "Finding", "ServiceConfig", "ServiceContext", "check_file", "check_paths", "check_tree",
    "is_plumego_repo", "load_service_config", "match_dotted", "service_config",
]
