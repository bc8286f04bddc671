"""A warm parent for `ehc-triage run` workers that the fault-injection tests kill (tests/faults.py).

Starting `python -m triage run` costs about 3 s of imports and model loading on the test machine;
killing twenty of them would spend a minute only starting. This process pays that once: it imports
the CLI, loads the built model, then reads one command a line from stdin and answers on stdout:

    run CONFIG LOG   fork a child that runs `ehc-triage --config CONFIG run`, its output in LOG;
                     answers the child's pid
    quit             exit

The child is an ordinary process running the service's own `run` command (the scheduler, the IDLE
watcher, the poll and send jobs, signal handlers): the test SIGKILLs or SIGTERMs it by pid. This
parent is single-threaded, so forking it is safe; children are reaped by the kernel (SIGCHLD ignored).
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    import classifier
    from classifier import persistence
    from triage import cli

    # As tests/conftest.py does: the built model's files are read once, here, and every child shares them.
    load_files, loaded = persistence.load_files, {}
    built = classifier.DEFAULT_MODEL_DIR.resolve()

    def load_once(model_dir):
        path = model_dir.resolve()
        if built not in path.parents:
            return load_files(model_dir)
        if path not in loaded:
            loaded[path] = load_files(model_dir)
        return loaded[path]

    persistence.load_files = load_once
    classifier.load()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        config, log = words[1], words[2]
        pid = os.fork()
        if pid == 0:
            _child(cli, config, log)
        print(pid, flush=True)


def _child(cli: object, config: str, log: str) -> None:
    """Become the worker: own session, output to the log file, then the service's `run`."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        try:
            cli.cli(["--config", config, "run"], prog_name="ehc-triage", standalone_mode=True)  # type: ignore[attr-defined]
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
