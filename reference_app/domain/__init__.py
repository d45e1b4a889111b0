"""Domain of the reference service: items, their rules and their storage.

Must not import handlers, app wiring, config or anything HTTP; imports the standard library only.
"""
