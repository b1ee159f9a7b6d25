"""A screenshot of the web page after one fill, for the docs: starts `ganfill serve`'s app on a free
loopback port, opens scikit-image's astronaut (a photo in no training set) in headless Chromium, paints a stroke and presses Inpaint.

    python scripts/screenshot_page.py -o docs/images/web-page.png
"""
import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ganfill.server.app import ServerConfig, create_app

p = argparse.ArgumentParser()
p.add_argument("-o", "--output", default="docs/images/web-page.png")
args = p.parse_args()
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = uvicorn.Server(uvicorn.Config(create_app(ServerConfig()), host="127.0.0.1", port=port, log_level="warning"))
threading.Thread(target=server.run, daemon=True).start()
while not server.started:
    time.sleep(0.1)
options = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,760"):
    options.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(f"http://127.0.0.1:{port}/")
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#method option")) > 1)
    # scikit-image's astronaut: a photo in no training set
    from skimage import data as skdata
    astronaut = Path(tempfile.mkdtemp()) / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(astronaut)
    driver.find_element(By.ID, "file").send_keys(str(astronaut))
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "go").is_enabled())
    canvas = driver.find_element(By.ID, "paint")
    ActionChains(driver).move_to_element_with_offset(canvas, -90, 60).click_and_hold() \
        .move_by_offset(90, -50).move_by_offset(60, -30).release().perform()
    driver.find_element(By.ID, "go").click()
    WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "status").text.startswith("done"))
    driver.save_screenshot(args.output)
    print(f"wrote {args.output}")
finally:
    driver.quit()
    server.should_exit = True
