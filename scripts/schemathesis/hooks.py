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
        path = os.environ["BORDERLINK_CONSOLE_TOKEN_FILE"]
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
        with self._lock:
            if token != self._token or self._session is None:
                self._session = self._login(case.operation.base_url, token)
                self._token = token
            return self._session

    @staticmethod
    def _login(base_url, token):
        parts = urllib.parse.urlsplit(base_url)
        url = f"{parts.scheme}://{parts.netloc}/login"
        r = requests.post(url, data={"token": token}, allow_redirects=False, timeout=10)
        session = r.cookies.get(COOKIE)
        if r.status_code != 303 or not session:
            raise RuntimeError(f"POST /login answered {r.status_code} without a session cookie")
        return session

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), COOKIE: data}
