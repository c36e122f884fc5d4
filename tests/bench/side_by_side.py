"""Side-by-side pictures and figures for the creative controls, with MobileNet's real ImageNet weights.

Usage: KERAS_HOME=DIR python tests/bench/side_by_side.py laplacian|guide [--out docs/NAME.jpg]

laplacian: the sample photo dreamed at one step size with mean-abs and with Laplacian-pyramid normalisation;
prints the energy of the change and of its finest pyramid band (its high frequencies) for each.
guide: the sample photo dreamed without and with a guide (scikit-image's cat photo) on MobileNet's preset
layers; prints, at each layer, the mean over the dream's feature vectors of the cosine similarity to the
guide's closest one, for the photo, the plain dream and the guided one (same seed).
The weights must be in the Keras cache: DIR/models/mobilenet_2_5_224_tf_no_top.h5.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from reverie.engine import DreamParams, dream, load_model
from reverie.engine.laplacian import pyramid

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "astronaut.jpg"
PARAMS = DreamParams(model="mobilenet", step_size=0.02, steps=20, seed=42, max_loss=None)


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255


# Height of the pictures in docs/: large enough to see the difference, small enough for a README.
SHOWN_HEIGHT = 384


def save_row(images: list[np.ndarray], out: Path) -> None:
    row = Image.fromarray(np.rint(np.concatenate(images, axis=1) * 255).astype(np.uint8))
    row.resize((round(row.width * SHOWN_HEIGHT / row.height), SHOWN_HEIGHT), Image.Resampling.LANCZOS).save(
        out, quality=85
    )
    print(f"wrote {out}")


def energies(change: np.ndarray) -> tuple[float, float]:
    """Mean squared change, and that of its finest pyramid band (in 8-bit levels squared)."""
    scaled = change * 255
    return float(np.square(scaled).mean()), float(np.square(pyramid(scaled, 1)[0]).mean())


def laplacian(out: Path) -> None:
    model = load_model("mobilenet", "imagenet")
    source = load(SAMPLE)
    results = [source]
    for normalization in ("mean_abs", "laplacian"):
        image = dream(source, PARAMS.replace(normalization=normalization), model).image
        total, high = energies(image - source)
        print(f"{normalization:9}: change energy {total:.1f}, finest band {high:.1f} ({high / total:.0%})")
        results.append(image)
    save_row(results, out)


def similarity(extractor: object, image: np.ndarray, guide: np.ndarray) -> list[float]:
    """Per layer: the mean cosine similarity of the image's feature vectors to the guide's closest ones."""

    def vectors(pixels: np.ndarray) -> list[np.ndarray]:
        outputs = extractor([(pixels * 2 - 1)[None]])
        flat = [np.asarray(output)[0].reshape(-1, output.shape[-1]) for output in outputs]
        return [f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-6) for f in flat]

    return [float((a @ b.T).max(axis=1).mean()) for a, b in zip(vectors(image), vectors(guide), strict=True)]


def guided(out: Path) -> None:
    from skimage import data

    from reverie.engine.octaves import resize

    model = load_model("mobilenet", "imagenet")
    source, guide = load(SAMPLE), data.chelsea().astype(np.float32) / 255
    layers = tuple(model.spec.presets[PARAMS.preset])
    extractor = model.extractor(layers)
    plain = dream(source, PARAMS, model).image
    grown = dream(source, PARAMS, model, guide=guide).image
    print("layers:", ", ".join(layers))
    for name, image in (("photo", source), ("plain dream", plain), ("guided dream", grown)):
        print(f"{name:12}: " + ", ".join(f"{value:.3f}" for value in similarity(extractor, image, guide)))
    height = source.shape[0]
    shown_guide = resize(guide, (height, round(guide.shape[1] * height / guide.shape[0])))
    save_row([source, shown_guide, plain, grown], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("laplacian", "guide"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or REPO / "docs" / f"{args.what}.jpg"
    {"laplacian": laplacian, "guide": guided}[args.what](out)


if __name__ == "__main__":
    main()
