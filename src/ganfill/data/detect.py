"""Finding the faces of a photo: dlib's HOG detector on the padded photo, HOG on the photo turned,
dlib's CNN detector and OpenCV's Haar cascades, in turn, and dlib's face landmarks to frame them
(docs/photos.md: rates, times and the calibration of each box to the Haar framing that
:data:`~ganfill.data.faces.FACE_SCALE` crops)."""

from __future__ import annotations

import threading

import numpy as np

from .faces import FACE_SCALE, WILD_FRAMING, Box, _border

#: tried in turn until one finds a face: (cascade file, minNeighbors).  On 300 aligned CelebA
#: photos the first finds faces in 273, the three together in 287 (docs/photos.md).
CASCADES = (("haarcascade_frontalface_default.xml", 5), ("haarcascade_frontalface_alt2.xml", 3),
            ("haarcascade_profileface.xml", 3))
# One set of cascades per thread: OpenCV does not promise that one CascadeClassifier may run
# detectMultiScale from two threads at once (a server's workers share a pipeline).
_loaded = threading.local()


def _cascade(name: str):
    import cv2

    cascades = _loaded.__dict__
    if name not in cascades:
        path = cv2.data.haarcascades + name
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's face cascade is missing ({path}); reinstall opencv-contrib-python-headless<5")
        cascades[name] = cascade
    return cascades[name]


def detect_faces(image: np.ndarray) -> list[Box]:
    """Faces in a uint8 RGB ``(H, W, 3)`` image, largest first, as boxes in the Haar cascades'
    framing (so that :data:`FACE_SCALE` frames every one like the training faces).

    dlib's HOG detector first, on the photo padded by a quarter of its side (a face that fills
    the frame is found once it has a margin), then HOG on the photo turned by TILTS degrees
    either way, then dlib's CNN detector (slower, paid only by the photos HOG misses), and last
    the Haar cascades (without dlib, the cascades alone).  The order is the boxes' quality: on
    turned faces that fill the frame, the cascades' boxes are often an eye or a cheek, where the
    CNN's box frames the face (docs/photos.md).  A dlib box is centred by the face's 68 landmarks
    (:func:`landmark_crop`): the boxes come in steps of the detectors' windows."""
    return _hog_faces(image) or _hog_faces(image, tilts=TILTS) or _cnn_faces(image) or _haar_faces(image)


def _haar_faces(image: np.ndarray) -> list[Box]:
    """OpenCV's Haar cascades, tried in turn until one finds a face; largest first."""
    import cv2

    gray = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY))
    h, w = gray.shape
    smallest = max(24, min(h, w) // 10)
    for name, neighbours in CASCADES:
        found = _cascade(name).detectMultiScale(gray, scaleFactor=1.1, minNeighbors=neighbours,
                                                minSize=(smallest, smallest))
        if len(found):
            boxes = [Box(int(x), int(y), int(bw), int(bh)) for x, y, bw, bh in found]
            return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)
    return []


#: The HOG box in the Haar framing: side times HOG_TO_HAAR, centre HOG_SHIFT of its side lower.  The
#: training crops are this detector's own boxes (face_recognition's "hog" model), and the HOG box
#: itself (x 1.00, no shift) frames the aligned CelebA faces closest to them (mean-face RMS 6.0
#: against the Haar box's best 15.5; scripts/calibrate_face_crop.py, docs/photos.md), so
#: HOG_TO_HAAR undoes FACE_SCALE.
HOG_TO_HAAR = 1 / FACE_SCALE
HOG_SHIFT = 0.0
#: the HOG detector sees the padded photo scaled so that its shorter side is at least HOG_MIN_SIDE
#: (its smallest face is 80 px: a small photo's face is found once enlarged) and its longer side at
#: most HOG_MAX_SIDE (its time grows with the pixels; a face small in a large photo falls back to
#: the cascades)
HOG_MIN_SIDE = 400
HOG_MAX_SIDE = 1024
#: a tilted head is looked for in the photo turned by these angles (degrees), when none is upright
TILTS = (-25.0, 25.0)


