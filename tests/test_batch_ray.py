"""``ganfill inpaint FOLDER --ray``: the same bytes as the plain folder runner, resuming, a worker
killed mid-run, a corrupt photo, fsspec URLs, and the one-line error without Ray.

One local Ray serves every test of the module; each run starts its own actors, each a process
that imports torch (seconds of CPU), so the Ray has one CPU and a run one actor.  A batch of
batch.py is cut to BATCH_PHOTOS photos here, so that a few photos make several batches (and several
rows for the workers) without the cost of 16 photos each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganfill import batch
from ganfill.cli import main
from ganfill.data.faces import Box

BATCH_PHOTOS = 2     # batch.BATCH_PHOTOS for this module, in the plain runner and in the driver alike
N_FACES = 5          # with the corrupt photo, three batches (2 + 2 + 2): the second is where a worker dies


@pytest.fixture(scope="module", autouse=True)
def small_batches():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch, "BATCH_PHOTOS", BATCH_PHOTOS)
        yield


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    # Workers at normal priority (Ray's default niceness, 15, starves them next to the other tests),
    # and none started ahead of need: each run's actors need their own environment anyway.
    ray.init(num_cpus=1, include_dashboard=False, logging_level="error",
             _system_config={"worker_niceness": 0, "enable_worker_prestart": False,
                             "prestart_worker_first_driver": False})
    yield ray
    ray.shutdown()


def _mask(shape, seed: int) -> np.ndarray:
    """A box hole that moves with ``seed``, so that each photo has its own mask."""
    h, w = shape
    y, x = int(h * (0.3 + 0.02 * (seed % 5))), int(w * (0.25 + 0.03 * (seed % 4)))
    mask = np.zeros((h, w), np.uint8)
    mask[y:y + h // 5, x:x + w // 3] = 255
    return mask


@pytest.fixture(scope="module")
def folder(wild_dir, tmp_path_factory):
    """N_FACES in-the-wild test faces (some in a subfolder), each with its own mask, and a corrupt
    photo among them."""
    root = tmp_path_factory.mktemp("ray-folder")
    images, masks = root / "photos", root / "masks"
    for i, src in enumerate(sorted(wild_dir.glob("*.jpg"))[:N_FACES]):
        rel = Path("sub" if i % 3 == 0 else ".") / src.name
        (images / rel).parent.mkdir(parents=True, exist_ok=True)
        (images / rel).write_bytes(src.read_bytes())
        (masks / rel.parent).mkdir(parents=True, exist_ok=True)
        Image.fromarray(_mask((256, 256), i)).save(masks / rel.with_suffix(".png"))
    (images / "0-broken.jpg").write_bytes(b"\xff\xd8 not a jpeg at all")
    Image.fromarray(_mask((256, 256), 0)).save(masks / "0-broken.png")
    return images, masks


def _plain(images: Path, masks: Path, out: Path, method: str = "telea", **options) -> batch.FolderReport:
    settings = batch.Settings(**options)
    pipe = batch.load_pipeline(method, "cpu", None, None, settings.candidates)
    return batch.fill_folder(pipe, images, out, None, masks, settings, progress=False)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _inpaint(capsys, *args) -> tuple[int, str, str]:
    code = main(["inpaint", *map(str, args), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_ray_writes_the_plain_bytes_reports_the_corrupt_photo_and_resumes(ray_local, folder, tmp_path, capsys):
    images, masks = folder
    plain = _plain(images, masks, tmp_path / "plain")
    code, out, err = _inpaint(capsys, images, "--mask-dir", masks, "-o", tmp_path / "ray", "--method", "telea",
                              "--ray", "--ray-workers", 1)
    assert code == 1 and f"inpainted {N_FACES} of {N_FACES + 1} images" in out, out + err
    assert "0-broken.jpg: " in err and "1 failed" in out
    assert plain.failures[0].split(":")[0] == "0-broken.jpg"
    expected = _files(tmp_path / "plain")
    assert len(expected) == N_FACES and _files(tmp_path / "ray") == expected

    # A rerun skips every complete output, makes again one that is there but not whole (cut short by a
    # crash of another tool; its batch is filled whole, the same batch, but writes only it), and the
    # corrupt photo fails again.
    cut = tmp_path / "ray" / "sub" / sorted(p.name for p in (images / "sub").glob("*.jpg"))[1]
    cut = cut.with_suffix(".png")
    cut.write_bytes(cut.read_bytes()[:3000])
    code, out, err = _inpaint(capsys, images, "--mask-dir", masks, "-o", tmp_path / "ray", "--method", "telea",
                              "--ray-workers", 1)           # implies --ray
    assert code == 1 and f"inpainted 1 of {N_FACES + 1} images" in out, out + err
    assert f"{N_FACES - 1} skipped" in out and "1 failed" in out and "0-broken.jpg: " in err, out + err
    assert _files(tmp_path / "ray") == expected


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_restarted_and_every_output_is_right(ray_local, folder, tmp_path):
    from ganfill.batch_ray import fill_folder_ray

    images, masks = folder
    _plain(images, masks, tmp_path / "plain", seed=5)
    marker = tmp_path / "crashed"
    # The default number of workers, one per CPU of the module's Ray: one, so the run finishes only
    # if the killed actor is restarted and its batch filled again.
    report = fill_folder_ray(str(images), str(tmp_path / "ray"), None, str(masks), batch.Settings(seed=5),
                             {"method": "telea", "device": "cpu", "iterations": None, "detail": None,
                              "candidates": 1}, progress=False, crash_once=str(marker))
    assert marker.exists()                       # a worker process did end in the middle of the run
    assert report.written + report.skipped == N_FACES and [f.split(":")[0] for f in report.failures] == ["0-broken.jpg"]
    assert _files(tmp_path / "ray") == _files(tmp_path / "plain")


@pytest.mark.slow
def test_default_method_on_fsspec_urls_equals_the_plain_batch(ray_local, wild_dir, tmp_path, capsys):
    """The default networks, batched: its bytes equal the plain runner's only if the batches are the
    same (a batched convolution may round a last bit otherwise); folders as file:// URLs, one batch of
    two photos and one of one, on one worker (its own process, not the plain runner's)."""
    images, masks = tmp_path / "photos", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for i, src in enumerate(sorted(wild_dir.glob("*.jpg"))[:3]):
        (images / src.name).write_bytes(src.read_bytes())
        Image.fromarray(_mask((256, 256), i)).save(masks / f"{src.stem}.png")
    plain = _plain(images, masks, tmp_path / "plain", method=None, seed=3, box=Box(0, 0, 256, 256))
    assert plain.written == 3
    code, out, err = _inpaint(capsys, f"file://{images}", "--mask-dir", f"file://{masks}", "-o",
                              f"file://{tmp_path}/ray", "--seed", 3, "--box", "0,0,256,256", "--ray-workers", 1)
    assert code == 0 and "inpainted 3 of 3 images" in out, out + err
    assert _files(tmp_path / "ray") == _files(tmp_path / "plain")


def test_without_ray_the_flag_says_how_to_install_it_and_the_plain_batch_never_imports_it(folder, tmp_path,
                                                                                          capsys, monkeypatch):
    images, masks = folder
    code, out, err = _inpaint(capsys, f"file://{images}", "--mask-dir", masks, "-o", tmp_path / "out")
    assert code == 1 and err.strip().splitlines() == [
        "ganfill: error: a URL (s3://..., gs://..., file://...) is read and written with --ray"]
    with monkeypatch.context() as mp:
        mp.setitem(sys.modules, "ray", None)        # an import of ray now fails, as if not installed
        code, out, err = _inpaint(capsys, images, "--mask-dir", masks, "-o", tmp_path / "out", "--method", "telea",
                                  "--ray")
    assert code == 1 and err.strip().splitlines() == [
        "ganfill: error: --ray needs Ray: pip install 'ganfill[ray]'"], err
    assert not (tmp_path / "out").exists()
    # A fresh interpreter: this one has imported ray for the other tests.
    code = ("import sys\nfrom ganfill.cli import main\n"
            f"main(['inpaint', {str(images / 'sub')!r}, '--mask-dir', {str(masks / 'sub')!r}, '-o', "
            f"{str(tmp_path / 'plain')!r}, '--method', 'telea', '--no-progress'])\n"
            "assert 'ray' not in sys.modules, 'the plain batch imported ray'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "inpainted 2 of 2 images" in r.stdout, r.stderr
