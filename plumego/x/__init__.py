"""plumego.x: namespace for the optional extension families.

Nothing is defined here; each family under it has its own module.yaml with its tier.
Stable roots must never import anything below this package.
"""