#: The CNN (MMOD) box in the Haar framing, as HOG_TO_HAAR and HOG_SHIFT: its box x 1.05, moved down
#: by 0.05 of its side, frames the aligned CelebA faces closest to the training faces (mean-face RMS
#: 8.4; scripts/calibrate_face_crop.py --detector cnn, docs/photos.md)
CNN_TO_HAAR = 1.05 / FACE_SCALE
CNN_SHIFT = 0.05
#: the CNN detector sees the photo scaled so that its shorter side is at least CNN_MIN_SIDE (its
#: smallest face is 80 px) and its longer side at most CNN_MAX_SIDE (its time grows with the pixels;
#: the faces the others miss are the large ones, turned or filling the frame)
CNN_MIN_SIDE = 200
CNN_MAX_SIDE = 400


#: The crop around a face found from its 68 dlib landmarks (continuous, where the detectors' boxes
#: come in 20 % steps of their scale pyramid and in steps of 8 of its pixels): the centre is the
#: eyes' midpoint plus these weights times each point's offset from it (the mouth, chin, nose tip,
#: brows, the jaw's two ends, the mean of all 68); the side is these weights times the distances
#: eyes-mouth, eye-eye, brows-chin and jaw end to jaw end.  Fitted by least squares to the
#: 128-px model's training crops, 1,500 faces spread over celeba-wild/train outside the validation
#: split (scripts/calibrate_face_crop.py --landmarks 1500; docs/photos.md).
LANDMARK_CENTRE = (0.584, 0.037, 0.132, 0.208, 0.015, 0.021, -0.373)
LANDMARK_SIDE = (1.147, 0.462, 0.468, 0.134)
#: a HOG box's side is replaced by the landmarks' when the two disagree by more than this (a box a
#: pyramid step too small or large); the CNN's side is kept, its landmarks (turned faces) are
#: less sure than its box (validation faces; docs/photos.md)
LANDMARK_TRUST = 0.10


def landmark_features(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`landmark_crop` weighs, from 68 landmarks ``(68, 2)``: the eyes' midpoint ``(2,)``,
    the seven points' offsets from it ``(7, 2)`` and the four distances ``(4,)``."""
    left, right = points[36:42].mean(0), points[42:48].mean(0)
    eyes = (left + right) / 2
    mouth, brows = points[48:60].mean(0), points[17:27].mean(0)
    offsets = np.stack([mouth, points[8], points[30], brows, points[0], points[16], points.mean(0)]) - eyes
    distances = np.array([np.hypot(*(mouth - eyes)), np.hypot(*(left - right)), np.hypot(*(points[8] - brows)),
                          np.hypot(*(points[0] - points[16]))])
    return eyes, offsets, distances


def landmark_crop(points: np.ndarray) -> tuple[float, float, float]:
    """The 128-px model's crop (centre x, centre y, side) from 68 landmarks ``(68, 2)`` in pixels."""
    eyes, offsets, distances = landmark_features(points)
    cx, cy = eyes + np.asarray(LANDMARK_CENTRE) @ offsets
    return float(cx), float(cy), float(np.dot(LANDMARK_SIDE, distances))


def landmarks(image: np.ndarray, box: Box) -> np.ndarray | None:
    """dlib's 68 face landmarks ``(68, 2)`` in the face of detector box ``box`` (dlib's own framing),
    or None without dlib's shape predictor."""
    predictor = _loaded.__dict__.get("landmarks", False)
    if predictor is False:
        try:
            import dlib

            predictor = dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))
        except ImportError:
            predictor = None
        _loaded.__dict__["landmarks"] = predictor
    if predictor is None:
        return None
    import dlib

    shape = predictor(np.ascontiguousarray(image), dlib.rectangle(box.x, box.y, box.x + box.w - 1, box.y + box.h - 1))
    return np.array([(p.x, p.y) for p in shape.parts()], np.float64)


