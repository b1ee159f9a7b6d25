"""The markdown tables of docs/results.md, from the evaluator's JSON files in docs/results/.

    python scripts/results_tables.py            # the 64-px tables (the thesis's protocol), per mask kind
    python scripts/results_tables.py wild       # the 256-px in-the-wild tables (wild-MASK-GROUP-FACES.json)
"""
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
ORDER = ["mean", "telea", "navier-stokes", "biharmonic", "context-encoder", "lsgan-yeh", "lsgan", "ae-only",
         "lsgan+ae-paper", "lsgan+ae"]
# The thesis's Figure 8 (its own test set): its LSGAN row is the Yeh-style latent search.
THESIS = {"context-encoder": (22.85, 0.872), "lsgan-yeh": (19.30, 0.817), "lsgan+ae": (22.30, 0.883)}
THESIS_NAMES = {"context-encoder": "Context Encoders", "lsgan-yeh": "LSGAN", "lsgan+ae": "LSGAN+AutoEncoder"}


def load(name):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def table(kind: str) -> str:
    main = load(f"table-{kind}.json")
    rows = dict(main["methods"]) if main else {}
    notes = {}
    yeh = load("yeh-vs-fast-center-100.json") if kind == "center" else load(f"gpu-yeh-{kind}-100.json")
    if yeh and "lsgan-yeh" in yeh["methods"]:
        rows["lsgan-yeh"] = yeh["methods"]["lsgan-yeh"]
        notes["lsgan-yeh"] = "the first 100" + ("" if kind == "center" else ", scored on the GPU")
    best_psnr = max(m["psnr"] for m in rows.values())
    best_ssim = max(m["ssim"] for m in rows.values())
    head = ("| method | faces | PSNR | SSIM | hole-PSNR | hole-L1 | s / image |"
            + (" thesis (PSNR / SSIM) |" if kind == "center" else ""))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in ORDER:
        if name not in rows:
            continue
        m = rows[name]
        psnr = f"**{m['psnr']:.2f}**" if m["psnr"] == best_psnr else f"{m['psnr']:.2f}"
        ssim = f"**{m['ssim']:.4f}**" if m["ssim"] == best_ssim else f"{m['ssim']:.4f}"
        faces = f"{m['n_images']:,}" + (f" ({notes[name]})" if name in notes else "")
        on_gpu = yeh is not None and name == "lsgan-yeh" and yeh.get("device", "cpu") != "cpu" or \
            (name == "lsgan-yeh" and kind != "center")
        seconds = "(GPU)" if on_gpu else f"{m['sec_per_image']:.4f}"
        line = (f"| `{name}` | {faces} | {psnr} | {ssim} | {m['hole_psnr']:.2f} | {m['hole_l1']:.2f} | "
                f"{seconds} |")
        if kind == "center":
            t = THESIS.get(name)
            line += f" {THESIS_NAMES[name]}: {t[0]:.2f} / {t[1]:.3f} |" if t else " |"
        lines.append(line)
    return "\n".join(lines)


WILD_ORDER = ["mean", "telea", "navier-stokes", "biharmonic", "context-encoder", "lsgan-yeh", "lsgan", "ae-only",
              "lsgan+ae-paper", "lsgan+ae", "lsgan+ae --detail", "lsgan+ae-wild --no-detail", "lsgan+ae-wild"]


#: the benchmark's files, wild-MASK-GROUP-FACES.json (scripts/bench_wild.sh GROUP-FACES ...): all 1,000
#: faces, and the first 200 (the same faces and masks for every method, so that FD-dlib compares
#: like with like)
WILD_GROUPS = ("classical", "nets", "lsgan", "lsgan+ae", "default")
#: extra rows, (label, file, method in it): the photo path's detail switched from each method's default
WILD_EXTRA = [("lsgan+ae --detail", "wild-{kind}-lsgan+ae-detail-{faces}.json", "lsgan+ae"),
              ("lsgan+ae-wild --no-detail", "wild-{kind}-default-no-detail-{faces}.json", "lsgan+ae-wild")]


def wild_rows(kind: str, faces: int) -> dict:
    """Every method's scores on the first ``faces`` of celeba-wild/test for mask ``kind``."""
    rows = {}
    for group in WILD_GROUPS:
        data = load(f"wild-{kind}-{group}-{faces}.json")
        if data:
            rows.update({name: m for name, m in data["methods"].items() if m["n_images"] == faces})
    for label, file, method in WILD_EXTRA:
        data = load(file.format(kind=kind, faces=faces))
        if data and data["n_images"] == faces:
            rows[label] = data["methods"][method]
    return rows


def wild_table(kind: str, faces: int) -> str:
    rows = wild_rows(kind, faces)
    if not rows:
        return "(not measured)"
    order = [n for n in WILD_ORDER if n in rows] + sorted(n for n in rows if n not in WILD_ORDER)
    best = {k: max(m.get(k, float("-inf")) for m in rows.values()) for k in ("psnr", "ssim", "hole_psnr")}
    best["fd_dlib"] = min(m.get("fd_dlib", float("inf")) for m in rows.values())
    best["identity"] = min(m.get("identity", float("inf")) for m in rows.values())

    def cell(m, key, fmt):
        if key not in m:
            return "–"
        text = format(m[key], fmt)
        return f"**{text}**" if m[key] == best.get(key) else text

    best["u_ids"] = max(m.get("u_ids", float("-inf")) for m in rows.values())
    best["p_ids"] = max(m.get("p_ids", float("-inf")) for m in rows.values())
    ids = any("u_ids" in m for m in rows.values())     # the realism columns, once some row has them
    lines = [f"| method ({faces:,} faces) | PSNR | SSIM | hole-PSNR | sharpness | FD-dlib | identity |"
             + (" U-IDS | P-IDS |" if ids else "") + " s / image |",
             "|---|---|---|---|---|---|---|" + ("---|---|" if ids else "") + "---|"]
    for name in order:
        m = rows[name]
        lines.append(f"| `{name}` | {cell(m, 'psnr', '.2f')} | {cell(m, 'ssim', '.4f')} | "
                     f"{cell(m, 'hole_psnr', '.2f')} | {cell(m, 'sharpness', '.3f')} | {cell(m, 'fd_dlib', '.4f')} | "
                     f"{cell(m, 'identity', '.3f')} |"
                     + (f" {cell(m, 'u_ids', '.3f')} | {cell(m, 'p_ids', '.3f')} |" if ids else "")
                     + f" {m['sec_per_image']:.3f} |")
    return "\n".join(lines)


def wild_tables() -> str:
    """The markdown of docs/results.md's 256-px section: per mask kind, the 200 and the 1,000 faces."""
    out = []
    for kind in ("center", "free", "box", "half"):
        parts = [wild_table(kind, n) for n in (200, 1000) if wild_rows(kind, n)]
        out.append(f"#### {kind}\n\n" + ("\n\n".join(parts) if parts else "(not measured)"))
    return "\n\n".join(out)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", nargs="?", choices=["wild"], help="the 256-px tables instead of the 64-px ones")
    if ap.parse_args().which == "wild":
        print(wild_tables())
    else:
        for kind in ("center", "free", "box", "half"):
            print(f"### {kind}\n\n{table(kind)}\n")
