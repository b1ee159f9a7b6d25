"""The web page end to end in a real headless Chromium: opening a photo (picker, drop, paste), painting
at 200 % zoom, undo and redo, an uploaded mask, the face box when no face is found, cancel, the
before/after slider, candidates, a 4,000 x 3,000 photo, the keyboard and a phone-sized screen.

What the page sends is read where the API receives it (a pass-through in front of the app that keeps
each /api/inpaint form), so "the brush lands on the right pixels" is checked on the real mask.
Needs Debian's ``chromium`` and ``chromium-driver`` (setup.sh installs them when it runs as root);
without them every test here is skipped with a message saying so.  Screenshots of each step go to
``$GANFILL_PAGE_SHOTS`` (default: a temporary folder).  The frame times measured on the large photo
are written to docs/results/page-frame-time.json; nothing is timed as a pass/fail.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import io
import json
import os
import platform
import shutil
import socket
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ROOT = Path(__file__).resolve().parent.parent

# Every test drives a headless Chromium against a real server: 5-35 s each on 2 CPU cores.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no chromium / chromedriver on this machine "
                                 "(apt-get install chromium chromium-driver); the browser tests are skipped")]


class Recorder:
    """An ASGI pass-through in front of the app: keeps the form of each POST /api/inpaint as it
    arrives, and, while ``hold_s`` is set, holds a request that long before the app sees it (a slow
    request, to cancel), noting whether the client went away meanwhile."""

    def __init__(self, app):
        self.app = app
        self.forms: list[dict[str, bytes]] = []
        self.hold_s = 0.0
        self.gone = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/api/inpaint":
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.gone += 1
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.forms.append(_parse_form(dict(scope["headers"])[b"content-type"], body))
        if self.hold_s:
            try:
                if (await asyncio.wait_for(receive(), self.hold_s))["type"] == "http.disconnect":
                    self.gone += 1
                    return
            except asyncio.TimeoutError:
                pass
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _parse_form(content_type: bytes, body: bytes) -> dict[str, bytes]:
    message = email.message_from_bytes(b"Content-Type: " + content_type + b"\r\n\r\n" + body,
                                       policy=email.policy.HTTP)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}


@pytest.fixture(scope="module")
def server():
    """One server for the module: Telea (fast) by default; the other methods by name."""
    import uvicorn

    from ganfill.server.app import ServerConfig, create_app, uvicorn_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(ServerConfig(method="telea", workers=1))
    config = uvicorn_config(app, "127.0.0.1", port)
    recorder = config.app = Recorder(app)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    recorder.url = f"http://127.0.0.1:{port}/"
    yield recorder
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("GANFILL_PAGE_SHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def driver(downloads):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(DRIVER), options=options)
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield d
    d.quit()


@pytest.fixture
def page(server, driver):
    """The page freshly loaded, its method menu filled; the recorder emptied."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server.forms.clear()
    server.hold_s = 0.0
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.get(server.url)
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#method option")) > 1)
    return driver


# ------------------------------------------------------------------ helpers

def _by_id(d, element_id):
    from selenium.webdriver.common.by import By

    return d.find_element(By.ID, element_id)


def _wait(d, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout, poll_frequency=0.05).until(condition)


def _status(d) -> str:
    return _by_id(d, "status").text


def _wait_status(d, *starts, timeout=120) -> str:
    from selenium.common.exceptions import TimeoutException

    try:
        _wait(d, lambda d: _status(d).startswith(starts), timeout)
    except TimeoutException:
        errors = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
        raise AssertionError(f"waited for {starts}; the status says {_status(d)!r}; browser errors: {errors}")
    return _status(d)


def _open(d, path: Path):
    _by_id(d, "file").send_keys(str(path))
    with Image.open(path) as im:
        w, h = im.size
    _wait_status(d, f"{w} × {h} photo")


