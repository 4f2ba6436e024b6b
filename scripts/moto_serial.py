"""Serve moto's DynamoDB one request at a time on a loopback port.

moto's own server answers requests on threads and its DynamoDB models take no lock, so
concurrent conditional transactions can both succeed there. Real DynamoDB serialises
conflicting transactions; serving requests one by one is the faithful stand-in for race tests.

Prints the chosen port on its first line, then serves until its standard input closes (the
test process that started it has exited) or it is killed, so no server outlives its tests.

It also counts the DynamoDB requests it serves, by operation (`GetItem`, `Query`,
`TransactWriteItems`, ...): `GET /__salon/requests` answers the counts since the last such
request as JSON and starts counting afresh. The request budgets of the functions' tools are
measured this way, on the wire, retries included.
"""

import collections
import json
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


COUNTS_PATH = "/__salon/requests"


def counting(app):
    """Wraps the WSGI app: counts each request by its operation, and serves the counts."""
    counts = collections.Counter()

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == COUNTS_PATH:
            body = json.dumps(counts).encode()
            counts.clear()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        # DynamoDB's JSON protocol names the operation in X-Amz-Target
        # ("DynamoDB_20120810.GetItem"); anything else is counted by its path.
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        counts[target.rpartition(".")[2] if target else environ.get("PATH_INFO", "/")] += 1
        return app(environ, start_response)

    return wrapped


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    app = counting(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, 0, app, threaded=False, processes=1)
    print(server.server_port, flush=True)

    def exit_when_parent_goes() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
