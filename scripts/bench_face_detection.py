"""Face detection on the in-the-wild test faces: how many photos get a face, and the time per
photo, for the Haar cascades alone, dlib's HOG detector alone (on the photo padded by a quarter)
and what ganfill does (detect_faces: HOG, HOG turned, the CNN, the cascades, each face framed by its
landmarks).  Writes a JSON report.

    python scripts/bench_face_detection.py --n 1000 -o docs/results/face-detection-1000.json
"""
import argparse
import json
import os
import time

from ganfill.data import default_data_root, list_images, load_image
from ganfill.data.detect import _haar_faces, _hog_faces, detect_faces

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=1000)
p.add_argument("--data", default=str(default_data_root() / "celeba-wild" / "test"))
p.add_argument("-o", "--output", default=None)
p.add_argument("--detectors", default="haar,hog-padded,ganfill", help="comma-separated: haar, hog-padded, ganfill")
args = p.parse_args()
detectors = {name: {"haar": _haar_faces, "hog-padded": _hog_faces, "ganfill": detect_faces}[name]
             for name in args.detectors.split(",")}
found = dict.fromkeys(detectors, 0)
seconds = dict.fromkeys(detectors, 0.0)
paths = list_images(args.data)[:args.n]
for path in paths:
    image = load_image(path)
    for name, detect in detectors.items():
        tic = time.perf_counter()
        faces = detect(image)
        seconds[name] += time.perf_counter() - tic
        found[name] += bool(faces)
report = {"data": args.data, "n_images": len(paths), "size": list(image.shape[:2]),
          "load_average": os.getloadavg()[0],
          "detectors": {name: {"found": found[name], "rate": round(found[name] / len(paths), 4),
                               "ms_per_photo": round(1000 * seconds[name] / len(paths), 1)} for name in detectors}}
print(json.dumps(report, indent=2))
if args.output:
    with open(args.output, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