def _inpaint(d, expect="Filled", timeout=120) -> str:
    # The page says "Inpainting…" only once the mask is encoded (an await after the click); until
    # then the status is the previous fill's, which must not pass for this one's answer.
    d.execute_script("document.getElementById('status').textContent = '';")
    _by_id(d, "go").click()
    return _wait_status(d, expect, "No", "Nothing", "The", "Could", "Cancelled", timeout=timeout)


def _drag(d, points, button_down=True):
    """A pointer drag through viewport points (CSS px)."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    actions = ActionBuilder(d)
    actions.pointer_action.move_to_location(*points[0])
    if button_down:
        actions.pointer_action.pointer_down()
    for p in points[1:]:
        actions.pointer_action.move_to_location(*p)
    if button_down:
        actions.pointer_action.pointer_up()
    actions.perform()


def _keys(d, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(d)
    for k in keys:
        chain.send_keys(k)
    chain.perform()


def _chord(d, modifiers, key):
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(d)
    for m in modifiers:
        chain.key_down(m)
    chain.send_keys(key)
    for m in reversed(modifiers):
        chain.key_up(m)
    chain.perform()


def _received_mask(server, index=-1) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(server.forms[index]["mask"])).convert("L")) > 127


def _result(d) -> np.ndarray:
    """The chosen result, as the page offers it for download (a blob: URL), read in the page."""
    b64 = d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(document.getElementById('download').href).then(r => r.blob()).then(b => {
          const f = new FileReader(); f.onload = () => done(f.result.split(',')[1]); f.readAsDataURL(b); });""")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def _view_pixels(d) -> np.ndarray:
    """The view canvas as the screen shows it, (H, W, 3) in CSS px (the headless device ratio is 1)."""
    data = d.execute_script("""
        const c = document.getElementById('canvas');
        return c.toDataURL('image/png').split(',')[1];""")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def _view_origin(d) -> tuple[float, float]:
    r = d.execute_script("const r = document.getElementById('view').getBoundingClientRect(); return [r.left, r.top];")
    return r[0], r[1]


def _shot(d, shots: Path, name: str):
    d.save_screenshot(str(shots / f"{name}.png"))


def _send_file_event(d, path: Path, kind: str):
    """Drops (kind="drop") or pastes (kind="paste") the file at ``path`` into the page, as the
    browser would deliver it: a DataTransfer holding the File."""
    data = base64.b64encode(path.read_bytes()).decode()
    d.execute_script("""
        const [b64, name, kind] = arguments;
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, {type: 'image/png'}));
        if (kind === 'drop') {
          const view = document.getElementById('view');
          view.dispatchEvent(new DragEvent('dragenter', {dataTransfer: dt, bubbles: true, cancelable: true}));
          view.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
          view.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        } else {
          document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
        }""", data, path.name, kind)


# ------------------------------------------------------------------ photos

