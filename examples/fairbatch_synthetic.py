"""FairBatch on its own synthetic data: accuracy and disparity per objective, next to the paper's.

Reproduces the synthetic experiment of Roh, Lee, Whang and Suh, "FairBatch: Batch
selection for model fairness" (ICLR 2021): 3,000 examples (2,000 train / 1,000 test),
two non-sensitive features and a binary sensitive attribute ``z`` (also an input),
a binary label; logistic regression trained with Adam (learning rate 5e-4), batches of
100 chosen by :class:`fairtrain.sampling.FairBatch` with ``alpha = 0.005``; equal
opportunity 300 epochs, equalized odds 400, demographic parity 450; the mean over
10 seeds::

    python examples/fairbatch_synthetic.py                      # one data draw, 10 seeds
    python examples/fairbatch_synthetic.py --data-seeds 0 1 2 3 4 5 6 7 8 9 --jobs 2
    python examples/fairbatch_synthetic.py --data DIR              # the paper's own files

``--data DIR`` reads the six NumPy files the paper's authors published with their code
(``xz_train.npy``, ``y_train.npy``, ``z_train.npy`` and the same three ``_test``; the
labels in {-1, 1} or {0, 1}, ``z`` in {0, 1}, ``xz`` the features with ``z`` as a
column) instead of drawing the data; ``--data-seeds`` is then ignored.

**Data** (the generator of Zafar et al., AISTATS 2017, which FairBatch uses, as we
recall it): 1,500 examples per label, ``x | y=1 ~ N([2, 2], [[5, 1], [1, 5]])``,
``x | y=0 ~ N([-2, -2], [[10, 1], [1, 3]])``, shuffled; ``x' = x R`` with ``R`` the
rotation matrix of angle pi/4 (``[[cos, -sin], [sin, cos]]``, applied to row vectors);
``z = 1`` with probability ``p1(x') / (p1(x') + p0(x'))``, ``p_y`` the two Gaussian
densities. The first 2,000 examples train, the last 1,000 test. With means ``[1, 1]``
for ``y = 1`` instead, the unconstrained model reaches about 0.81 accuracy, not the
paper's 0.88; ``[2, 2]`` gives 0.87-0.89.

**Model** (NumPy by default; ``--keras`` trains the same model with Keras through
:class:`~fairtrain.data.SampledPyDataset` and :class:`~fairtrain.GroupLossProbe`):
``p(y=1 | x, z) = (tanh(w . [x, z] + b) + 1) / 2 = sigmoid(2 (w . [x, z] + b))``, the
paper's code's output for labels in {-1, 1}, binary cross-entropy; ``w ~ N(0, 0.2^2)``
and ``b = 0`` at the start (the initialisation of the paper's code); Adam (0.9, 0.999,
1e-8). Before every epoch (the first included) the per-cell mean losses on the whole
training set are fed to ``sampler.update`` (for demographic parity, the
loss of predicting ``y = 1``), as FairBatch does. "Without FairBatch" trains 300
epochs on :class:`~fairtrain.sampling.Proportional` batches.

**Disparity** (on the test set), the paper's definition: equal opportunity
``max_z |P(yhat=1 | y=1, z) - P(yhat=1 | y=1)|``; equalized odds the max of that over
``y in {0, 1}``; demographic parity ``max_z |P(yhat=1 | z) - P(yhat=1)|``.
"""

from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import fairtrain as ft
from fairtrain.experiments import OutputDir, OutputError, positive_int

#: (epochs, published accuracy, published disparity), Table of the paper's synthetic data.
PUBLISHED = {
    "equal_opportunity": (300, 0.855, 0.012),
    "equalized_odds": (400, 0.856, 0.038),
    "demographic_parity": (450, 0.794, 0.040),
    "none": (300, 0.88, 0.11),  # "about", read as equal opportunity's disparity
}
DISPARITY = {
    "equal_opportunity": "eo",
    "equalized_odds": "eodds",
    "demographic_parity": "dp",
    "none": "eo",
}
MU1, SIGMA1 = np.array([2.0, 2.0]), np.array([[5.0, 1.0], [1.0, 5.0]])
MU0, SIGMA0 = np.array([-2.0, -2.0]), np.array([[10.0, 1.0], [1.0, 3.0]])


