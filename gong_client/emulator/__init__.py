"""A local Gong for dry runs and tests: a real HTTP server with Gong's call-upload endpoints.

It implements ``POST /v2/calls`` and ``PUT /v2/calls/{id}/media`` as the contract describes
(validation with Gong's error shape, Basic/Bearer auth with keys given at start, the
company-wide 3/s and 10,000/day limits answered with 429 and ``Retry-After``, 409 on a
repeated clientUniqueId, media streamed to disk with the 1.5 GB cap), ``GET /v2/calls`` for
finding a call by its clientUniqueId, seeded fault injection (500s, dropped connections,
extra 429s, slow answers), and read-back routes for tests (with the API's credentials):

- ``GET /emulator/calls`` and ``GET /emulator/calls/{id}``: stored calls with their media
  (size, SHA-256, format, declared content type, number of uploads);
- ``GET /emulator/requests``: every API request with its arrival time, status and fault;
- ``GET /emulator/rate``: requests per second as the server saw them (all that arrived, and
  those admitted under the limit), with the most in any one-second window;
- ``GET /emulator/health``.

It listens on loopback (127.0.0.1) unless told otherwise, and never builds a file path from
a request value.
"""

from gong_client.emulator._app import Emulator, create_app
from gong_client.emulator._server import EmulatorServer, serve
from gong_client.emulator._state import EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig", "EmulatorServer", "create_app", "serve"]
