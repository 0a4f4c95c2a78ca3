"""Writes models/<id>/input-check.json for an image model from its training data:
    /usr/bin/python3 training/scripts/fit_input_check.py [--model pneumonia-cxr] [--out-dir models]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import input_check  # noqa: E402
import utils  # noqa: E402
from recipes import pneumonia_cxr  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=pneumonia_cxr.MODEL_ID, choices=[pneumonia_cxr.MODEL_ID])
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    overrides = [f"data_dir={args.data_dir}"] if args.data_dir else []
    cfg = utils.load_config(overrides=overrides)
    arrays, _ = pneumonia_cxr.load(cfg)
    check = input_check.calibrate(arrays["train_images"], arrays["val_images"])
    out = Path(args.out_dir) if args.out_dir else utils.repo_path(cfg["out_dir"])
    path = out / args.model / "input-check.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(check, separators=(",", ":")) + "\n")
    c = check["calibration"]
    utils.log(
        f"{path}: threshold {check['threshold']}, false alarms train {c['trainFalseAlarm']:.2%}, "
        f"val {c['valFalseAlarm']:.2%} ({path.stat().st_size / 1024:.0f} KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