def _density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    d = x - mean
    inv = np.linalg.inv(cov)
    quad = np.einsum("ni,ij,nj->n", d, inv, d)
    return np.exp(-0.5 * quad) / (2 * math.pi * math.sqrt(np.linalg.det(cov)))


def make_data(seed: int, *, n_per_label: int = 1500, n_train: int = 2000,
              angle: float = math.pi / 4) -> dict:
    """The synthetic data (see the module docstring): train and test x (with z), y, z."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2021]))
    x = np.vstack([rng.multivariate_normal(MU1, SIGMA1, n_per_label),
                   rng.multivariate_normal(MU0, SIGMA0, n_per_label)])
    y = np.repeat([1, 0], n_per_label)
    order = rng.permutation(y.size)
    x, y = x[order], y[order]
    rotation = np.array([[math.cos(angle), -math.sin(angle)],
                         [math.sin(angle), math.cos(angle)]])
    rotated = x @ rotation
    p1, p0 = _density(rotated, MU1, SIGMA1), _density(rotated, MU0, SIGMA0)
    z = (rng.uniform(size=y.size) < p1 / (p1 + p0)).astype(np.int64)
    xz = np.column_stack([x, z])
    return {"x_train": xz[:n_train], "y_train": y[:n_train], "z_train": z[:n_train],
            "x_test": xz[n_train:], "y_test": y[n_train:], "z_test": z[n_train:]}


FILES = ("xz_train", "y_train", "z_train", "xz_test", "y_test", "z_test")


def load_files(folder: str | Path) -> dict:
    """The paper's published data files in ``folder``, in :func:`make_data`'s layout.

    Labels in {-1, 1} become {0, 1} (``y > 0`` is positive); ``z`` must be 0/1.
    Raises ``FileNotFoundError`` naming the missing files, ``ValueError`` naming the
    file that is not a readable array or whose shape or values do not fit (NaN or
    infinite features, train and test of different widths).
    """
    folder = Path(folder)
    missing = [f"{name}.npy" for name in FILES if not (folder / f"{name}.npy").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} lacks {', '.join(missing)}; --data needs the six files "
            f"{', '.join(name + '.npy' for name in FILES)}."
        )
    raw = {}
    for name in FILES:
        try:
            raw[name] = np.load(folder / f"{name}.npy", allow_pickle=False)
        except (EOFError, OSError, ValueError) as exc:  # empty, truncated, not .npy
            raise ValueError(f"{name}.npy is not a readable .npy array: {exc}") from None
    out = {}
    for part in ("train", "test"):
        xz, y, z = raw[f"xz_{part}"], raw[f"y_{part}"].ravel(), raw[f"z_{part}"].ravel()
        if xz.ndim != 2 or not len(xz) == y.size == z.size:
            raise ValueError(
                f"xz_{part}.npy must be 2-D with one row per label and z; got shapes "
                f"{xz.shape}, {raw[f'y_{part}'].shape}, {raw[f'z_{part}'].shape}."
            )
        labels, sensitive = set(np.unique(y).tolist()), set(np.unique(z).tolist())
        if not (labels <= {-1, 1} or labels <= {0, 1}) or not sensitive <= {0, 1}:
            raise ValueError(
                f"y_{part}.npy must hold -1/1 or 0/1 and z_{part}.npy 0/1; got labels "
                f"{sorted(labels)} and groups {sorted(sensitive)}."
            )
        if not np.isfinite(xz.astype(float)).all():
            raise ValueError(f"xz_{part}.npy holds NaN or infinite features; the paper's "
                             "files hold none: check the file.")
        out[f"x_{part}"] = xz.astype(float)
        out[f"y_{part}"] = (y > 0).astype(np.int64)
        out[f"z_{part}"] = z.astype(np.int64)
    if out["x_train"].shape[1] != out["x_test"].shape[1]:
        raise ValueError(f"xz_train.npy has {out['x_train'].shape[1]} columns and "
                         f"xz_test.npy {out['x_test'].shape[1]}; they must be the same.")
    return out


def disparities(y_pred: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict:
    """Accuracy and the paper's three disparities of 0/1 predictions."""
    def rate(mask):
        return float(np.mean(y_pred[mask])) if mask.any() else float("nan")

    groups = np.unique(z)
    everyone = np.ones(y.size, dtype=bool)
    dev = {c: [abs(rate((y == c) & (z == g)) - rate(y == c)) for g in groups] for c in (0, 1)}
    return {
        "accuracy": float(np.mean(y_pred == y)),
        "eo": max(dev[1]),
        "eodds": max(dev[0] + dev[1]),
        "dp": max(abs(rate(z == g) - rate(everyone)) for g in groups),
    }


