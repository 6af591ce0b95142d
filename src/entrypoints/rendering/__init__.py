"""What each command shows: its report as lines of text or a JSON document, pure (no I/O)."""
