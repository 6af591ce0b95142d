"""Giving a server back: the recovery plan, ``recover`` and ``verify --pitr``."""
