#!/usr/bin/python3
"""A long-lived runner of Debian's unchanged `openstack` CLI for the e2e suites.

/usr/bin/openstack is `sys.exit(openstackclient.shell.main())`. Each request here calls that same
`main(argv)` in this one interpreter, so a suite pays Python's start-up and the import of the
client's modules (about 0.8 s of CPU per call on this machine) once instead of at every call. Every
call still builds a new shell, reads clouds.yaml and authenticates, as a separate process would:
the state the client keeps per process (cached client handles, negotiated API versions) is reset
before every call.

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

from osc_lib import clientmanager as osc_clientmanager
from openstackclient.common import clientmanager
from openstackclient.compute import client as compute_client
from openstackclient.shell import main
from openstackclient.volume import client as volume_client


VOLUME_API_VERSIONS = dict(volume_client.API_VERSIONS)


def forget_process_state():
    """What a new process would not know: the client handles osc_lib caches on the ClientManager
    class (one per API, made by the first call that needs it: its credentials and endpoints), the
    compute and volume API versions a call negotiated, and the volume client's version table (its
    make_client deletes the versions cinderclient lacks, once per process)."""
    for cls in clientmanager.ClientManager.__mro__:
        for value in vars(cls).values():
            if isinstance(value, osc_clientmanager.ClientCache):
                value._handle = None
    compute_client._compute_api_version = None
    volume_client._volume_api_version = None
    volume_client.API_VERSIONS.clear()
    volume_client.API_VERSIONS.update(VOLUME_API_VERSIONS)


def run(request):
    forget_process_state()
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
