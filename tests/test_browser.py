"""The web page end to end in a real headless Chromium: open a face, paint a stroke, get an image back.

Needs Debian's ``chromium`` and ``chromium-driver`` (setup.sh installs them when it runs as root);
without them the test is skipped with a message saying so.
"""

from __future__ import annotations

import base64
import io
import shutil

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def server(serve):
    from ganfill.server.app import ServerConfig, create_app

    return serve(create_app(ServerConfig(method="lsgan+ae")))


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("no chromium / chromedriver on this machine (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_paint_a_stroke_and_get_the_face_back(server, browser, data_root, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from skimage import data as skdata

    photo = tmp_path / "astronaut.png"          # scikit-image's astronaut: a photo in no training set
    Image.fromarray(skdata.astronaut()).save(photo)
    original = np.asarray(Image.open(photo).convert("RGB"))
    browser.get(server)
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "method")).options) > 1)
    browser.find_element(By.ID, "file").send_keys(str(photo))
    wait.until(EC.element_to_be_clickable((By.ID, "go")))
    browser.find_element(By.ID, "k").clear()
    browser.find_element(By.ID, "k").send_keys("2")

    # A horizontal stroke across the eyes, from the canvas centre.
    canvas = browser.find_element(By.ID, "paint")
    ActionChains(browser).move_to_element_with_offset(canvas, -60, -40).click_and_hold() \
        .move_by_offset(60, 0).move_by_offset(60, 0).release().perform()
    browser.find_element(By.ID, "go").click()
    wait.until(lambda d: d.find_element(By.ID, "status").text.startswith(("done", "could", "the", "no")))
    status = browser.find_element(By.ID, "status").text
    assert status.startswith("done"), status

    src = browser.find_element(By.ID, "result").get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    result = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))
    assert result.shape == original.shape
    changed = (result != original).any(axis=2)
    # The painted stroke was filled, and the rest of the photo is what the browser uploaded
    # (the JPEG decoded by the server, compared with the same decoding here).
    assert 20 < changed.sum() < 0.5 * changed.size
    rows = np.nonzero(changed.any(axis=1))[0]
    assert rows.max() - rows.min() < 0.5 * original.shape[0]       # one horizontal band, not the whole face
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cands img")) == 2
    assert browser.find_element(By.ID, "download").get_attribute("href") == src