def _cell_losses(theta: np.ndarray, xb: np.ndarray, target: np.ndarray, codes: np.ndarray,
                 k: int) -> np.ndarray:
    logit = 2.0 * (xb @ theta)
    # binary cross-entropy of sigmoid(logit), written stably
    loss = np.logaddexp(0.0, logit) - target * logit
    return np.bincount(codes, weights=loss, minlength=k) / np.bincount(codes, minlength=k)


def train_numpy(data: dict, objective: str, seed: int, epochs: int, *, alpha: float,
                batch_size: int, learning_rate: float) -> dict:
    """Train the logistic regression in NumPy; return test metrics and the last lambdas."""
    x, y, z = data["x_train"], data["y_train"], data["z_train"]
    groups = ft.Groups.from_columns({"label": y, "z": z})
    if objective == "none":
        sampler = ft.sampling.Proportional(groups, batch_size=batch_size, seed=seed)
    else:
        sampler = ft.sampling.FairBatch(groups, batch_size=batch_size, objective=objective,
                                        positive=1, alpha=alpha, seed=seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    xb = np.column_stack([x, np.ones(len(y))])
    theta = np.append(rng.normal(0.0, 0.2, x.shape[1]), 0.0)  # w ~ N(0, 0.2^2), b = 0
    m, v, t = np.zeros_like(theta), np.zeros_like(theta), 0
    yf = y.astype(float)
    target = np.ones_like(yf) if objective == "demographic_parity" else yf
    for epoch in range(epochs):
        if objective != "none":  # before every epoch, on the whole training set
            sampler.update(_cell_losses(theta, xb, target, groups.codes, groups.n_groups))
        for row in sampler.plan(epoch):
            idx = row[row >= 0]
            logit = 2.0 * (xb[idx] @ theta)
            grad = xb[idx].T @ (2.0 * (1 / (1 + np.exp(-logit)) - yf[idx])) / idx.size
            t += 1
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            theta -= learning_rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    pred = (np.column_stack([data["x_test"], np.ones(len(data["y_test"]))]) @ theta > 0)
    out = disparities(pred.astype(int), data["y_test"], data["z_test"])
    if objective != "none":
        out["lambdas"] = sampler.lambdas.tolist()
    return out


def train_keras(data: dict, objective: str, seed: int, epochs: int, *, alpha: float,
                batch_size: int, learning_rate: float) -> dict:
    """The same model trained by Keras, FairBatch fed by GroupLossProbe."""
    import keras

    x, y, z = data["x_train"], data["y_train"], data["z_train"]
    groups = ft.Groups.from_columns({"label": y, "z": z})
    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(stddev=0.2, seed=seed)
    model = keras.Sequential([
        keras.Input((x.shape[1],)),
        keras.layers.Dense(1, kernel_initializer=init, bias_initializer="zeros"),
        keras.layers.Rescaling(2.0),  # (tanh(o) + 1) / 2 = sigmoid(2 o)
        keras.layers.Activation("sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    x32, y32 = x.astype("float32"), y.astype("float32")
    callbacks = []
    if objective == "none":
        sampler = ft.sampling.Proportional(groups, batch_size=batch_size, seed=seed)
    else:
        sampler = ft.sampling.FairBatch(groups, batch_size=batch_size, objective=objective,
                                        positive=1, alpha=alpha, seed=seed)
        probe = ft.GroupLossProbe(x32, y32, groups, consumers=[sampler], size=len(y))
        probe.set_model(model)
        sampler.update(probe.measure(sampler.loss_target))  # the paper's step before epoch 0
        callbacks.append(probe)
    train = ft.data.SampledPyDataset(sampler, lambda i: (x32[i], y32[i]))
    model.fit(train, epochs=epochs, verbose=0, callbacks=[ft.data.EpochSync(train), *callbacks])
    pred = model.predict(data["x_test"].astype("float32"), verbose=0)[:, 0] > 0.5
    out = disparities(pred.astype(int), data["y_test"], data["z_test"])
    if objective != "none":
        out["lambdas"] = sampler.lambdas.tolist()
    return out


def _one(task: tuple) -> tuple:
    objective, data_seed, seed, epochs, kwargs, keras_path, files = task
    data = files if files is not None else make_data(data_seed)
    start = time.perf_counter()
    fn = train_keras if keras_path else train_numpy
    out = fn(data, objective, seed, epochs, **kwargs)
    out["seconds"] = round(time.perf_counter() - start, 2)
    return objective, data_seed, seed, out


def summarise(runs: dict) -> dict:
    """Mean and standard deviation of accuracy and of each objective's disparity."""
    table = {}
    for objective, by_run in runs.items():
        key = DISPARITY[objective]
        acc = np.array([r["accuracy"] for r in by_run])
        disp = np.array([r[key] for r in by_run])
        _, pub_acc, pub_disp = PUBLISHED[objective]
        table[objective] = {
            "runs": len(by_run), "accuracy": float(acc.mean()), "accuracy_sd": float(acc.std()),
            "disparity": float(disp.mean()), "disparity_sd": float(disp.std()),
            "published_accuracy": pub_acc, "published_disparity": pub_disp,
        }
    return table


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--data-seeds", type=int, nargs="+", default=[0],
                        help="data draws; every seed runs on every draw")
    parser.add_argument("--data", metavar="DIR",
                        help="read the paper's six .npy files from DIR instead of drawing "
                        "the data (--data-seeds is then ignored)")
    parser.add_argument("--objectives", nargs="+", default=list(PUBLISHED),
                        choices=list(PUBLISHED))
    parser.add_argument("--epochs", type=positive_int, help="override the paper's epochs")
    parser.add_argument("--alpha", type=float, default=0.005)
    parser.add_argument("--batch-size", type=positive_int, default=100)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--keras", action="store_true", help="train with Keras (slow)")
    parser.add_argument("--jobs", type=positive_int, default=1)
    parser.add_argument("--smoke", action="store_true", help="2 seeds, 5 epochs")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for results.json: new, empty, or written by an earlier "
                        "run (replaced with --force)")
    parser.add_argument("--force", action="store_true",
                        help="replace the files an earlier run wrote in --out (only those)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.epochs = args.seeds[:2], 5
    if args.data:
        args.data_seeds = ["files"]
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    files = None
    if args.data:  # read once; a missing or malformed file is refused before any output
        try:
            files = load_files(args.data)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: {exc}") from None
    folder = None
    if args.out:  # refused before any training, never over a file fairtrain did not write
        try:
            folder = OutputDir(args.out, force=args.force,
                               tool="examples/fairbatch_synthetic.py")
        except OutputError as exc:
            raise SystemExit(f"error: {exc.for_command_line()}") from None
    kwargs = {"alpha": args.alpha, "batch_size": args.batch_size,
              "learning_rate": args.learning_rate}
    tasks = [(o, d, s, args.epochs or PUBLISHED[o][0], kwargs, args.keras, files)
             for o in args.objectives for d in args.data_seeds for s in args.seeds]
    runs: dict = {o: [] for o in args.objectives}
    detail: list = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(_one, tasks))
    else:
        done = map(_one, tasks)
    for objective, data_seed, seed, out in done:
        runs[objective].append(out)
        detail.append({"objective": objective, "data_seed": data_seed, "seed": seed, **out})
        if not args.quiet:
            print(f"{objective:>18} data {data_seed} seed {seed}: acc {out['accuracy']:.3f} "
                  f"disparity {out[DISPARITY[objective]]:.3f} ({out['seconds']} s)", flush=True)
    table = summarise(runs)
    if not args.quiet:
        print(f"\n{'objective':<19}{'runs':>5}  {'accuracy':>15}  {'published':>9}  "
              f"{'disparity':>15}  {'published':>9}")
        for objective, r in table.items():
            print(f"{objective:<19}{r['runs']:>5}  {r['accuracy']:.3f} ± {r['accuracy_sd']:.3f}"
                  f"  {r['published_accuracy']:>9.3f}  {r['disparity']:.3f} ± "
                  f"{r['disparity_sd']:.3f}  {r['published_disparity']:>9.3f}")
    results = {"args": {k: v for k, v in vars(args).items() if k not in ("out", "force")},
               "table": table, "runs": detail}
    if folder is not None:
        folder.write_json("results.json", results)
        folder.finish()
    return results


if __name__ == "__main__":
    main()
