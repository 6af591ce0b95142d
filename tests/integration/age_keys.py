"""age key pairs for the tests, made by the real ``age-keygen``."""

from __future__ import annotations

import subprocess
from pathlib import Path


def new_key_pair(identity: Path) -> str:
    """Write a new age identity (secret key) at ``identity``; return its public key."""
    identity.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    return subprocess.run(
        ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
