"""Learning curve of the EFT-limit accuracy: contour area relative to the truth against the number of training events.

Takes the training and test files of a ``bench/calibration.py`` run (``--from OUT``), trains the given estimator ×
method rows on the first n training events for every n of ``--sizes`` with the calibration's own settings (one
calibration run per size under ``OUT/n<size>/``, so each is resumable and skipped once finished), and draws area
ratio vs n at 68 % and 95 % CL. Prints a table and writes ``learning_curve.json``, ``learning_curve.md`` and
``learning_curve.png`` into ``--out``.

    python bench/learning_curve.py --from results/eft_accuracy_wbf_parton --estimators mlp,part_sm --methods sally \\
        --sizes 10000,20000,40000 --out results/eft_accuracy_wbf_parton/learning
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


from lfi.events import EventSample
from lfi.files import atomic_write_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", required=True, help="a bench/calibration.py output folder")
    parser.add_argument("--estimators", default="mlp")
    parser.add_argument("--methods", default="sally")
    parser.add_argument("--sizes", default="10000,20000,40000", help="training events (selected), comma-separated")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    source, out = Path(args.source), Path(args.out)
    settings = json.loads((source / "calibration.json").read_text())
    calibration_args = settings["args"]
    n_full = EventSample.read_info(source / "train.h5")["events"]
    sizes = sorted({int(n) for n in args.sizes.split(",")} | {n_full})
    rows = {}
    for n in sizes:
        folder = source if n == n_full else out / f"n{n}"
        if n != n_full:
            _prepare(source, folder, n)
            _calibrate(folder, calibration_args, args.estimators, args.methods)
        table = json.loads((folder / "calibration.json").read_text())["maps"]
        for e in args.estimators.split(","):
            for m in args.methods.split(","):
                entry = table.get(f"{e}_{m}") or _row_file(folder, f"{e}_{m}")
                if entry:
                    rows.setdefault(f"{e}_{m}", {})[n] = entry["area_ratio"]
    _write(out, rows, settings)


def _prepare(source: Path, folder: Path, n: int) -> None:
    """The first ``n`` training events and a link to the same test file."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "train.h5").exists():
        EventSample.load(source / "train.h5", events=slice(0, n)).save(folder / "train.h5")
    if not (folder / "test.h5").exists():
        (folder / "test.h5").symlink_to((source / "test.h5").resolve())


def _calibrate(folder: Path, settings: dict, estimators: str, methods: str) -> None:
    keys = ("simulator", "level", "epochs", "patience", "events_per_epoch", "lumi", "grid", "batch_size")
    command = [sys.executable, str(Path(__file__).with_name("calibration.py")), "--out", str(folder),
               "--estimators", estimators, "--methods", methods]
    for key in keys:
        if settings.get(key) is not None:
            command.append(f"--{key.replace('_', '-')}={settings[key]}")
    subprocess.run(command, check=True)


def _row_file(folder: Path, name: str) -> dict | None:
    path = folder / "rows" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _write(out: Path, rows: dict, settings: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lfi.roc_figure import save_figure

    out.mkdir(parents=True, exist_ok=True)
    lines = ["| row | training events | 68 % / truth | 95 % / truth |", "|---|---|---|---|"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, by_size in rows.items():
        sizes = sorted(by_size)
        for level, style in (("68.27", "-"), ("95.45", "--")):
            ax.plot(sizes, [by_size[n][level] for n in sizes], style, marker="o", label=f"{name}, {level[:2]} % CL")
        lines += [f"| {name} | {n} | {by_size[n]['68.27']:.3f} | {by_size[n]['95.45']:.3f} |" for n in sizes]
    ax.axhline(1.0, color="black", lw=1)
    ax.axhspan(0.9, 1.1, color="grey", alpha=0.15, label="within 10 % of the truth")
    ax.set_xscale("log")
    ax.set_xlabel("training events (selected)")
    ax.set_ylabel("contour area / truth")
    ax.legend(fontsize=7)
    save_figure(fig, out / "learning_curve.png")
    plt.close(fig)
    table = "\n".join(lines)
    atomic_write_text(out / "learning_curve.md", f"Machine and budget as in the calibration run: {settings['machine']}; "
                      f"{settings['args']['epochs']} epochs of {settings['args']['events_per_epoch']} events.\n\n{table}\n")
    atomic_write_text(out / "learning_curve.json", json.dumps({"machine": settings["machine"], "rows": {
        name: {str(n): r for n, r in by_size.items()} for name, by_size in rows.items()}}, indent=2))
    print(table)
    print(f"\nwrote {out / 'learning_curve.png'}")


if __name__ == "__main__":
    main()
