#!/usr/bin/env python3
"""Runs a command as a Linux child subreaper, for tests that must know when every
process a shell script left behind has ended.

    subreaper.py OUT ERR COMMAND [ARG...]

The command's stdout and stderr go to the files OUT and ERR (never to this process's
pipes). This process prints `returned <exit code>` as soon as the command itself has
exited, then waits for every descendant the command left behind (orphans are
re-parented to a subreaper instead of init) and prints `all-exited`.
"""

import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    out, err, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"prctl: errno {ctypes.get_errno()}", file=sys.stderr)
        return 2
    pid = os.fork()
    if pid == 0:
        fd_out = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fd_in = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd_in, 0)
        os.dup2(fd_out, 1)
        os.dup2(fd_err, 2)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    print(f"returned {os.waitstatus_to_exitcode(status)}", flush=True)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    print("all-exited", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
