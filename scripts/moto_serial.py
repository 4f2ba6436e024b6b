"""Serve moto's DynamoDB one request at a time on a loopback port.

moto's own server answers requests on threads and its DynamoDB models take no lock, so
concurrent conditional transactions can both succeed there. Real DynamoDB serialises
conflicting transactions; serving requests one by one is the faithful stand-in for race tests.

Prints the chosen port on its first line, then serves until its standard input closes (the
test process that started it has exited) or it is killed, so no server outlives its tests.
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, 0, app, threaded=False, processes=1)
    print(server.server_port, flush=True)

    def exit_when_parent_goes() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
