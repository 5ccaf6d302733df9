#!/usr/bin/python3
"""A long-lived runner of Debian's unchanged `openstack` CLI for the e2e suites.

/usr/bin/openstack is `sys.exit(openstackclient.shell.main())`. Each request here calls that same
`main(argv)` in this one interpreter, so a suite pays Python's start-up and the import of the
client's modules (about 0.8 s of CPU per call on this machine) once instead of at every call. Every
call still builds a new shell, reads clouds.yaml and authenticates, as a separate process would.

Protocol: one JSON object per line on stdin, {"args": [...], "env": {"OS_...": "..."}}; one JSON
object per line on stdout, {"code": int, "stdout": str, "stderr": str}. The OS_* environment of
each call is exactly the request's.
"""
import contextlib
import io
import json
import logging
import os
import sys
import warnings

from openstackclient.shell import main


def run(request):
    for key in [k for k in os.environ if k.startswith('OS_')]:
        del os.environ[key]
    os.environ.update(request.get('env', {}))
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger('')
    handlers = list(root.handlers)
    level = root.level
    code = 0
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(request['args']) or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException as e:  # a crash of one call must not end the runner
            err.write('%s: %s\n' % (type(e).__name__, e))
            code = 1
    # The shell adds its console handler to the root logger at each run: drop it again.
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    return {'code': code, 'stdout': out.getvalue(), 'stderr': err.getvalue()}


def serve():
    protocol = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        protocol.write(json.dumps(run(json.loads(line))) + '\n')
        protocol.flush()


if __name__ == '__main__':
    serve()
