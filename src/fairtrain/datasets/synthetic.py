"""Synthetic face-like JPEG datasets in the real on-disk formats, with a learnable group signal.

Every image is a noisy "face" (an ellipse of a random skin tone on a random background)
overlaid with a class pattern: a sinusoidal grating whose orientation, frequency and
tint belong to the class, at a class-dependent amplitude, with a random phase per image.
The majority class has the strongest, most distinct pattern; the minority classes have
fainter patterns whose orientations crowd together (each nearer another minority's
than the majority's), so a model trained on proportional batches under-recalls them,
and batch composition shows.
Everything is deterministic from ``seed``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain._validation import Interval, param_error, validate_params
from fairtrain.datasets._core import MARKER as _MARKER
from fairtrain.datasets._core import _pil
from fairtrain.datasets.vggface2 import ETHNICITIES

__all__ = [
    "CELEBA_ATTRIBUTES",
    "ETHNICITY_SHARES",
    "ETHNICITY_STYLES",
    "Style",
    "UTKFACE_MALFORMED",
    "UTKFACE_RACE_SHARES",
    "render",
    "write_celeba",
    "write_utkface",
    "write_vggface2",
]

#: Default ethnicity shares, in the order of ``ETHNICITIES``
#: (African, Asian, Latin/Caucasian, Indian).
ETHNICITY_SHARES: tuple[float, ...] = (0.06, 0.08, 0.80, 0.06)
#: Default UTKFace race shares (White, Black, Asian, Indian, Others), near the real set's.
UTKFACE_RACE_SHARES: tuple[float, ...] = (0.42, 0.19, 0.15, 0.17, 0.07)

#: CelebA's 40 attribute names, in the order of ``list_attr_celeba.txt``.
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)


@dataclass(frozen=True)
class Style:
    """The visual signal of one class: a tinted sinusoidal grating.

    Parameters
    ----------
    angle : float
        Orientation of the stripes' normal, in degrees.
    cycles : float
        Stripes across the image width.
    amplitude : float
        Peak deviation added to the pixel values (pixels are in [0, 1]).
    tint : (float, float, float)
        RGB weights of the grating.
    """

    angle: float
    cycles: float
    amplitude: float
    tint: tuple[float, float, float]


#: The ethnicity signal, in the order of ``ETHNICITIES``. The majority's grating is the
#: strongest and stands apart (0 degrees); the minorities' are fainter and crowd together
#: (40, 90 and 70 degrees; African and Indian also share nearly one tint).
ETHNICITY_STYLES: tuple[Style, ...] = (
    Style(angle=40.0, cycles=4.0, amplitude=0.11, tint=(0.5, 0.5, 1.0)),   # African
    Style(angle=90.0, cycles=4.0, amplitude=0.12, tint=(1.0, 0.7, 0.3)),   # Asian
    Style(angle=0.0, cycles=4.0, amplitude=0.20, tint=(1.0, 1.0, 1.0)),    # Latin/Caucasian
    Style(angle=70.0, cycles=4.0, amplitude=0.11, tint=(0.6, 0.5, 1.0)),   # Indian
)

#: The UTKFace race signal (White, Black, Asian, Indian, Others).
_RACE_STYLES: tuple[Style, ...] = (
    Style(angle=0.0, cycles=4.0, amplitude=0.18, tint=(1.0, 1.0, 1.0)),
    Style(angle=45.0, cycles=4.0, amplitude=0.14, tint=(0.5, 0.5, 1.0)),
    Style(angle=90.0, cycles=4.0, amplitude=0.14, tint=(1.0, 0.7, 0.3)),
    Style(angle=135.0, cycles=4.0, amplitude=0.14, tint=(0.6, 1.0, 0.5)),
    Style(angle=65.0, cycles=6.0, amplitude=0.10, tint=(1.0, 0.5, 0.8)),
)
_GENDER_STYLES: tuple[Style, ...] = (
    Style(angle=20.0, cycles=3.0, amplitude=0.15, tint=(0.3, 0.6, 1.0)),   # male
    Style(angle=110.0, cycles=3.0, amplitude=0.15, tint=(1.0, 0.5, 0.5)),  # female
)


#: The parameters the synthetic writers share, declared once.
_COUNT = [Interval(Integral, 1, None)]
WRITER_PARAMS: dict[str, Any] = {
    "size": [Interval(Integral, 8, None)],
    "seed": [Interval(Integral, 0, None)],
}
WRITER_HINTS = {"size": "It is the image side in pixels."}


def _check_shares(shares: Sequence[float], k: int) -> np.ndarray:
    values = np.asarray(shares, dtype=float)
    if values.shape != (k,) or np.any(values < 0) or not np.isclose(values.sum(), 1.0):
        raise param_error("shares", list(shares), f"{k} non-negative fractions summing to 1")
    return values


def _check_enough(shares: np.ndarray, n: int, name: str) -> None:
    needed = int(np.count_nonzero(shares))
    if n < needed:
        raise param_error(
            name, n, f"at least the number of groups with a positive share ({needed})",
            hint="Each of them needs one at least.",
        )


def _counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Largest-remainder apportionment of ``n`` items by ``shares``; each positive share >= 1."""
    raw = shares * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    for g in np.flatnonzero((shares > 0) & (counts == 0)):  # keep every group present
        counts[g] = 1
        counts[np.argmax(counts)] -= 1
    return counts


