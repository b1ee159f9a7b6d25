"""A screenshot of the web page after a real fill, for the README: starts `ganfill serve`'s app (the
default method) on a free loopback port, opens a test face of celeba-wild in headless Chromium, paints
a stroke across the eyes, presses Inpaint and leaves the before/after line in the middle of the hole.

    python scripts/screenshot_page.py -o docs/images/web-page.png
"""
import argparse
import socket
import threading
import time

import uvicorn
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ganfill.data import default_data_root
from ganfill.server.app import ServerConfig, create_app, uvicorn_config

p = argparse.ArgumentParser()
p.add_argument("-o", "--output", default="docs/images/web-page.png")
p.add_argument("--photo", default=str(default_data_root() / "celeba-wild" / "test" / "22712.jpg"),
               help="a face (default: a celeba-wild test face, in no training set)")
p.add_argument("--size", default="1280,900", help="the window, w,h")
args = p.parse_args()
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = uvicorn.Server(uvicorn_config(create_app(ServerConfig(workers=1)), "127.0.0.1", port))
threading.Thread(target=server.run, daemon=True).start()
while not server.started:
    time.sleep(0.1)
options = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={args.size}"):
    options.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(f"http://127.0.0.1:{port}/")
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#method option")) > 1)
    driver.find_element(By.ID, "file").send_keys(args.photo)
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "go").is_enabled())
    driver.execute_script("const s = document.getElementById('size'); s.value = 22;"
                          "s.dispatchEvent(new Event('input'));")
    # A stroke across both eyes: from 30 % to 70 % of the photo's width, at 40 % of its height.
    with Image.open(args.photo) as im:
        size = im.size
    # The photo fits the view, centred.
    left, top, w, h = driver.execute_script("""
        const r = document.getElementById('view').getBoundingClientRect(), z = parseFloat(
          document.getElementById('zoom-out-text').textContent) / 100;
        const w = arguments[0] * z, h = arguments[1] * z;
        return [r.left + (r.width - w) / 2, r.top + (r.height - h) / 2, w, h];""", *size)
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(round(left + 0.3 * w), round(top + 0.4 * h)).pointer_down()
    for f in (0.4, 0.5, 0.6, 0.7):
        actions.pointer_action.move_to_location(round(left + f * w), round(top + 0.4 * h))
    actions.pointer_action.pointer_up()
    actions.perform()
    driver.find_element(By.ID, "go").click()
    WebDriverWait(driver, 300).until(lambda d: d.find_element(By.ID, "status").text.startswith("Filled"))
    driver.save_screenshot(args.output)
    print(f"wrote {args.output}: {driver.find_element(By.ID, 'status').text}")
finally:
    driver.quit()
    server.should_exit = True
