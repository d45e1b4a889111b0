"""plumego.x.messaging.scheduler (experimental): Cron and delayed job scheduling.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/messaging family's rules in specs/dependency-rules.yaml.
"""
