"""A raw Streamlit client, as an attacker writes one: no browser, no front end.

It signs in through the real test OpenID provider with plain HTTP (the app's own « Se
connecter » button is pressed over the websocket, the provider's login and consent forms are
posted), then talks to ``/_stcore/stream`` with hand-built ``BackMsg`` protobufs and decodes
every ``ForwardMsg`` the server sends. Nothing relies on what a browser would show.
"""

from __future__ import annotations

import contextlib
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.wire import Sent, collect


@dataclass
class Element:
    """One element the server drew: its kind, its widget id (if any) and its proto."""

    kind: str
    id: str
    label: str
    proto: object


@dataclass
class Run:
    """What one script run sent."""

    messages: list[ForwardMsg] = field(default_factory=list)

    @property
    def elements(self) -> list[Element]:
        out = []
        for msg in self.messages:
            if msg.HasField("delta") and msg.delta.HasField("new_element"):
                el = msg.delta.new_element
                kind = el.WhichOneof("type")
                inner = getattr(el, kind)
                out.append(Element(kind, getattr(inner, "id", ""), getattr(inner, "label", ""), inner))
        return out

    def widget(self, kind: str, label: str) -> Element:
        """The first widget of ``kind`` whose label contains ``label``."""
        for el in self.elements:
            if el.kind == kind and label in el.label:
                return el
        raise LookupError(f"no {kind} « {label} » in {[(e.kind, e.label) for e in self.elements if e.label]}")

    def has(self, kind: str, label: str = "") -> bool:
        return any(e.kind == kind and label in e.label for e in self.elements)

    def texts(self) -> str:
        return "\n".join(self.sent().texts)

    def sent(self) -> Sent:
        return collect(m.SerializeToString() for m in self.messages)

    def of(self, field_name: str) -> list[ForwardMsg]:
        return [m for m in self.messages if m.WhichOneof("type") == field_name]


class RawSession:
    """One websocket session of the app (one browser tab, without the browser).

    Parameters
    ----------
    base : str
        The app's URL (``http://localhost:<port>``).
    cookies : httpx.Cookies
        The cookies to present (the sign-in cookie, the XSRF cookie), or none at all.
    """

    def __init__(self, base: str, cookies: httpx.Cookies | None = None, *, xsrf: bool = True) -> None:
        self.base = base
        self.cookies = cookies if cookies is not None else httpx.Cookies()
        if xsrf and "_streamlit_xsrf" not in self.cookies:
            with httpx.Client(cookies=self.cookies) as http:
                http.get(base + "/_stcore/health")
                self.cookies.update(http.cookies)
        header = "; ".join(f"{c.name}={c.value}" for c in self.cookies.jar)
        token = self.cookies.get("_streamlit_xsrf") or ""
        ws_url = base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = connect(
            ws_url,
            subprotocols=["streamlit", token] if token else ["streamlit"],
            additional_headers={"Cookie": header, "Origin": base},
            max_size=64 * 1024 * 1024,
            open_timeout=30,
        )
        self.session_id = ""
        self.widgets: dict[str, WidgetState] = {}
        self.page = ""
        self.all: list[ForwardMsg] = []

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()

    def __enter__(self) -> RawSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- sending ------------------------------------------------------------------------
    def send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def receive_until(self, done, timeout: float = 120) -> list[ForwardMsg]:
        """Read frames until ``done(msg)`` is true for one of them (or the timeout)."""
        out: list[ForwardMsg] = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                data = self.ws.recv(timeout=max(0.1, deadline - time.time()))
            except TimeoutError:
                break
            except ConnectionClosed:
                break
            if isinstance(data, str):
                continue
            msg = ForwardMsg.FromString(data)
            if msg.WhichOneof("type") == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            out.append(msg)
            self.all.append(msg)
            if done(msg):
                break
        return out

    def rerun(
        self,
        *,
        page: str | None = None,
        widgets: list[WidgetState] | None = None,
        query: str = "",
        timeout: float = 180,
    ) -> Run:
        """Run the script (as the front end does on load, on a click or a page change) and
        return what that run sent, up to its ``script_finished``."""
        if page is not None:
            self.page = page
        for w in widgets or []:
            self.widgets[w.id] = w
        states = WidgetStates(widgets=list(self.widgets.values()))
        self.send(
            BackMsg(rerun_script=ClientState(query_string=query, widget_states=states, page_name=self.page))
        )
        run = Run(self.receive_until(lambda m: m.WhichOneof("type") == "script_finished", timeout))
        # A trigger (button) is true for one run only, as in the front end.
        for wid, w in list(self.widgets.items()):
            if w.WhichOneof("value") == "trigger_value":
                del self.widgets[wid]
        return run

    def click(self, element: Element, *, page: str | None = None) -> Run:
        return self.rerun(page=page, widgets=[WidgetState(id=element.id, trigger_value=True)])

    def set(self, element: Element, **value) -> None:
        """Give a widget a value for the next runs (``string_value=…``, ``bool_value=…``)."""
        self.widgets[element.id] = WidgetState(id=element.id, **value)

    def backmsg_and_wait(self, msg: BackMsg, seconds: float = 3.0) -> list[ForwardMsg]:
        """Send any BackMsg; return what arrives in the next ``seconds``."""
        self.send(msg)
        return self.receive_until(lambda m: False, seconds)

    def deferred_file(
        self, file_id: str, *, session_id: str | None = None, seconds: float = 30
    ) -> ForwardMsg | None:
        """Ask the server to produce a deferred download (the front end's click on such a button)."""
        from streamlit.proto.BackMsg_pb2 import BackendOperationRequest, DeferredFileRequestPayload

        req = BackendOperationRequest(
            request_id=f"r{time.time_ns()}",
            session_id=session_id or self.session_id,
            deferred_file=DeferredFileRequestPayload(file_id=file_id),
        )
        self.send(BackMsg(backend_operation_request=req))
        got = self.receive_until(lambda m: m.WhichOneof("type") == "backend_operation_response", seconds)
        return next((m for m in got if m.WhichOneof("type") == "backend_operation_response"), None)


