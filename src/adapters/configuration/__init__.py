"""Every variable the controller reads, declared once: its name, parser, default, whether
it is secret, and one line of help. ``adapters.settings`` parses through these
declarations, ``adapters.config_report`` prints them (``controller config``), and the
README's configuration tables are rendered from them (:mod:`.table`)."""