def model_file(name: str):
    """The path of a data file of the face-recognition-models package (dlib's networks), found
    without importing the package (its __init__ needs pkg_resources); ImportError if missing."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the face-recognition-models package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.is_file():
        raise ImportError(f"{path} is missing; reinstall face-recognition-models")
    return path


def _dlib_detector(kind: str):
    """dlib's "hog" or "cnn" face detector, one per thread (as the cascades); None without dlib
    (or without the CNN's weights)."""
    detector = _loaded.__dict__.get(kind, False)
    if detector is False:
        try:
            import dlib

            detector = (dlib.get_frontal_face_detector() if kind == "hog" else
                        dlib.cnn_face_detection_model_v1(str(model_file("mmod_human_face_detector.dat"))))
        except ImportError:
            detector = None
        _loaded.__dict__[kind] = detector
    return detector


def _cnn_faces(image: np.ndarray, raw: bool = False) -> list[Box]:
    """dlib's CNN (MMOD) detector on the photo scaled between CNN_MIN_SIDE and CNN_MAX_SIDE, largest
    first, in photo pixels: in the Haar framing, or as dlib's own boxes if ``raw``."""
    import cv2

    detector = _dlib_detector("cnn")
    if detector is None:
        return []
    h, w = image.shape[:2]
    scale = min(max(1.0, CNN_MIN_SIDE / min(h, w)), CNN_MAX_SIDE / max(h, w))
    small = image if scale == 1.0 else cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                  interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    boxes = [_from_detector(found.rect, None, scale, 0) for found in detector(np.ascontiguousarray(small), 0)]
    if not raw:
        boxes = [_framed(image, b, CNN_TO_HAAR, CNN_SHIFT, landmark_side=False) for b in boxes]
    return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


def _hog_faces(image: np.ndarray, raw: bool = False, tilts: tuple[float, ...] = (0.0,)) -> list[Box]:
    """dlib's HOG detector on the photo padded (mirrored) by a quarter of its shorter side, largest
    first, in photo pixels: in the Haar framing, or as dlib's own boxes if ``raw``.  ``tilts``: the
    angles the padded photo is turned by, in turn, until one finds a face (the box is the found
    face's square, its centre turned back)."""
    import cv2

    detector = _dlib_detector("hog")
    if detector is None:
        return []
    h, w = image.shape[:2]
    pad = min(h, w) // 4
    scale = min(max(1.0, HOG_MIN_SIDE / (min(h, w) + 2 * pad)), HOG_MAX_SIDE / (max(h, w) + 2 * pad))
    small = image if scale == 1.0 else cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                  interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    p = round(pad * scale)
    padded = cv2.copyMakeBorder(np.ascontiguousarray(small), p, p, p, p, _border(small, p, p, p, p))
    boxes = []
    for angle in tilts:
        turn = None
        if angle:
            ph, pw = padded.shape[:2]
            turn = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, 1.0)
            found = detector(cv2.warpAffine(padded, turn, (pw, ph), borderMode=cv2.BORDER_REFLECT_101), 0)
            back = cv2.invertAffineTransform(turn)
        else:
            found = detector(padded, 0)
        boxes = [_from_detector(r, None if turn is None else back, scale, p) for r in found]
        if boxes:
            break
    if not raw:
        boxes = [_framed(image, b, HOG_TO_HAAR, HOG_SHIFT, landmark_side=True) for b in boxes]
    return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


def _from_detector(r, back: np.ndarray | None, scale: float, pad: int) -> Box:
    """A dlib rectangle found in the scaled photo padded by ``pad`` (and turned: ``back`` undoes
    it) -> the detector's own box in photo pixels."""
    side = (r.right() - r.left() + 1) / scale
    x, y = (r.left() + r.right() + 1) / 2, (r.top() + r.bottom() + 1) / 2
    if back is not None:
        x, y = back @ np.array([x, y, 1.0])
    return _square((x - pad) / scale, (y - pad) / scale, side)


def _framed(image: np.ndarray, box: Box, to_haar: float, shift: float, landmark_side: bool) -> Box:
    """A detector's ``box`` in the Haar framing: its side times ``to_haar``, its centre ``shift`` of
    its side lower; then centred where the face's landmarks put the crop, and, if
    ``landmark_side``, sized by them where the box's side is more than LANDMARK_TRUST off theirs."""
    cx, cy, side = box.x + box.w / 2, box.y + box.h / 2 + shift * box.w, box.w * to_haar
    points = landmarks(image, box)
    if points is not None:
        cx, cy, crop_side = landmark_crop(points)
        found = crop_side / (FACE_SCALE * WILD_FRAMING)     # the landmarks' side in the Haar framing
        if landmark_side and found > 0 and abs(np.log(found / side)) > np.log1p(LANDMARK_TRUST):
            side = found
    return _square(cx, cy, side)


def _square(cx: float, cy: float, side: float) -> Box:
    """The square of ``side`` px centred on (``cx``, ``cy``), in whole pixels."""
    return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), max(1, int(round(side))), max(1, int(round(side))))
