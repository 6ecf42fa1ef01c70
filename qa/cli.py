"""The `qa` command line.

Each subcommand lives in `qa/commands/<name>.py` and is imported only when it runs, so
`qa --help` never pays for torch, FAISS or spaCy. Every problem the user can fix ends as one
line on stderr and exit code 2; Ctrl+C ends with 130 and no traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

# name -> (module, one-line help shown by `qa --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("qa.commands.chat", "Chat with your documents in a terminal app (the default corpus: seeds/)."),
    "ask": ("qa.commands.ask", "Answer one question with the exact words of the sources."),
    "batch": ("qa.commands.batch", "Answer a file of questions (.txt, .jsonl, .csv) into .jsonl or .csv."),
    "search": ("qa.commands.search", "Show the passages that best match a question."),
    "index": ("qa.commands.index", "Build or refresh the index of a file or folder."),
    "eval": ("qa.commands.eval", "Evaluate retrieval and answers on a gold question set."),
    "bench": ("qa.commands.bench", "Measure speed and memory on this machine."),
}


class PipeClosed(Exception):
    """stdout's reader went away (`qa ask … | head`): not an error, the command ends quietly."""


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on demand (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(COMMANDS[cmd_name][0]):
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        return module.command  # type: ignore[no-any-return]

    def invoke(self, ctx: click.Context) -> object:
        """Run the subcommand; a broken pipe leaves as PipeClosed, which click does not turn into exit 1."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise PipeClosed from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="qa", prog_name="qa")
def main() -> None:
    """qa — ask questions of a folder of documents and get extractive answers:
    words that really stand in the documents, each with the file, article and lines
    it comes from.

    \b
    Quick start (the bundled corpus in seeds/ is indexed on first use):
      qa chat                              the terminal chat
      qa ask "How many people were killed?"
      qa index ~/notes && qa chat ~/notes  your own folder of .txt/.md/.pdf/.html/.docx files
    """


def run(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning user errors into one line and exit code 2."""
    from qa.errors import QAError

    prog = "qa"
    _tolerate_undecodable_names()
    try:
        rv = main.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx is not None else prog
        _error(f"{cmd}: {exc.format_message()} (see {cmd} --help)")
        return 2
    except click.ClickException as exc:
        _error(f"{prog}: {exc.format_message()}")
        return exc.exit_code
    except click.Abort:
        _error(f"{prog}: interrupted")
        return 130
    except KeyboardInterrupt:
        _error(f"{prog}: interrupted")
        return 130
    except QAError as exc:
        _error(f"{prog}: error: {exc}")
        return exc.exit_code
    except (PipeClosed, BrokenPipeError):  # `qa ask … | head`: the reader has gone, which is not an error
        _silence_stdout()
        return 0
    except OSError as exc:  # a file or folder the OS refused: the user's to fix, in one line
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _error(f"{prog}: error: {exc.strerror or exc}{where}")
        return 2
    except Exception as exc:  # a bug: still one line, with the way to see the details
        if os.environ.get("QA_DEBUG"):
            raise
        _error(f"{prog}: internal error: {type(exc).__name__}: {exc} (set QA_DEBUG=1 for the traceback)")
        return 1
    return rv if isinstance(rv, int) else 0


def _error(message: str) -> None:
    from qa.safe_text import escape_controls

    # exactly one line, whatever the message held; a path in it may hold control characters
    text = " ".join(escape_controls(message, keep="\n\t\r").split())
    print(text, file=sys.stderr)


def _tolerate_undecodable_names() -> None:
    """Print a path holding undecodable bytes as \\udcXX instead of crashing on it.

    Linux file names are bytes; Python keeps the undecodable ones as lone surrogates, which
    a strict UTF-8 stdout refuses. (stderr already uses backslashreplace.)
    """
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):
            pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again.

    After a broken pipe, Python flushes stdout at exit, fails, prints "Exception ignored"
    and exits 120; the Python docs (signal, "Note on SIGPIPE") recommend exactly this.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced by a test harness: nothing to redirect
        pass


def entry() -> None:
    code = run()
    try:
        sys.stdout.flush()  # what is still buffered goes out now, while a broken pipe can be caught
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code)


if __name__ == "__main__":
    entry()
