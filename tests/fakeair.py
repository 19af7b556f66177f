"""A fake Air4Thai on loopback: getNewAQI_JSON.php's shape (every number a string, missing values as
"-1"/"-999"/"N/A", Thai local times without a zone), and the faults the fetcher must survive:
a 500, a hang, a body that is not JSON, a redirect."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/services/getNewAQI_JSON.php"


def station(sid: str, name_th: str, name_en: str, area_th: str, area_en: str, lat: str, lon: str,
            date: str, time: str, pm25: str, *, stype: str = "GROUND", aqi: str | None = None,
            color_id: str | None = None) -> dict:
    """One station as Air4Thai lists it (all strings)."""
    missing = {"color_id": "0", "aqi": "-999", "value": "-1"}
    return {
        "stationID": sid, "nameTH": name_th + " ", "nameEN": name_en, "areaTH": area_th, "areaEN": area_en,
        "stationType": stype, "lat": lat, "long": lon, "forecast": [],
        "AQILast": {
            "date": date, "time": time,
            "PM25": {"color_id": color_id or "1", "aqi": aqi or "9", "value": pm25},
            "PM10": dict(missing), "O3": {"color_id": "1", "aqi": "18", "value": "11"},
            "CO": dict(missing), "NO2": dict(missing), "SO2": dict(missing),
            "AQI": {"color_id": "1", "aqi": "18", "param": "O3"},
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeAir4Thai:
    """Serves whatever stations it is given; fault methods change the next answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.stations: list[dict] = []
        self.requests = 0
        self._faults: list[tuple[str, object]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # quiet
                pass

            def do_GET(self):
                with fake._lock:
                    fake.requests += 1
                    fault = fake._faults.pop(0) if fake._faults else None
                if fault is not None:
                    kind, arg = fault
                    if kind == "hang":
                        fake._release.wait(float(arg))
                        return
                    if kind == "status":
                        self._send(int(arg), b'{"error": "server error"}')
                        return
                    if kind == "body":
                        self._send(200, arg if isinstance(arg, bytes) else str(arg).encode())
                        return
                    if kind == "redirect":
                        self.send_response(301)
                        self.send_header("Location", str(arg))
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                if not self.path.startswith(PATH):
                    self._send(404, b"not found")
                    return
                with fake._lock:
                    body = json.dumps({"stations": fake.stations}, ensure_ascii=False).encode()
                self._send(200, body)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def start(self) -> FakeAir4Thai:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.stations, self._faults, self.requests = [], [], 0

    def serve(self, *stations: dict) -> None:
        with self._lock:
            self.stations = list(stations)

    def fail_next(self, status: int = 500) -> None:
        self._faults.append(("status", status))

    def hang_next(self, seconds: float = 30.0) -> None:
        self._faults.append(("hang", seconds))

    def body_next(self, body: bytes | str) -> None:
        self._faults.append(("body", body))

    def redirect_next(self, location: str) -> None:
        self._faults.append(("redirect", location))
