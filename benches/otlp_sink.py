#!/usr/bin/env python3
"""A local OTLP/HTTP receiver for benches/run.sh: answers every export 200 at once and
discards it, so the exporter is never the bottleneck of the tracing-on runs. Prints
`listening on http://127.0.0.1:PORT`, and at SIGTERM how many exports and bytes came,
so a run whose exporter sent nothing shows.

Usage: benches/otlp_sink.py [PORT]   (default 0: any free port)
"""
import http.server
import signal
import sys
import threading

exports = 0
received = 0
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection for the whole run

    def do_POST(self):
        global exports, received
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        with lock:
            exports += 1
            received += n
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink)

    def stop(*_):
        print(f"exports {exports} bytes {received}", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