def _form(html: str) -> tuple[str, dict[str, str]]:
    """The first form's action and hidden fields of a provider page."""
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    if action is None:
        raise AssertionError(f"no form in the provider's page: {html[:500]}")
    fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    return action.group(1), fields


def sign_in_cookies(base: str, account: str) -> httpx.Cookies:
    """Sign ``account`` in through the real flow and return the browser's cookies.

    The « Se connecter » button is pressed over the websocket; the server answers with the
    redirect the front end would follow; the provider's forms are posted with httpx.
    """
    jar = httpx.Cookies()
    with RawSession(base, jar) as s:
        run = s.rerun(page="")
        button = run.widget("button", "Se connecter")
        s.click(button)
        urls = [m.auth_redirect.url for m in s.all if m.WhichOneof("type") == "auth_redirect"]
        if not urls:
            redirect = s.receive_until(lambda m: m.WhichOneof("type") == "auth_redirect", 30)
            urls = [m.auth_redirect.url for m in redirect if m.WhichOneof("type") == "auth_redirect"]
        if not urls:
            raise AssertionError("the sign-in button sent no redirect")
    login_url = urllib.parse.urljoin(base + "/", urls[0])
    with httpx.Client(cookies=jar, follow_redirects=True, timeout=60) as http:
        page = http.get(login_url)
        action, fields = _form(page.text)
        page = http.post(
            urllib.parse.urljoin(str(page.url), action), data={**fields, "login": account, "password": "x"}
        )
        action, fields = _form(page.text)  # consent
        page = http.post(urllib.parse.urljoin(str(page.url), action), data=fields)
        if "_streamlit_user" not in http.cookies:
            raise AssertionError(f"no sign-in cookie after the flow (last page {page.url})")
        jar.update(http.cookies)
    return jar


@contextlib.contextmanager
def session_as(base: str, account: str | None) -> Iterator[RawSession]:
    """A raw session signed in as ``account`` (None: anonymous, no cookie but XSRF)."""
    cookies = sign_in_cookies(base, account) if account else None
    s = RawSession(base, cookies)
    try:
        yield s
    finally:
        s.close()
