"""Schemathesis hooks for the Borderlink node API: the console session as authentication.

Every request carries the node operator's console session (the `borderlink_session` cookie of
the `console_session` scheme), opened with `POST /login` and the node's console token, read from
the file named by `BORDERLINK_CONSOLE_TOKEN_FILE` (a node's `DATA/console.token`).

The run also calls `POST /api/v1/node/console-token`, which rotates the token and ends every
session: the session is therefore kept only as long as the token file holds the token it was
opened with, and a new one is opened with the new token after a rotation.
"""

import os
import threading
import urllib.parse

import requests
import schemathesis

COOKIE = "borderlink_session"


@schemathesis.auth(refresh_interval=None)
class ConsoleSession:
    def __init__(self):
        self._lock = threading.Lock()
        self._token = None
        self._session = None

    def get(self, case, context):
        with self._lock:
            token = _read_token()
            if token != self._token or self._session is None:
                # A rotation may land between reading the file and logging in: read it again.
                for _ in range(5):
                    self._session = _login(case.operation.base_url, token)
                    if self._session is not None:
                        break
                    token = _read_token()
                if self._session is None:
                    raise RuntimeError("POST /login refused the console token in BORDERLINK_CONSOLE_TOKEN_FILE")
                self._token = token
            return self._session

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), COOKIE: data}


def _read_token():
    with open(os.environ["BORDERLINK_CONSOLE_TOKEN_FILE"], encoding="utf-8") as f:
        return f.read().strip()


def _login(base_url, token):
    """The session id `POST /login` gives for `token`, or None when it refuses the token."""
    parts = urllib.parse.urlsplit(base_url)
    r = requests.post(f"{parts.scheme}://{parts.netloc}/login", data={"token": token}, allow_redirects=False, timeout=10)
    session = r.cookies.get(COOKIE)
    return session if r.status_code == 303 and session else None
