"""moto's server, applying one request at a time.

moto's own `moto_server` serves requests on many threads with no isolation between them: two
concurrent `ADD`s on one item can lose one, and a cancelled transaction restores whole tables as they
were when it began, undoing a concurrent write. DynamoDB serialises writes to an item and isolates
transactions, and the store's conformance suite checks that the adapter keeps those guarantees under
concurrency. So the tests run moto's application behind one lock: requests still arrive concurrently
(the server is threaded, connections are kept alive), and moto applies them one after another.

Usage: python moto_serial.py -H 127.0.0.1 -p PORT (the arguments of moto_server that the tests use).
"""

import argparse
import os
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(
        args.host,
        args.port,
        serial,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
