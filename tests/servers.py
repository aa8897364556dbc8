"""Local test servers, on the loopback address only, each stopped when its `with` block ends."""
import http.server
import socket
import threading
import time
from contextlib import contextmanager


@contextmanager
def http_server(routes: dict, slow_bytes_per_second=None):
    """Serve {"/path": (status, body bytes)} on 127.0.0.1; unknown paths get 404. With slow_bytes_per_second,
    bodies trickle out (for kill-mid-download tests)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = routes.get(self.path, (404, b"<html>not found</html>"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if slow_bytes_per_second is None:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 1024):
                self.wfile.write(body[start:start + 1024])
                time.sleep(1024 / slow_bytes_per_second)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server():
    """Accepts connections and never answers: a client must time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def refused_url() -> str:
    """A loopback URL on a port that nothing listens on: connection refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/"
