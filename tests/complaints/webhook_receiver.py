"""A webhook receiver for tests: `python webhook_receiver.py PORT FILE` appends each POST to FILE.

One JSON line per request: its headers and its body, as received. Answers 204.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(
                json.dumps(
                    {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
                )
                + "\n"
            )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