def _prepare(root: Any, kind: str, params: dict) -> tuple[Path, bool]:
    """(root, already written): refuse to write into a folder fairtrain did not fill."""
    root = Path(root).expanduser().resolve()
    marker = root / _MARKER
    record = {"format": kind, **params}
    if root.exists() and any(root.iterdir()):
        if marker.is_file() and json.loads(marker.read_text()) == record:
            return root, True
        raise FileExistsError(
            f"{root} is not empty and holds no synthetic {kind} dataset written with these "
            "arguments; fairtrain never overwrites files it did not write. Choose an empty "
            "or new folder."
        )
    root.mkdir(parents=True, exist_ok=True)
    return root, False


def _finish(root: Path, kind: str, params: dict) -> None:
    (root / _MARKER).write_text(json.dumps({"format": kind, **params}, sort_keys=True))


def render(
    styles: Sequence[Style],
    rng: np.random.Generator,
    *,
    size: int = 32,
    identity: dict | None = None,
    noise: float = 0.08,
) -> np.ndarray:
    """One synthetic face: background, skin-toned ellipse, the styles' gratings, noise.

    Parameters
    ----------
    styles : sequence of Style
        Gratings added on top of each other (e.g. a race style and a gender style).
    rng : numpy.random.Generator
        Draws the phase, the jitter and the noise.
    size : int, default 32
        Height and width in pixels.
    identity : dict, optional
        ``{"background": rgb, "skin": rgb, "center": (y, x), "radii": (ry, rx)}``
        shared by one identity's images; default: drawn from ``rng``.
    noise : float, default 0.08
        Standard deviation of the per-pixel Gaussian noise.

    Returns
    -------
    ndarray of uint8, shape (size, size, 3)
    """
    identity = identity or _identity(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    image = np.empty((size, size, 3), dtype=np.float32)
    image[:] = identity["background"]
    cy, cx = np.asarray(identity["center"]) + rng.normal(0, 0.02, 2)
    ry, rx = identity["radii"]
    inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
    image[inside] = identity["skin"]
    for style in styles:
        theta = math.radians(style.angle)
        phase = rng.uniform(0, 2 * math.pi)
        wave = np.cos(2 * math.pi * style.cycles * (xx * math.cos(theta) + yy * math.sin(theta))
                      + phase)
        tint = np.asarray(style.tint, dtype=np.float32)
        image += style.amplitude * wave[..., None] * tint / max(float(tint.max()), 1e-9)
    image += rng.normal(0.0, noise, image.shape).astype(np.float32)
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _identity(rng: np.random.Generator) -> dict:
    """Nuisance look shared by one identity (independent of its group)."""
    return {
        "background": rng.uniform(0.1, 0.9, 3).astype(np.float32),
        "skin": (rng.uniform(0.25, 0.85) * np.array([1.0, 0.8, 0.65])
                 + rng.normal(0, 0.04, 3)).astype(np.float32),
        "center": rng.uniform(0.4, 0.6, 2),
        "radii": (rng.uniform(0.3, 0.42), rng.uniform(0.22, 0.32)),
    }


def _save(image: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _pil().fromarray(image).save(path, format="JPEG", quality=95)


@validate_params(
    {**WRITER_PARAMS, "n_identities": _COUNT, "images_per_identity": _COUNT},
    hints=WRITER_HINTS,
)
def write_vggface2(
    root: Any,
    *,
    n_identities: int = 200,
    images_per_identity: int = 10,
    shares: Sequence[float] = ETHNICITY_SHARES,
    size: int = 32,
    seed: int = 0,
) -> dict[str, str]:
    """Write a synthetic VGGFace2-ethnicity dataset in VGGFace2's on-disk format.

    Parameters
    ----------
    root : path
        A new or empty folder (or one this function filled with the same arguments, which
        is then returned as is).
    n_identities : int, default 200
        Identities; each gets one ethnicity, apportioned by ``shares`` (largest remainder,
        every positive share at least one identity), in a seeded random order.
    images_per_identity : int, default 10
    shares : sequence of 4 floats, default (0.06, 0.08, 0.80, 0.06)
        Shares of African, Asian, Latin/Caucasian, Indian identities.
    size : int, default 32
        Image height and width.
    seed : int, default 0
        The same seed writes the same files.

    Returns
    -------
    dict of str to str
        ``{"root": <root>/train (the identity folders), "ethnicity_csv":
        <root>/ethnicity.csv, "identity_meta": <root>/meta/identity_meta.csv}``, ready for
        :func:`fairtrain.datasets.load_vggface2`.

    Raises
    ------
    ValueError
        If a count is not positive, ``shares`` are not 4 fractions summing to 1, or
        ``n_identities`` is below the number of positive shares.
    FileExistsError
        If ``root`` holds other files.

    Notes
    -----
    The images show :data:`ETHNICITY_STYLES` (see the module docstring): label = the
    identity's ethnicity, the class pattern's amplitude 0.20 for the majority and 0.11 to
    0.12 for the minorities, with per-pixel noise of standard deviation 0.08 and an
    identity-specific face and background.
    """
    shares = _check_shares(shares, len(ETHNICITIES))
    _check_enough(shares, n_identities, "n_identities")
    params = {"n_identities": int(n_identities), "images_per_identity": int(images_per_identity),
              "shares": shares.tolist(), "size": size, "seed": int(seed)}
    root, done = _prepare(root, "vggface2", params)
    out = {"root": str(root / "train"), "ethnicity_csv": str(root / "ethnicity.csv"),
           "identity_meta": str(root / "meta" / "identity_meta.csv")}
    if done:
        return out
    rng = np.random.default_rng([int(seed), 0x56474746])
    labels = np.repeat(np.arange(len(ETHNICITIES)), _counts(shares, int(n_identities)))
    labels = rng.permutation(labels)
    genders = rng.integers(0, 2, labels.size)
    _write_identities(root, labels, genders, int(images_per_identity), size, rng)
    _finish(root, "vggface2", params)
    return out


def _write_identities(root: Path, labels: np.ndarray, genders: np.ndarray,
                      images_per_identity: int, size: int,
                      rng: np.random.Generator) -> None:
    """Write every identity's images and its rows of the two CSV files."""
    meta = ["Class_ID, Name, Sample_Num, Flag, Gender"]
    ethnicity_rows = ["Class_ID,ethnicity"]
    for i, (label, gender) in enumerate(zip(labels, genders)):
        identity = f"n{i + 1:06d}"
        look = _identity(rng)
        for j in range(images_per_identity):
            image = render([ETHNICITY_STYLES[label]], rng, size=size, identity=look)
            _save(image, root / "train" / identity / f"{j + 1:04d}_01.jpg")
        meta.append(f'{identity}, "Synthetic_{i + 1}", {images_per_identity}, 1, '
                    f'{"mf"[gender]}')
        ethnicity_rows.append(f"{identity},{ETHNICITIES[label]}")
    (root / "meta").mkdir(exist_ok=True)
    (root / "meta" / "identity_meta.csv").write_text("\n".join(meta) + "\n")
    (root / "ethnicity.csv").write_text("\n".join(ethnicity_rows) + "\n")


#: Malformed UTKFace names written by ``write_utkface(malformed=True)``, with the flaw
#: each carries (all modelled on flaws of the real set).
UTKFACE_MALFORMED: tuple[tuple[str, str], ...] = (
    ("39_1_20170116174525125.jpg.chip.jpg", "missing field"),
    ("117_0_0_20170117120000000.jpg.chip.jpg", "age out of range"),
    ("25_2_1_20170117120000001.jpg.chip.jpg", "gender out of range"),
    ("30_0_5_20170117120000002.jpg.chip.jpg", "race out of range"),
    ("abc_0_1_20170117120000003.jpg.chip.jpg", "age not a number"),
    ("30_1__20170117120000004.jpg", "empty race"),
)


def _age_band(image: np.ndarray, age: int, rng: np.random.Generator, size: int) -> None:
    """Paint the top rows grey in proportion to age (the age signal)."""
    rows = max(2, size // 8)
    level = age / 116.0 + rng.normal(0.0, 0.03)
    image[:rows] = np.clip(level * 255.0, 0, 255)


@validate_params({**WRITER_PARAMS, "n": _COUNT, "malformed": ["boolean"]}, hints=WRITER_HINTS)
def write_utkface(
    root: Any,
    *,
    n: int = 1000,
    shares: Sequence[float] | None = None,
    size: int = 32,
    seed: int = 0,
    malformed: bool = True,
) -> str:
    """Write a synthetic UTKFace folder (``[age]_[gender]_[race]_[datetime].jpg.chip.jpg``).

    Parameters
    ----------
    root : path
        A new or empty folder (or one this function filled with the same arguments).
    n : int, default 1000
        Well-named images; every fifth uses the in-the-wild ``.jpg`` suffix, the rest
        the aligned-and-cropped ``.jpg.chip.jpg``.
    shares : sequence of 5 floats, optional
        Shares of White, Black, Asian, Indian, Others; default
        :data:`UTKFACE_RACE_SHARES`.
    size : int, default 32
    seed : int, default 0
    malformed : bool, default True
        Also write the images named in :data:`UTKFACE_MALFORMED`, which
        :func:`fairtrain.datasets.load_utkface` must reject.

    Returns
    -------
    str
        ``root``, ready for :func:`fairtrain.datasets.load_utkface`.

    Raises
    ------
    ValueError
        If ``n`` is not positive, ``shares`` are not 5 fractions summing to 1, or ``n``
        is below the number of positive shares.
    TypeError
        If ``malformed`` is not True or False.
    FileExistsError
        If ``root`` holds other files.

    Notes
    -----
    Race shows as a grating (one per race), gender as a second, coarser grating,
    and age as the grey level ``age / 116`` of the top ``size // 8`` rows. Ages are
    ``clip(round(Gamma(2.2, 15)), 1, 116)``.
    """
    shares = _check_shares(UTKFACE_RACE_SHARES if shares is None else shares, 5)
    _check_enough(shares, n, "n")
    params = {"n": int(n), "shares": shares.tolist(), "size": size, "seed": int(seed),
              "malformed": malformed}
    root, done = _prepare(root, "utkface", params)
    if done:
        return str(root)
    rng = np.random.default_rng([int(seed), 0x55544B])
    races = rng.permutation(np.repeat(np.arange(5), _counts(shares, int(n))))
    genders = rng.integers(0, 2, int(n))
    ages = np.clip(np.rint(rng.gamma(2.2, 15.0, int(n))), 1, 116).astype(int)
    for i in range(int(n)):
        image = render([_RACE_STYLES[races[i]], _GENDER_STYLES[genders[i]]], rng, size=size)
        _age_band(image, int(ages[i]), rng, size)
        suffix = ".jpg" if i % 5 == 4 else ".jpg.chip.jpg"
        name = f"{ages[i]}_{genders[i]}_{races[i]}_{20170101000000000 + i}{suffix}"
        _save(image, root / name)
    if malformed:
        for name, _ in UTKFACE_MALFORMED:
            _save(render([_RACE_STYLES[0]], rng, size=size), root / name)
    _finish(root, "utkface", params)
    return str(root)


@validate_params({**WRITER_PARAMS, "n": _COUNT}, hints=WRITER_HINTS)
def write_celeba(root: Any, *, n: int = 1000, size: int = 32, seed: int = 0) -> str:
    """Write a synthetic CelebA folder: ``img_align_celeba/`` and the two list files.

    Parameters
    ----------
    root : path
        A new or empty folder (or one this function filled with the same arguments).
    n : int, default 1000
        Images ``000001.jpg`` onwards; about 42% male (CelebA's share), partitions
        train/valid/test in CelebA's proportions (about 80/10/10, in file order).
    size : int, default 32
        Height and width (the real images are 178 wide and 218 high).
    seed : int, default 0

    Returns
    -------
    str
        ``root``, ready for :func:`fairtrain.datasets.load_celeba`.

    Raises
    ------
    ValueError
        If ``n`` is not positive.
    FileExistsError
        If ``root`` holds other files.

    Notes
    -----
    Gender shows as a grating; ``Young`` (about 77% true) brightens the face. The other
    38 attributes are random (-1/1) and do not show.
    """
    params = {"n": int(n), "size": size, "seed": int(seed)}
    root, done = _prepare(root, "celeba", params)
    if done:
        return str(root)
    rng = np.random.default_rng([int(seed), 0x43454C])
    n = int(n)
    values = np.where(rng.random((n, len(CELEBA_ATTRIBUTES))) < 0.3, 1, -1)
    male = rng.random(n) < 0.42
    young = rng.random(n) < 0.77
    values[:, CELEBA_ATTRIBUTES.index("Male")] = np.where(male, 1, -1)
    values[:, CELEBA_ATTRIBUTES.index("Young")] = np.where(young, 1, -1)
    n_train, n_valid = int(round(0.8 * n)), int(round(0.1 * n))
    partition = np.repeat([0, 1, 2], [n_train, n_valid, n - n_train - n_valid])
    attr_lines = [str(n), " ".join(CELEBA_ATTRIBUTES)]
    part_lines = []
    for i in range(n):
        name = f"{i + 1:06d}.jpg"
        look = _identity(rng)
        if young[i]:
            look["skin"] = np.clip(look["skin"] + 0.15, 0, 1)
        image = render([_GENDER_STYLES[0 if male[i] else 1]], rng, size=size, identity=look)
        _save(image, root / "img_align_celeba" / name)
        # the real file aligns the columns with runs of spaces
        attr_lines.append(name + " " + " ".join(f"{v:2d}" for v in values[i]))
        part_lines.append(f"{name} {partition[i]}")
    (root / "list_attr_celeba.txt").write_text("\n".join(attr_lines) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(part_lines) + "\n")
    _finish(root, "celeba", params)
    return str(root)
