"""Start-up of every ``controller`` run: logging, the container, the privilege drop,
and the mapping of every error to one line and an exit code."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from pg_backup_manager.adapters.settings import controller_user
from pg_backup_manager.domain.database_names import printable
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.entrypoints import scheduler
from pg_backup_manager.entrypoints.cli import cli, echo
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.monitoring_cli import config_, health, status
from pg_backup_manager.entrypoints.pitr_cli import basebackup, recover
from pg_backup_manager.entrypoints.rendering import backups as render
from pg_backup_manager.entrypoints.restore_cli import resetwal, restore, restore_from_shared, verify

# Defined in their own modules, on the same command group.
MONITORING_COMMANDS = (health, status, config_)
RESTORE_COMMANDS = (restore, restore_from_shared, verify, resetwal)
PITR_COMMANDS = (basebackup, recover)

# Neither needs a user to become, nor any configuration.
_HELP_OR_VERSION = {"-h", "--help", "--version"}
_DEBUG = "--debug"

# Every command takes --debug after its name too (`controller status --debug`), as the
# group does before it: main() reads it from the arguments, the commands never get it.
for _command in cli.commands.values():
    _command.params.append(
        click.Option([_DEBUG], is_flag=True, expose_value=False, help="Show tracebacks of errors.")
    )


def main(argv: Sequence[str] | None = None, *, container: Container | None = None) -> int:
    """Run the command line ``argv`` (default: the process's); return the exit code.

    ``container`` defaults to one built from this process's environment and
    working directory; tests pass one with providers overridden.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _DEBUG in args
    if not [arg for arg in args if arg != _DEBUG]:
        # Like git: no command is a usage error, answered with the help alone.
        click.echo(cli.get_help(click.Context(cli, info_name="controller")))
        return 2
    # Whatever the umask, nothing the controller creates is writable by others.
    os.umask(os.umask(0) | 0o022)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    if container is None:
        container = Container(environ=os.environ, cwd=Path.cwd())
    container.wire()
    scheduler.install_stop_handlers()
    try:
        if not _HELP_OR_VERSION & set(args):
            container.drop_root()(controller_user(container.environ()))
        # The container is the context's object for --version, which reads its environment.
        result = cli.main(args=args, prog_name="controller", standalone_mode=False, obj=container)
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "controller"
        echo_error(f"{error.format_message()} (see '{command} --help')")
        return error.exit_code
    except click.ClickException as error:
        echo_error(render.one_line(error))
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        echo_error("aborted")
        return 1
    except scheduler.StopRequested as stop:
        click.echo(f"stopped by {stop}; nothing half-written was kept", err=True)
        for note in getattr(stop, "__notes__", ()):  # a post-backup command run then failed
            echo_error(note)
        return 0 if args[:1] == ["start"] else 1
    except ControllerError as error:
        if debug:
            raise
        echo_error(render.one_line(error))
        return error.exit_code
    except Exception as error:
        if debug:
            raise
        echo_error(
            f"unexpected {type(error).__name__}: {render.one_line(error)} "
            "(run with --debug for the traceback)"
        )
        return 1
    finally:
        container.unwire()
    return result if isinstance(result, int) else 0


class PrintableFormatter(logging.Formatter):
    """Each log message :func:`~.database_names.printable` (a database's name makes no
    line of its own); a ``--debug`` traceback after it is left as it is."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


def echo_error(message: str) -> None:
    """Print ``message`` as one error line on standard error."""
    echo([render.error(message)])


def run() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