def _pattern(w: int, h: int) -> np.ndarray:
    """A smooth colour photo with no pure green in it (so that markers can be found on screen)."""
    y, x = np.ogrid[0:h, 0:w]          # a row and a column, broadcast: full grids cost a second at 4000 x 3000
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[..., 0] = 40 + 160 * x / w
    rgb[..., 1] = 60 + 100 * y / h
    rgb[..., 2] = 90 + 60 * ((x // 37 + y // 29) % 2)
    return rgb


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> tuple[Path, list[tuple[int, int]]]:
    """An 800 x 600 photo with two 3 x 3 pure-green markers near its centre; their centre pixels."""
    rgb = _pattern(800, 600)
    centres = [(383, 291), (421, 306)]
    for x, y in centres:
        rgb[y - 1:y + 2, x - 1:x + 2] = (0, 255, 0)
    path = tmp_path_factory.mktemp("photos") / "marked.png"
    Image.fromarray(rgb).save(path)
    return path, centres


@pytest.fixture(scope="module")
def red_square(tmp_path_factory) -> Path:
    """A 600 x 400 photo with a red square in the middle (x 250-350, y 150-250)."""
    rgb = _pattern(600, 400)
    rgb[150:250, 250:350] = (230, 0, 0)
    path = tmp_path_factory.mktemp("photos") / "red-square.png"
    Image.fromarray(rgb).save(path)
    return path


def _marker_centres_on_screen(d) -> list[tuple[float, float]]:
    """Where the green markers are on screen (viewport CSS px), found in the pixels the view shows."""
    from scipy import ndimage

    pixels = _view_pixels(d).astype(int)
    green = (pixels[..., 1] > 200) & (pixels[..., 0] < 60) & (pixels[..., 2] < 60)
    labels, n = ndimage.label(green)
    ox, oy = _view_origin(d)
    centres = []
    for sl in ndimage.find_objects(labels):
        ys, xs = sl
        centres.append((ox + (xs.start + xs.stop) / 2, oy + (ys.start + ys.stop) / 2))
    return sorted(centres)


# ------------------------------------------------------------------ the tests

def test_open_by_picker_drop_and_paste_and_upload_a_mask(page, server, red_square, marked, tmp_path, shots):
    d = page
    _shot(d, shots, "01-empty")
    _send_file_event(d, red_square, "drop")
    _wait_status(d, "600 × 400 photo")
    assert not _by_id(d, "empty").is_displayed()

    # A mask painted elsewhere: white = hole, the red square and a margin.
    hole = np.zeros((400, 600), np.uint8)
    hole[140:260, 240:360] = 255
    Image.fromarray(hole).save(tmp_path / "hole.png")
    _by_id(d, "maskfile").send_keys(str(tmp_path / "hole.png"))
    _wait_status(d, "Mask loaded")
    _shot(d, shots, "02-dropped-photo-uploaded-mask")
    assert _inpaint(d).startswith("Filled the hole in ")
    np.testing.assert_array_equal(_received_mask(server), hole > 127)
    assert server.forms[-1]["image"] == red_square.read_bytes()   # the photo as dropped, byte for byte
    assert _by_id(d, "results").is_displayed()
    _shot(d, shots, "03-filled")

    # Pasting another photo opens it and clears the old result and the old hole.
    _send_file_event(d, marked[0], "paste")
    _wait_status(d, "800 × 600 photo")
    assert not _by_id(d, "results").is_displayed()
    assert not _by_id(d, "comparebar").is_displayed()
    assert _inpaint(d, "Nothing").startswith("Nothing to fill yet")
    assert len(server.forms) == 1                    # nothing was sent for the empty hole

    # And the file picker.
    _open(d, red_square)
    assert _by_id(d, "go").is_enabled()


def test_painting_at_200_percent_lands_on_the_photo_pixels_with_undo_and_redo(page, server, marked, shots):
    from selenium.webdriver.common.keys import Keys

    d = page
    path, (a, b) = marked
    _open(d, path)
    _by_id(d, "actual").click()
    _keys(d, "+", "+")
    _wait(d, lambda d: _by_id(d, "zoom-out-text").text == "200 %")
    for _ in range(30):
        _keys(d, "[")
    assert _by_id(d, "size-out").text == "1 px"
    (sa, sb) = _marker_centres_on_screen(d)
    # At 200 % a 3 x 3 marker is 6 x 6 screen pixels.
    _drag(d, [(round(sa[0]), round(sa[1]))])
    _keys(d, "]", "]", "]", "]")
    assert _by_id(d, "size-out").text == "5 px"
    _drag(d, [(round(sa[0]), round(sa[1])), (round((sa[0] + sb[0]) / 2), round((sa[1] + sb[1]) / 2)),
              (round(sb[0]), round(sb[1]))])
    _shot(d, shots, "04-painted-at-200")

    _chord(d, [Keys.CONTROL], "z")                   # the stroke undone: the 1-px dot alone
    _inpaint(d)
    dot = _received_mask(server)
    assert list(zip(*np.nonzero(dot)[::-1])) == [a], "the 1-px brush must paint exactly the pixel under it"

    _chord(d, [Keys.CONTROL, Keys.SHIFT], "z")       # redo: the stroke is back
    _inpaint(d)
    assert _by_id(d, "zoom-out-text").text == "200 %"   # the result shown where the painting was
    stroke = _received_mask(server)
    ys, xs = np.nonzero(stroke)
    assert stroke[a[1], a[0]] and stroke[b[1], b[0]]
    # Every painted pixel within the 5-px brush's reach (2.5 px) of the segment from a to b, give or
    # take the pixel the drag's middle point snapped to.
    p, q = np.array(a, float), np.array(b, float)
    t = np.clip(((np.stack([xs, ys], 1) - p) @ (q - p)) / ((q - p) @ (q - p)), 0, 1)
    distance = np.linalg.norm(np.stack([xs, ys], 1) - (p + t[:, None] * (q - p)), axis=1)
    assert distance.max() <= 3.5
    length = np.linalg.norm(q - p)
    assert 0.7 * 5 * length < stroke.sum() < 5 * length + 40
    _shot(d, shots, "05-filled-at-200")


def test_no_face_found_then_the_drawn_box_fills(page, server, tmp_path, shots):
    from selenium.webdriver.support.ui import Select

    from skimage import data as skdata

    d = page
    photo = tmp_path / "coffee.png"                  # a cup of coffee: no face to find
    Image.fromarray(skdata.coffee()).save(photo)
    _open(d, photo)
    Select(_by_id(d, "method")).select_by_value("ae-only")
    _by_id(d, "fit").click()
    rect = d.execute_script("return document.getElementById('view').getBoundingClientRect().toJSON();")
    cx, cy = rect["left"] + rect["width"] / 2, rect["top"] + rect["height"] / 2
    _drag(d, [(round(cx - 20), round(cy)), (round(cx + 20), round(cy))])
    message = _inpaint(d, "No face")
    assert message.startswith("No face found. Draw a box around the face"), message
    assert "--box" not in message
    assert _by_id(d, "tool-box").get_attribute("aria-pressed") == "true"
    _shot(d, shots, "06-no-face-found")

    _drag(d, [(round(cx - 120), round(cy - 110)), (round(cx + 40), round(cy)), (round(cx + 120), round(cy + 110))])
    box = [int(v) for v in _by_id(d, "box").get_attribute("value").split(",")]
    assert box[2] > 100 and box[3] > 100
    assert _inpaint(d).startswith("Filled 1 face in ")
    assert server.forms[-1]["box"].decode() == ",".join(map(str, box))
    hole = _received_mask(server)
    assert hole.any()
    assert (box[0] <= np.nonzero(hole)[1].min()) and (np.nonzero(hole)[1].max() < box[0] + box[2])
    original = np.asarray(Image.open(photo).convert("RGB"))
    filled = _result(d)
    assert (filled[hole] != original[hole]).any()
    np.testing.assert_array_equal(filled[~hole], original[~hole])
    _shot(d, shots, "07-filled-with-the-drawn-box")


def test_cancel_aborts_the_request(page, server, red_square, shots):
    d = page
    _open(d, red_square)
    _drag(d, [(700, 500), (760, 500)])
    server.hold_s = 30.0
    gone = server.gone
    _by_id(d, "go").click()
    _wait(d, lambda d: _by_id(d, "busy").is_displayed() and len(server.forms) == 1)
    assert _by_id(d, "go").get_attribute("disabled")
    _shot(d, shots, "08-running")
    _by_id(d, "cancel").click()
    assert _wait_status(d, "Cancelled", timeout=10) == "Cancelled."
    _wait(d, lambda d: server.gone == gone + 1, timeout=10)          # the connection was closed
    assert not _by_id(d, "busy").is_displayed()
    assert not _by_id(d, "results").is_displayed()
    assert _by_id(d, "go").is_enabled()


def test_before_after_slider_shows_both_images(page, server, red_square, shots):
    from selenium.webdriver.common.keys import Keys

    d = page
    _open(d, red_square)
    hole = np.zeros((400, 600), np.uint8)
    hole[140:260, 240:360] = 255
    tmp = red_square.parent / "slider-hole.png"
    Image.fromarray(hole).save(tmp)
    _by_id(d, "maskfile").send_keys(str(tmp))
    _wait_status(d, "Mask loaded")
    _inpaint(d)

    def redness(x_frac):
        """How red the view is at the square's middle row, ``x_frac`` of the way across the square."""
        rect = d.execute_script("return document.getElementById('view').getBoundingClientRect().toJSON();")
        pixels = _view_pixels(d).astype(int)
        zoom = float(_by_id(d, "zoom-out-text").text.rstrip(" %")) / 100
        # The photo fits the view, centred: its pixel (x, y) is at these screen coordinates.
        left = (rect["width"] - 600 * zoom) / 2
        top = (rect["height"] - 400 * zoom) / 2
        x, y = left + (250 + 100 * x_frac) * zoom, top + 200 * zoom
        r, g, b = pixels[round(y), round(x)]
        return r - max(g, b)

    slider = _by_id(d, "compare")
    slider.send_keys(Keys.END)                        # all before: the red square
    assert redness(0.2) > 150 and redness(0.8) > 150
    slider.send_keys(Keys.HOME)                       # all after: filled, no red
    assert redness(0.2) < 60 and redness(0.8) < 60
    d.execute_script("const s = document.getElementById('compare'); s.value = 50;"
                     "s.dispatchEvent(new Event('input', {bubbles: true}));")
    assert redness(0.2) > 150 and redness(0.8) < 60  # the line at the middle: before left, after right
    # The line itself dragged to a quarter of the view's width, left of the square: all after there.
    rect = d.execute_script("return document.getElementById('view').getBoundingClientRect().toJSON();")
    _drag(d, [(round(rect["left"] + rect["width"] / 2), round(rect["top"] + 60)),
              (round(rect["left"] + rect["width"] * 0.35), round(rect["top"] + 60)),
              (round(rect["left"] + rect["width"] * 0.25), round(rect["top"] + 60))])
    assert abs(float(slider.get_attribute("value")) - 25) < 1
    assert redness(0.2) < 60 and redness(0.8) < 60
    _shot(d, shots, "09-slider")


def test_candidates_use_this_result_and_the_real_method(page, server, data_root, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = page
    face = data_root / "celeba-wild" / "test" / "22715.jpg"
    if not face.exists():
        pytest.skip(f"{face} is not on this machine")
    _open(d, face)
    Select(_by_id(d, "method")).select_by_value("lsgan+ae-wild")
    _by_id(d, "k").clear()
    _by_id(d, "k").send_keys("2")
    rect = d.execute_script("return document.getElementById('view').getBoundingClientRect().toJSON();")
    cx, cy = rect["left"] + rect["width"] / 2, rect["top"] + rect["height"] / 2
    _drag(d, [(round(cx - 140), round(cy - 60)), (round(cx), round(cy - 60)), (round(cx + 140), round(cy - 60))])
    message = _inpaint(d, timeout=300)
    assert message.startswith("Filled 1 face in ") and "2 candidates" in message, message
    thumbs = d.find_elements(By.CSS_SELECTOR, "#cands button")
    assert len(thumbs) == 2
    first = _result(d)
    thumbs[1].click()
    assert thumbs[1].get_attribute("aria-pressed") == "true"
    second = _result(d)
    hole = _received_mask(server)
    assert (first[hole] != second[hole]).any()        # two candidates, two fills
    np.testing.assert_array_equal(first[~hole], second[~hole])
    _shot(d, shots, "10-candidates")

    _by_id(d, "use").click()
    _wait_status(d, "Using the result")
    assert not _by_id(d, "results").is_displayed()
    _by_id(d, "tool-brush").click()
    _drag(d, [(round(cx - 30), round(cy + 80)), (round(cx + 30), round(cy + 80))])
    Select(_by_id(d, "method")).select_by_value("telea")
    _inpaint(d)
    sent = np.asarray(Image.open(io.BytesIO(server.forms[-1]["image"])).convert("RGB"))
    np.testing.assert_array_equal(sent, second)      # the next fill starts from the chosen result


def test_a_4000_by_3000_photo_zooms_pans_and_downloads_at_full_size(page, server, downloads, tmp_path, shots):
    d = page
    photo = tmp_path / "large.png"
    original = _pattern(4000, 3000)
    Image.fromarray(original).save(photo)
    t0 = time.perf_counter()
    _open(d, photo)
    open_s = time.perf_counter() - t0
    _by_id(d, "tool-pan").click()
    frames = d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const view = document.getElementById('view'), r = view.getBoundingClientRect();
        const frame = () => new Promise(res => requestAnimationFrame(res));
        const out = {idle: [], zoom: [], pan: [], zoom_script: [], pan_script: []};
        (async () => {
          let t = await frame();
          for (let i = 0; i < 40; i++) { const t2 = await frame(); out.idle.push(t2 - t); t = t2; }  // the baseline
          for (let i = 0; i < 80; i++) {          // wheel in towards an eye-sized spot, then back out
            view.dispatchEvent(new WheelEvent('wheel', {deltaY: i < 40 ? -40 : 40, bubbles: true, cancelable: true,
              clientX: r.left + r.width * 0.4, clientY: r.top + r.height * 0.45}));
            const t2 = await frame(); out.zoom.push(t2 - t); out.zoom_script.push(performance.now() - t2); t = t2;
          }
          const opts = (x, y) => ({pointerId: 7, pointerType: 'mouse', button: 0, buttons: 1, bubbles: true,
                                   clientX: r.left + x, clientY: r.top + y});
          view.dispatchEvent(new PointerEvent('pointerdown', opts(300, 300)));
          t = await frame();
          for (let i = 1; i <= 80; i++) {          // a drag across the photo and back
            const dx = 300 + 250 * Math.sin(i / 80 * 2 * Math.PI);
            view.dispatchEvent(new PointerEvent('pointermove', opts(dx, 300 + i)));
            const t2 = await frame(); out.pan.push(t2 - t); out.pan_script.push(performance.now() - t2); t = t2;
          }
          view.dispatchEvent(new PointerEvent('pointerup', opts(300, 380)));
          done(out);
        })();""")
    _shot(d, shots, "11-large-zoomed")

    def summary(values):
        v = sorted(values)
        return {"frames": len(v), "median_ms": round(statistics.median(v), 1),
                "p95_ms": round(v[int(0.95 * (len(v) - 1))], 1), "max_ms": round(v[-1], 1)}

    version = d.capabilities.get("browserVersion", "?")
    result = {
        "what": "the web page with a 4000 x 3000 PNG: frame intervals (requestAnimationFrame) while "
                "one wheel step (zoom about a point) or one pan drag step is sent per frame, and with "
                "nothing sent (idle: the browser's own pace on this machine); script: time from the "
                "frame's start to the end of the page's drawing; open_photo_s: from choosing the file "
                "to the photo on screen",
        "command": "GANFILL_THREADS=1 .venv/bin/python -m pytest -q tests/test_browser.py -k 4000",
        "browser": f"headless Chromium {version}, --disable-gpu (software rendering), window 1400 x 1000",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "open_photo_s": round(open_s, 2),
        "idle": summary(frames["idle"]),
        "zoom": {**summary(frames["zoom"]), "script": summary(frames["zoom_script"])},
        "pan": {**summary(frames["pan"]), "script": summary(frames["pan_script"])},
    }
    out = ROOT / "docs" / "results" / "page-frame-time.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out)

    # Paint a hole (fit, brush), fill it, download the PNG.
    _by_id(d, "fit").click()
    _by_id(d, "tool-brush").click()
    rect = d.execute_script("return document.getElementById('view').getBoundingClientRect().toJSON();")
    cx, cy = rect["left"] + rect["width"] / 2, rect["top"] + rect["height"] / 2
    _drag(d, [(round(cx - 50), round(cy)), (round(cx + 50), round(cy + 20))])
    assert _inpaint(d, timeout=300).startswith("Filled the hole in ")
    for f in downloads.glob("*"):
        f.unlink()
    _by_id(d, "download").click()
    _wait(d, lambda d: [f for f in downloads.glob("*.png")], timeout=60)
    path = next(downloads.glob("*.png"))
    assert path.name == "large-filled.png"
    filled = np.asarray(Image.open(path).convert("RGB"))
    hole = _received_mask(server)
    assert filled.shape == original.shape == hole.shape + (3,)
    np.testing.assert_array_equal(filled[~hole], original[~hole])
    assert (filled[hole] != original[hole]).any()


def test_keyboard_labels_and_focus(page, red_square):
    from selenium.webdriver.common.keys import Keys

    d = page
    _open(d, red_square)        # the system's file dialog itself is not the page's to test
    unlabelled = d.execute_script("""
        return [...document.querySelectorAll('input:not([hidden]), select, button')]
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
          .map(e => e.id);""")
    assert unlabelled == []
    order = []
    body = d.find_element("tag name", "body")
    body.click()
    for _ in range(40):
        _keys(d, Keys.TAB)
        el = d.switch_to.active_element
        order.append(el.get_attribute("id"))
        outline = d.execute_script("const s = getComputedStyle(arguments[0]); return parseFloat(s.outlineWidth);", el)
        assert outline >= 2, f"no visible focus on #{order[-1]}"
    reached = set(order)
    for element_id in ("open", "tool-brush", "tool-box", "size", "undo", "fit", "actual", "view", "method",
                       "seed", "box", "go"):
        assert element_id in reached, element_id
    start = order.index("open")                 # one round of the Tab order, from the first control
    cycle = order[start:] + order[:start]
    assert cycle.index("view") < cycle.index("method") < cycle.index("go")


def _touch(d, kind, points):
    d.execute_cdp_cmd("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})


def test_a_phone_screen_and_touch(page, server, red_square, shots):
    d = page
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    d.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})
    try:
        d.get(d.current_url)
        _wait(d, lambda d: len(d.find_elements("css selector", "#method option")) > 1)
        _open(d, red_square)
        sizes = d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth,"
                                 " document.getElementById('view').getBoundingClientRect().width];")
        assert sizes[0] <= sizes[1] == 390, sizes       # no sideways scrolling
        assert sizes[2] > 340
        rect = d.execute_script("return document.getElementById('view').getBoundingClientRect().toJSON();")
        cx, cy = rect["left"] + rect["width"] / 2, rect["top"] + rect["height"] / 2

        # One finger paints.
        _touch(d, "touchStart", [(cx - 30, cy)])
        for x in range(-20, 31, 10):
            _touch(d, "touchMove", [(cx + x, cy)])
        _touch(d, "touchEnd", [])
        _shot(d, shots, "12-phone-painted")
        d.execute_script("window.scrollTo(0, document.body.scrollHeight)")     # down to the Inpaint button
        assert _inpaint(d).startswith("Filled")
        painted = _received_mask(server)
        assert painted.any()
        # The result is over the photo, on screen.
        _wait(d, lambda d: d.execute_script("const r = document.getElementById('view').getBoundingClientRect();"
                                            " return r.top >= 0 && r.bottom <= innerHeight"), timeout=5)

        # Two fingers zoom (and paint nothing).
        zoom = _by_id(d, "zoom-out-text").text
        _touch(d, "touchStart", [(cx - 20, cy - 20), (cx + 20, cy + 20)])
        for step in range(1, 6):
            _touch(d, "touchMove", [(cx - 20 - 12 * step, cy - 20 - 12 * step), (cx + 20 + 12 * step, cy + 20 + 12 * step)])
        _touch(d, "touchEnd", [])
        assert float(_by_id(d, "zoom-out-text").text.rstrip(" %")) > 2 * float(zoom.rstrip(" %"))
        _by_id(d, "edit").click()
        assert _inpaint(d).startswith("Filled")
        np.testing.assert_array_equal(_received_mask(server), painted)
        d.execute_script("window.scrollTo(0, 0)")
        _shot(d, shots, "13-phone-zoomed")
    finally:
        d.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
