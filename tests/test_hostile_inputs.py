"""Hostile inputs to the public entries: each must be refused with an error that names the
input, the problem and the fix (issue 19 §4).

Every case is a call, the exception type it must raise and a regular expression the
message must match (case-insensitive, across lines; a tuple of expressions must all
match, in any order). The expressions ask for the input's
name (an argument, a path, an option) *and* a fix or the constraint to meet, so a bare
"expected non-negative integer" or a PIL message without the file fails.

``python tests/test_hostile_inputs.py`` prints the verdict of every case without pytest:

* ``clear``: the expected type, and the message matches;
* ``unclear``: an error, but of another type or with a message that does not match;
* ``silent``: no error at all (the input was accepted: a wrong result, or lost data);
* ``crash``: an exception from the internals (not a ValueError, TypeError or OSError:
  an AttributeError, a TensorFlow or zip error, SystemExit ...).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

import fairtrain as ft
from fairtrain import registry
from fairtrain.datasets import FaceDataset

# --------------------------------------------------------------------------- the cases


class CLIError(Exception):
    """A ``fairtrain`` command that ended with a non-zero status; the message is stderr."""


@dataclass
class Case:
    id: str
    call: Callable[[Path], Any]
    raises: type[BaseException] | tuple[type[BaseException], ...]
    match: str | tuple[str, ...]  # a tuple: every expression must match, in any order
    owner: str | None = None  # the branch whose work fixes it, when not this one
    needs: tuple[str, ...] = ()  # optional modules the case imports


CASES: list[Case] = []


def case(id: str, raises: Any, match: str | tuple[str, ...], *, owner: str | None = None,
         needs: tuple[str, ...] = ()) -> Callable[[Callable[[Path], Any]], Callable]:
    def add(call: Callable[[Path], Any]) -> Callable[[Path], Any]:
        CASES.append(Case(id, call, raises, match, owner, needs))
        return call
    return add


def groups4(n: int = 40) -> ft.Groups:
    """Four ethnicities, 10 examples each."""
    return ft.Groups.from_columns({"ethnicity": np.repeat(["A", "B", "C", "D"], n // 4)})


def cli(*argv: str) -> int:
    """Run ``fairtrain *argv``; a non-zero status raises CLIError with stderr."""
    from fairtrain.cli import main

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code if isinstance(exc.code, int) else 2
        if code == 0:
            return 0
        raise CLIError(err.getvalue() or str(exc.code)) from None
    if code:
        raise CLIError(err.getvalue())
    return code


@contextlib.contextmanager
def read_only(folder: Path) -> Any:
    """``folder`` made read-only; as root (who writes anyway) creating in it is refused."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    original = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.parent == folder or folder in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        original(self, *args, **kwargs)

    with mock.patch.object(Path, "mkdir", mkdir):
        yield folder


def write_csv(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def predictions_csv(tmp: Path) -> Path:
    rows = ["y,pred,eth"] + [f"{i % 2},{(i // 2) % 2},{'AB'[i % 2]}" for i in range(40)]
    return write_csv(tmp / "pred.csv", "\n".join(rows) + "\n")


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A valid RGB PNG of the given size (the IHDR may claim a huge one: see bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80" * (3 * 4) for _ in range(4))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


# ---- Groups, bins


@case("groups-levels-a-string", (TypeError, ValueError),
      r"`levels`.*mapping.*\{'?ethnicity'?:")
def _(tmp):
    ft.Groups.from_columns({"ethnicity": ["Asian", "White"]}, levels="Asian")


@case("groups-levels-of-one-attribute-a-string", TypeError,
      r"levels of 'ethnicity'.*'Asian'.*(list|sequence).*\[")
def _(tmp):
    ft.Groups.from_columns({"ethnicity": ["Asian", "Asian"]}, levels={"ethnicity": "Asian"})


@case("groups-lengths-differ", ValueError, r"same length.*'a': 2.*'b': 3")
def _(tmp):
    ft.Groups.from_columns({"a": [1, 2], "b": [1, 2, 3]})


@case("groups-missing-value", ValueError, r"'a'.*missing.*index 1.*fill")
def _(tmp):
    ft.Groups.from_columns({"a": ["x", None, "y"]})


@case("groups-value-not-in-levels", ValueError, r"'a'.*not among its levels.*'z'.*add")
def _(tmp):
    ft.Groups.from_columns({"a": ["x", "z"]}, levels={"a": ["x", "y"]})


@case("groups-levels-unknown-attribute", ValueError, r"`levels`.*unknown.*'b'.*columns.*'a'")
def _(tmp):
    ft.Groups.from_columns({"a": ["x", "y"]}, levels={"b": ["x"]})


@case("groups-min-count-zero", ValueError, r"`min_count`.*>= 1.*got.*0")
def _(tmp):
    ft.Groups.from_columns({"a": ["x", "y"]}, min_count=0)


@case("groups-policy-unknown", ValueError, r'`policy`.*"merge".*"drop".*"error".*skip')
def _(tmp):
    ft.Groups.from_columns({"a": ["x", "y"]}, policy="skip")


@case("groups-empty-columns", ValueError, r"`columns` is empty.*at least one")
def _(tmp):
    ft.Groups.from_columns({})


@case("groups-2d-column", ValueError, r"'a'.*one-dimensional.*\(2, 2\)")
def _(tmp):
    ft.Groups.from_columns({"a": [[1, 2], [3, 4]]})


@case("groups-from-codes-negative", ValueError, r"`codes`.*non-negative.*-1")
def _(tmp):
    ft.Groups.from_codes([0, -1, 1])


@case("groups-from-codes-floats", TypeError, r"`codes`.*integers.*float")
def _(tmp):
    ft.Groups.from_codes([0.0, 1.5])


@case("groups-attribute-unknown", (KeyError, ValueError), r"'race'.*attributes.*'ethnicity'")
def _(tmp):
    groups4().attribute("race")


@case("bins-edges-decreasing", ValueError, r"`edges`.*strictly increasing")
def _(tmp):
    ft.bins([1, 2], [10, 0])


@case("bins-values-nan", ValueError, r"`values`.*NaN.*index 1.*impute")
def _(tmp):
    ft.bins([1.0, np.nan], [0, 10])


@case("bins-values-outside", ValueError, r"outside the bins.*\[0, 10\].*widen `edges`")
def _(tmp):
    ft.bins([1, 50], [0, 10])


@case("bins-labels-count", ValueError, r"`labels`.*one label per bin \(2\).*got 1")
def _(tmp):
    ft.bins([1, 5], [0, 5, 10], labels=["young"])


@case("bins-values-strings", (TypeError, ValueError), r"`values`.*numbers.*'young'")
def _(tmp):
    ft.bins(["young", "old"], [0, 10])


@case("bins-edges-a-string", (TypeError, ValueError), r"`edges`.*numbers.*'0-10'")
def _(tmp):
    ft.bins([1, 2], "0-10")


@case("groups-from-codes-names-short", ValueError, r"`names`.*2 name.*code 2.*(3|one name per)")
def _(tmp):
    ft.Groups.from_codes([0, 1, 2], ["a", "b"])


@case("groups-take-empty", None, "")  # an empty selection is valid: empty groups
def _(tmp):
    part = groups4().take([])
    assert len(part) == 0 and part.names == ("A", "B", "C", "D")


@case("groups-take-out-of-range", IndexError, r"`indices`.*100.*40 examples")
def _(tmp):
    groups4().take([100])


# ---- samplers


@case("sampler-batch-size-zero", ValueError, r"`batch_size`.*>= 1.*got.*0")
def _(tmp):
    ft.sampling.Homogeneous(groups4(), batch_size=0)


@case("sampler-batch-smaller-than-groups", ValueError, r"`batch_size`.*number of groups.*4.*3")
def _(tmp):
    ft.sampling.Homogeneous(groups4(), batch_size=3)


@case("sampler-seed-negative", ValueError, r"`seed`.*>= 0")
def _(tmp):
    ft.sampling.Homogeneous(groups4(), batch_size=8, seed=-1).plan(0)


@case("sampler-seed-float", TypeError, r"`seed`.*int.*1\.5")
def _(tmp):
    ft.sampling.Homogeneous(groups4(), batch_size=8, seed=1.5).plan(0)


@case("sampler-last-batch-unknown", ValueError, r"`last_batch`.*\"partial\".*\"drop\".*keep")
def _(tmp):
    ft.sampling.Proportional(groups4(), batch_size=8, last_batch="keep")


@case("sampler-target-unknown-group", ValueError, r"`shares`.*unknown group.*'E'.*groups are")
def _(tmp):
    ft.sampling.TargetShares(groups4(), shares={"E": 1.0}, batch_size=8)


@case("sampler-target-shares-sum", ValueError, r"`shares`.*sum to 1.*divide")
def _(tmp):
    ft.sampling.TargetShares(groups4(), shares=[1, 1, 1, 1], batch_size=8)


@case("sampler-target-shares-a-string", (TypeError, ValueError),
      ("`shares`.*'uniform'", "mapping|sequence|one share per group"))
def _(tmp):
    ft.sampling.TargetShares(groups4(), shares="uniform", batch_size=8)


@case("sampler-plan-negative-epoch", ValueError, r"`epoch`.*>= 0.*-1")
def _(tmp):
    ft.sampling.Homogeneous(groups4(), batch_size=8).plan(-1)


@case("sampler-groups-not-groups", (TypeError, ValueError), r"`groups`.*Groups")
def _(tmp):
    ft.sampling.Homogeneous("ethnicity", batch_size=8)


@case("sampler-set-state-missing-key", (KeyError, ValueError), r"state.*'epoch'.*get_state")
def _(tmp):
    ft.sampling.Homogeneous(groups4(), batch_size=8).set_state({"step": 0})


@case("adaptive-step-size-negative", ValueError, r"`step_size`.*-0\.5")
def _(tmp):
    ft.sampling.Adaptive(groups4(), batch_size=8, step_size=-0.5)


# ---- data adapters


@case("pydataset-load-not-callable", TypeError, r"`load_batch`.*callable.*str",
      needs=("keras",))
def _(tmp):
    ft.data.SampledPyDataset(ft.sampling.Homogeneous(groups4(), batch_size=8), "load")


@case("pydataset-not-a-sampler", TypeError, r"`sampler`.*(sampler|plan).*Groups",
      needs=("keras",))
def _(tmp):
    ft.data.SampledPyDataset(groups4(), lambda i: (i, i))


@case("pydataset-sample-weight-short", ValueError, r"`sample_weight`.*\(40,\).*\(39,\)",
      needs=("keras",))
def _(tmp):
    ft.data.SampledPyDataset(ft.sampling.Homogeneous(groups4(), batch_size=8),
                             lambda i: (i, i), sample_weight=np.ones(39))


@case("tf-dataset-load-not-callable", TypeError, r"`load`.*callable.*NoneType",
      needs=("tensorflow",))
def _(tmp):
    ft.data.to_tf_dataset(ft.sampling.Homogeneous(groups4(), batch_size=8), None)


@case("tf-dataset-load-returns-none", TypeError, r"`load` returned None.*\(x, y\)",
      needs=("tensorflow",))
def _(tmp):
    ft.data.to_tf_dataset(ft.sampling.Homogeneous(groups4(), batch_size=8), lambda i: None)


@case("pydataset-load-returns-none", TypeError, r"`load_batch` returned None.*\(x, y\)",
      needs=("keras",))
def _(tmp):
    ft.data.SampledPyDataset(ft.sampling.Homogeneous(groups4(), batch_size=8),
                             lambda i: None)[0]


# ---- weights and GroupDRO


@case("weights-scheme-unknown", ValueError, r"'invers'.*did you mean.*'inverse'")
def _(tmp):
    ft.group_weights(groups4(), scheme="invers")


@case("weights-negative-clip", ValueError, r"`clip`.*> 0.*-1")
def _(tmp):
    ft.sample_weights(groups4(), scheme="inverse", clip=-1.0)


@case("weights-effective-number-beta", ValueError, r"`beta`.*\[0, 1\).*1\.5")
def _(tmp):
    ft.group_weights(groups4(), scheme="effective_number", beta=1.5)


@case("weights-reweighing-without-labels", ValueError, r"reweighing.*labels=")
def _(tmp):
    ft.group_weights(groups4(), scheme="reweighing")


@case("weights-labels-short", ValueError, r"`labels`.*40.*39")
def _(tmp):
    ft.group_weights(groups4(), scheme="reweighing", labels=np.zeros(39, int))


@case("dro-step-size-negative", ValueError, r"`step_size`.*>= 0.*-1")
def _(tmp):
    ft.GroupDRO(groups4(), step_size=-1)


@case("dro-update-wrong-length", ValueError, r"4 group.*got 3|one loss per group.*4.*3")
def _(tmp):
    ft.GroupDRO(groups4()).update([1.0, 2.0, 3.0])


@case("dro-update-infinite", ValueError, r"infinite.*'A'|infinite.*group")
def _(tmp):
    ft.GroupDRO(groups4()).update([np.inf, 1.0, 1.0, 1.0])


@case("dro-weighted-not-callable", TypeError, r"`load_batch`.*callable")
def _(tmp):
    ft.GroupDRO(groups4()).weighted(3)


@case("dro-set-state-missing-key", (KeyError, ValueError), r"state.*'group_weights'.*get_state")
def _(tmp):
    ft.GroupDRO(groups4()).set_state({})


# ---- metrics, bias_report, leaderboard


@case("report-lengths-differ", ValueError, r"one entry per example.*y_true=4.*y_pred=3")
def _(tmp):
    ft.bias_report([1, 2, 3, 4], [1, 2, 3], ["a", "a", "b", "b"])


@case("report-metric-unknown", ValueError, r"'recal'.*did you mean.*'recall'")
def _(tmp):
    ft.bias_report([1, 0], [1, 0], ["a", "b"], metric="recal")


@case("report-average-with-accuracy", (TypeError, ValueError),
      r"'accuracy'.*(does not take|takes no).*`?average`?.*(remove|only|recall|precision)")
def _(tmp):
    ft.bias_report([1, 0, 1, 0], [1, 0, 0, 0], ["a", "a", "b", "b"], metric="accuracy",
                   metric_kwargs={"average": "macro"})


@case("report-bootstrap-negative", ValueError, r"`n_bootstrap`.*>= 0.*-1")
def _(tmp):
    ft.bias_report([1, 0], [1, 0], ["a", "b"], n_bootstrap=-1)


@case("report-seed-negative", ValueError, r"`seed`.*>= 0.*-1")
def _(tmp):
    ft.bias_report([1, 0, 1, 0], [1, 0, 0, 1], ["a", "a", "b", "b"], n_bootstrap=5, seed=-1)


@case("report-confidence-one", ValueError, r"`confidence`.*\(0, 1\).*1")
def _(tmp):
    ft.bias_report([1, 0], [1, 0], ["a", "b"], confidence=1.0)


@case("report-metric-kwargs-not-mapping", TypeError, r"`metric_kwargs`.*(mapping|dict)")
def _(tmp):
    ft.bias_report([1, 0], [1, 0], ["a", "b"], metric="recall", metric_kwargs="macro")


@case("report-greater-is-better-a-string", TypeError, r"`greater_is_better`.*True.*False.*'yes'")
def _(tmp):
    ft.bias_report([1, 0], [1, 0], ["a", "b"], greater_is_better="yes")


# (recall() itself gives NaN there: on one group's examples the class may be absent)
@case("report-pos-label-absent", ValueError,
      r"`pos_label`.*5.*(classes|labels).*\[0, 1\].*pass pos_label")
def _(tmp):
    ft.bias_report([0, 1, 1], [0, 1, 0], ["a", "a", "b"], metric="recall",
                   metric_kwargs={"average": "binary", "pos_label": 5})


@case("recall-average-unknown", ValueError, r'`average`.*"binary".*"macro".*mean')
def _(tmp):
    ft.metrics.recall([1, 0], [1, 0], average="mean")


@case("mae-strings", (TypeError, ValueError), r"`y_true`.*numeric.*<U1")
def _(tmp):
    ft.metrics.mae(["a", "b"], [1, 2])


@case("mae-nan", ValueError, r"`y_pred`.*NaN.*impute")
def _(tmp):
    ft.metrics.mae([1.0, 2.0], [1.0, np.nan])


@case("leaderboard-empty", ValueError, r"(table|entries).*empty")
def _(tmp):
    ft.metrics.leaderboard_rank(np.empty((0, 3)))


@case("leaderboard-nan", ValueError, r"NaN.*(entry|row|score)")
def _(tmp):
    ft.metrics.leaderboard_rank([[0.1, np.nan], [0.2, 0.3]])


@case("leaderboard-direction-length", ValueError,
      r"`greater_is_better`.*one bool or one per score \(2\).*\[False, False, False\]")
def _(tmp):
    ft.metrics.leaderboard_rank([[0.1, 0.2], [0.2, 0.3]], greater_is_better=[False] * 3)


@case("leaderboard-columns-differ", ValueError, ("'mae': 2", "'bias': 3", "one value per entry"))
def _(tmp):
    ft.metrics.leaderboard_rank({"mae": [1.0, 2.0], "bias": [1.0, 2.0, 3.0]})


@case("leaderboard-strings", (TypeError, ValueError), r"`table`.*numbers.*'a'")
def _(tmp):
    ft.metrics.leaderboard_rank([["a", "b"], ["c", "d"]])


@case("pairwise-bias-strings", TypeError, ("`values`", "number", "'a'"))
def _(tmp):
    ft.metrics.pairwise_bias(["a", "b"])


@case("confusion-unknown-label", ValueError, r"`labels`.*'c'|'c'.*not (among|in) .*labels")
def _(tmp):
    ft.metrics.confusion_by_group(["a", "c"], ["a", "a"], ["g", "g"], labels=["a", "b"])


# ---- registry


@case("registry-kind-unknown", ValueError, r"kind 'sampler'.*kinds are.*'samplers'")
def _(tmp):
    registry.get("sampler", "homogeneous")


@case("registry-name-close", ValueError, r"'homogenous'.*did you mean.*'homogeneous'")
def _(tmp):
    registry.get("samplers", "homogenous")


@case("registry-name-not-a-string", TypeError, r"`name`.*string.*5")
def _(tmp):
    registry.get("metrics", 5)


@case("registry-register-not-callable", TypeError,
      r"'five'.*not callable.*(function|class)")
def _(tmp):
    registry.register("metrics", "five")(5)
    registry.unregister("metrics", "five")  # accepted: leave the registry as it was


@case("testing-check-sampler-not-a-sampler", TypeError, r"`sampler`.*class or instance.*5")
def _(tmp):
    ft.testing.check_sampler(5)


@case("testing-check-metric-seed-negative", ValueError, r"`seed`.*>= 0.*-1")
def _(tmp):
    ft.testing.check_metric("mae", seed=-1)


@case("registry-metric-plugin-not-callable", (TypeError, ft.PluginError),
      r"'half'.*not callable.*(function|class)")
def _(tmp):
    # a plugin registered by hand (or an entry point) whose object is not a function
    plugin = registry.Plugin("metrics", "half", "m:half", "dist", _object=0.5, _loaded=True)
    registry._in_process["metrics"]["half"] = plugin
    try:
        ft.bias_report([1, 0], [1, 0], ["a", "b"], metric="half")
    finally:
        del registry._in_process["metrics"]["half"]


# ---- datasets: images


def _image_case(id: str, content: Callable[[], bytes], suffix: str = ".jpg",
                match: str = r"bad{suffix}.*(remove|replace|re-?download)") -> None:
    @case(id, ValueError, match.format(suffix=re.escape(suffix)), needs=("PIL",))
    def _(tmp):
        path = tmp / f"bad{suffix}"
        path.write_bytes(content())
        ft.datasets.load_images([path])


_image_case("image-zero-byte", lambda: b"")
_image_case("image-not-an-image", lambda: b"name,age\nann,3\n")
_image_case("image-truncated-jpeg", lambda: jpeg_bytes()[:300])
_image_case("image-decompression-bomb", lambda: png_bytes(20000, 20000), ".png",
            r"bad\.png.*(pixels|large).*(MAX_IMAGE_PIXELS|remove|resize)")


@case("image-missing", FileNotFoundError, r"nothere\.jpg")
def _(tmp):
    ft.datasets.load_images([tmp / "nothere.jpg"])


@case("image-a-folder", ValueError, r"sub.*is a folder, not an image")
def _(tmp):
    (tmp / "sub").mkdir()
    ft.datasets.load_images([tmp / "sub"])


@case("image-size-zero", ValueError, r"`size`.*>= 1.*\(0, 32\)")
def _(tmp):
    ft.datasets.load_images([], size=(0, 32))


@case("image-size-an-int", (TypeError, ValueError), r"`size`.*\(height, width\).*32.*\(32, 32\)")
def _(tmp):
    ft.datasets.load_images([], size=32)


@case("tf-image-loader-y-short", ValueError, r"`y`.*one (row )?per path.*2",
      needs=("tensorflow",))
def _(tmp):
    ft.datasets.tf_image_loader(["/a.jpg", "/b.jpg"], y=[1])


@case("tf-image-loader-zero-byte", ValueError, r"bad\.jpg.*(empty|not an image).*(remove|replace)",
      needs=("tensorflow",))
def _(tmp):
    import tensorflow as tf

    (tmp / "bad.jpg").write_bytes(b"")
    load = ft.datasets.tf_image_loader([str(tmp / "bad.jpg")])
    try:
        load(tf.constant(0, tf.int64))
    except tf.errors.InvalidArgumentError as exc:  # TF's own error, path or not
        raise ValueError(exc.message) from None


# ---- datasets: TFRecords


def _tfrecord(tmp: Path) -> Path:
    image = tmp / "0.jpg"
    image.write_bytes(jpeg_bytes())
    ds = FaceDataset(paths=[str(image)] * 3, columns={"gender": ["f", "m", "f"]})
    return Path(ft.datasets.write_tfrecords(ds, tmp / "split.tfrecord"))


@case("tfrecords-sidecar-not-json", ValueError,
      r"split\.tfrecord\.json.*(not JSON|not valid JSON|unreadable).*(write_tfrecords|rewrite)",
      needs=("tensorflow", "PIL"))
def _(tmp):
    path = _tfrecord(tmp)
    Path(str(path) + ".json").write_text("{not json")
    ft.datasets.read_tfrecords(path)


@case("tfrecords-sidecar-unknown-kind", ValueError,
      r"split\.tfrecord\.json.*'gender'.*'complex'.*(int|float|bool|str)",
      needs=("tensorflow", "PIL"))
def _(tmp):
    path = _tfrecord(tmp)
    sidecar = Path(str(path) + ".json")
    meta = json.loads(sidecar.read_text())
    meta["columns"]["gender"] = "complex"
    sidecar.write_text(json.dumps(meta))
    ft.datasets.read_tfrecords(path)


@case("tfrecords-sidecar-a-list", ValueError,
      r"split\.tfrecord\.json.*not a description written by write_tfrecords",
      needs=("tensorflow", "PIL"))
def _(tmp):
    path = _tfrecord(tmp)
    Path(str(path) + ".json").write_text("[1, 2]")
    ft.datasets.read_tfrecords(path)


@case("tfrecords-truncated", ValueError,
      r"split\.tfrecord.*(truncated|corrupt).*(write_tfrecords|rewrite|again)",
      needs=("tensorflow", "PIL"))
def _(tmp):
    path = _tfrecord(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    ft.datasets.read_tfrecords(path)


@case("tfrecords-missing-sidecar", FileNotFoundError, r"split\.tfrecord\.json.*must.*exist",
      needs=("tensorflow", "PIL"))
def _(tmp):
    path = _tfrecord(tmp)
    Path(str(path) + ".json").unlink()
    ft.datasets.read_tfrecords(path)


@case("tfrecords-column-named-image", ValueError, r"column 'image'.*rename",
      needs=("tensorflow",))
def _(tmp):
    ds = FaceDataset(paths=["/x.jpg"], columns={"image": ["a"]})
    ft.datasets.write_tfrecords(ds, tmp / "s.tfrecord")


# ---- datasets: loaders and FaceDataset


def _vgg(tmp: Path, csv_bytes: bytes) -> FaceDataset:
    (tmp / "root" / "n001").mkdir(parents=True)
    (tmp / "root" / "n001" / "1.jpg").write_bytes(b"x")
    write_csv(tmp / "eth.csv", csv_bytes)
    return ft.datasets.load_vggface2(tmp / "root", tmp / "eth.csv")


@case("vggface2-csv-not-utf8", ValueError, r"eth\.csv.*(UTF-8|encoding).*(save|convert|re-?encode)")
def _(tmp):
    _vgg(tmp, "Class_ID,ethnicity\nn001,Asian\nn002,Latin/Caucasian\nné,Asian\n".encode("latin-1"))


@case("vggface2-csv-duplicate-column", ValueError, r"eth\.csv.*'ethnicity'.*twice|duplicate")
def _(tmp):
    _vgg(tmp, b"Class_ID,ethnicity,ethnicity\nn001,Asian,African\n")


@case("vggface2-unknown-ethnicity", ValueError, r"eth\.csv:2.*'Martian'.*not one of")
def _(tmp):
    _vgg(tmp, b"Class_ID,ethnicity\nn001,Martian\n")


@case("vggface2-levels-a-string", TypeError, r"`levels`.*'Asian'.*(list|sequence)")
def _(tmp):
    (tmp / "root").mkdir()
    write_csv(tmp / "eth.csv", b"Class_ID,ethnicity\nn001,Asian\n")
    ft.datasets.load_vggface2(tmp / "root", tmp / "eth.csv", levels="Asian")


@case("utkface-root-a-file", FileNotFoundError, r"UTKFace root.*'.*f\.txt'.*not a directory")
def _(tmp):
    (tmp / "f.txt").write_text("x")
    ft.datasets.load_utkface(tmp / "f.txt")


@case("utkface-root-none", TypeError, r"UTKFace root.*path.*None")
def _(tmp):
    ft.datasets.load_utkface(None)


@case("utkface-parse-not-a-string", TypeError, r"`filename`.*str.*5.*(basename|\.name)")
def _(tmp):
    ft.datasets.parse_utkface_name(5)


@case("celeba-attributes-not-utf8", ValueError,
      r"list_attr_celeba\.txt.*(UTF-8|encoding).*(save|convert|re-?encode)")
def _(tmp):
    (tmp / "img_align_celeba").mkdir()
    (tmp / "list_attr_celeba.txt").write_bytes("1\nMale Young\n000001.jpg 1 -1 é\n"
                                                .encode("latin-1"))
    (tmp / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    ft.datasets.load_celeba(tmp)


@case("celeba-partition-unknown", ValueError, r'`partition`.*"train".*"valid".*val')
def _(tmp):
    ft.datasets.load_celeba(tmp, partition="val")


@case("split-fraction", ValueError, r"`test_size`.*\[0, 1\).*1\.5")
def _(tmp):
    ds = FaceDataset(paths=["/a", "/b"], columns={"g": ["x", "y"]})
    ft.datasets.split(ds, test_size=1.5)


@case("split-seed-negative", ValueError, r"`seed`.*>= 0.*-1")
def _(tmp):
    ds = FaceDataset(paths=["/a", "/b"], columns={"g": ["x", "y"]})
    ft.datasets.split(ds, seed=-1)


@case("synthetic-seed-negative", ValueError, r"`seed`.*>= 0.*-1", needs=("PIL",))
def _(tmp):
    ft.datasets.synthetic.write_utkface(tmp / "u", n=10, seed=-1)


@case("facedataset-take-empty", None, "")  # an empty selection is a valid (empty) dataset
def _(tmp):
    ds = FaceDataset(paths=["/a", "/b"], columns={"g": ["x", "y"]})
    assert len(ds.take([])) == 0 and ds.take([]).columns["g"].shape == (0,)


@case("facedataset-take-out-of-range", IndexError, r"`index`.*5.*2 rows")
def _(tmp):
    FaceDataset(paths=["/a", "/b"], columns={"g": ["x", "y"]}).take([5])


@case("facedataset-take-float", (TypeError, IndexError, ValueError),
      r"`index`.*integers.*1\.5")
def _(tmp):
    FaceDataset(paths=["/a", "/b"], columns={"g": ["x", "y"]}).take([1.5])


@case("facedataset-groups-unknown-column", (KeyError, ValueError), r"'race'.*columns.*'g'")
def _(tmp):
    FaceDataset(paths=["/a", "/b"], columns={"g": ["x", "y"]}).groups("race")


@case("facedataset-levels-a-string", TypeError, r"levels of 'g'.*list.*'Asian'")
def _(tmp):
    FaceDataset(paths=["/a"], columns={"g": ["Asian"]}, levels={"g": "Asian"})


# ---- experiments: OutputDir


@case("outputdir-a-file", ValueError,
      r"'.*f\.txt' is a file.*(choose|folder)")
def _(tmp):
    from fairtrain.experiments import OutputDir

    (tmp / "f.txt").write_text("x")
    OutputDir(tmp / "f.txt")


@case("outputdir-parent-a-file", ValueError, r"'.*f\.txt/out'.*(cannot|not) (be )?(create|writ).*"
      r"f\.txt.*(is a file|not a (folder|directory)).*(choose|another)")
def _(tmp):
    from fairtrain.experiments import OutputDir

    (tmp / "f.txt").write_text("x")
    OutputDir(tmp / "f.txt" / "out")


@case("outputdir-read-only", ValueError, r"'.*ro/out'.*(cannot|not) (be )?(create|writ).*"
      r"(permission|read-only).*(choose|another)")
def _(tmp):
    from fairtrain.experiments import OutputDir

    with read_only(tmp / "ro"):
        OutputDir(tmp / "ro" / "out")


@case("outputdir-earlier-run", ValueError, r"earlier fairtrain run.*force=True")
def _(tmp):
    from fairtrain.experiments import OutputDir

    out = OutputDir(tmp / "o")
    out.write_text("a.txt", "x")
    getattr(out, "finish", lambda: None)()  # (older versions: every run counted finished)
    OutputDir(tmp / "o")


@case("outputdir-none", ValueError, r"output folder.*folder path.*None")
def _(tmp):
    from fairtrain.experiments import OutputDir

    OutputDir(None)


@case("outputdir-json-not-serialisable", TypeError, r"a\.json.*not JSON serializable.*convert")
def _(tmp):
    from fairtrain.experiments import OutputDir

    out = OutputDir(tmp / "o")
    try:
        out.write_json("a.json", {"x": object()})
    finally:
        assert not (tmp / "o" / "a.json").exists()


# ---- the command line


@case("cli-report-bom", None, "")
def _(tmp):
    write_csv(tmp / "p.csv", "\ufeffy,pred,eth\n1,1,A\n0,0,B\n1,0,A\n0,1,B\n")
    cli("report", str(tmp / "p.csv"), "--y-true", "y", "--y-pred", "pred", "--group", "eth")


@case("cli-report-not-utf8", CLIError, r"p\.csv.*(UTF-8|encoding).*(save|convert|re-?encode)")
def _(tmp):
    write_csv(tmp / "p.csv", "y,pred,eth\n1,1,Bé\n0,0,A\n".encode("latin-1"))
    cli("report", str(tmp / "p.csv"), "--y-true", "y", "--y-pred", "pred", "--group", "eth")


@case("cli-report-duplicate-column", CLIError, r"p\.csv.*'pred'.*(twice|duplicate).*rename")
def _(tmp):
    write_csv(tmp / "p.csv", "y,pred,pred,eth\n1,1,0,A\n0,0,1,B\n")
    cli("report", str(tmp / "p.csv"), "--y-true", "y", "--y-pred", "pred", "--group", "eth")


@case("cli-report-average-with-accuracy", CLIError,
      r"--average.*accuracy.*(recall|precision)")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", "pred",
        "--group", "eth", "--metric", "accuracy", "--average", "macro")


@case("cli-report-missing-file", CLIError, (r"nothere\.csv", "does not exist|no such file"))
def _(tmp):
    cli("report", str(tmp / "nothere.csv"), "--y-true", "y", "--y-pred", "p", "--group", "g")


@case("cli-report-missing-column", CLIError, r"no column.*'age'.*columns are")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "age", "--y-pred", "pred",
        "--group", "eth")


@case("cli-report-empty-csv", CLIError, r"p\.csv.*no rows")
def _(tmp):
    write_csv(tmp / "p.csv", "y,pred,eth\n")
    cli("report", str(tmp / "p.csv"), "--y-true", "y", "--y-pred", "pred", "--group", "eth")


@case("cli-report-y-pred-empty", CLIError, r"--y-pred.*names no column")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", ",",
        "--group", "eth")


@case("cli-report-min-count-zero", CLIError, r"--min-count.*(at least 1|>= 1|positive).*0")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", "pred",
        "--group", "eth", "--min-count", "0")


@case("cli-plugins-kind-unknown", CLIError, r"--kind.*invalid choice.*'metric'.*'metrics'")
def _(tmp):
    cli("plugins", "--kind", "metric")


@case("cli-report-metric-unknown", CLIError, r"'maee'.*did you mean.*'mae'")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", "pred",
        "--group", "eth", "--metric", "maee")


@case("cli-report-seed-negative", CLIError, r"--seed.*(non-negative|at least 0|>= 0).*-1")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", "pred",
        "--group", "eth", "--bootstrap", "5", "--seed", "-1")


@case("cli-report-bootstrap-negative", CLIError, r"--bootstrap.*(at least 0|>= 0|non-negative)")
def _(tmp):
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", "pred",
        "--group", "eth", "--bootstrap", "-3")


@case("cli-report-out-a-file", CLIError, r"f\.txt.*file.*(choose|folder)")
def _(tmp):
    (tmp / "f.txt").write_text("x")
    cli("report", str(predictions_csv(tmp)), "--y-true", "y", "--y-pred", "pred",
        "--group", "eth", "--out", str(tmp / "f.txt"))


@case("cli-demo-epochs-zero", CLIError, r"--epochs.*(integer >= 1|at least 1).*0")
def _(tmp):
    cli("demo", "--out", str(tmp / "d"), "--epochs", "0")


@case("cli-demo-out-a-file", CLIError, r"f\.txt.*is a file.*choose")
def _(tmp):
    (tmp / "f.txt").write_text("x")
    cli("demo", "--out", str(tmp / "f.txt"))


@case("cli-demo-out-under-a-file", CLIError, r"f\.txt/d.*f\.txt.*(is a file|not a folder).*choose")
def _(tmp):
    (tmp / "f.txt").write_text("x")
    cli("demo", "--out", str(tmp / "f.txt" / "d"))


@case("cli-demo-out-read-only", CLIError,
      r"ro/d.*(permission|read-only).*(choose|another)")
def _(tmp):
    with read_only(tmp / "ro"):
        cli("demo", "--out", str(tmp / "ro" / "d"))


@case("cli-demo-seed-negative", CLIError, r"--seed.*(>= 0|at least 0|non-negative).*-1")
def _(tmp):
    cli("demo", "--out", str(tmp / "d"), "--seed", "-1")


@case("cli-demo-learning-rate-nan", CLIError, r"--learning-rate.*positive.*nan")
def _(tmp):
    cli("demo", "--out", str(tmp / "d"), "--learning-rate", "nan")


@case("cli-unknown-command", CLIError, r"invalid choice.*'reprot'")
def _(tmp):
    cli("reprot")


# ---- schedules: stages, staged training and its backups


@case("stage-epochs-zero", ValueError, r"`epochs`.*>= 1.*0", needs=("keras",))
def _(tmp):
    ft.Stage("head", epochs=0, learning_rate=1e-3)


@case("stage-learning-rate-string", TypeError, r"`learning_rate`.*number.*'fast'",
      needs=("keras",))
def _(tmp):
    ft.Stage("head", epochs=1, learning_rate="fast")


@case("step-decay-factor", ValueError, r"`factor`.*\(0, 1\].*0\.5", needs=("keras",))
def _(tmp):
    ft.StepDecay(0.01, factor=2.0, every=3)


@case("stage-optimizer-unknown", ValueError, ("`optimizer`='adamm'", "'adam'"), needs=("keras",))
def _(tmp):
    ft.Stage("head", epochs=1, learning_rate=1e-3, optimizer="adamm")


@case("staged-loss-unknown", ValueError, ("`loss`='msee'", "'mse'"), needs=("keras",))
def _(tmp):
    ft.StagedTraining([ft.Stage("all", epochs=1, learning_rate=1e-3)], loss="msee")


class _Stop(Exception):
    """Raised by a callback to leave a backup behind, as a killed run would."""


def _tiny_model(units: int = 1) -> Any:
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])
    return model


def _staged(model: Any, backup: Path, *, stop: bool = False) -> Any:
    import keras

    class StopAtSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise _Stop

    x = np.zeros((8, 2), "float32")
    y = np.zeros((8, model.output_shape[-1]), "float32")
    stages = [ft.Stage("all", epochs=2, learning_rate=1e-3)]
    return ft.fit_staged(model, stages, x, y, optimizer="sgd", loss="mse", verbose=0,
                         backup_dir=backup, batch_size=8,
                         callbacks=[StopAtSecondEpoch()] if stop else [])


def _left_backup(tmp: Path) -> Path:
    with contextlib.suppress(_Stop):
        _staged(_tiny_model(), tmp / "bk", stop=True)
    return tmp / "bk"


@case("staged-backup-dir-a-file", ValueError, r"backup_dir.*'.*bk'.*is a file.*(choose|folder)",
      needs=("keras",))
def _(tmp):
    (tmp / "bk").write_text("my notes")
    try:
        _staged(_tiny_model(), tmp / "bk")
    finally:
        assert (tmp / "bk").read_text() == "my notes"


@case("staged-backup-truncated-npz", ValueError,
      r"fairtrain-staged\.npz.*(truncated|corrupt|unreadable).*(delete|remove|another)",
      needs=("keras",))
def _(tmp):
    bk = _left_backup(tmp)
    npz = bk / "fairtrain-staged.npz"
    npz.write_bytes(npz.read_bytes()[:50])
    _staged(_tiny_model(), bk)


@case("staged-backup-other-architecture", ValueError,
      r"backup.*'.*bk'.*(another|different) (model|architecture).*(shape|weights).*"
      r"(another backup_dir|delete)", needs=("keras",))
def _(tmp):
    bk = _left_backup(tmp)
    _staged(_tiny_model(units=3), bk)


# ---- callbacks


def _probe(y: Any) -> Any:
    import keras

    groups = ft.Groups.from_codes(np.repeat([0, 1], 4), ["a", "b"])
    sampler = ft.sampling.Adaptive(groups, batch_size=4)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy")
    probe = ft.GroupLossProbe(np.zeros((8, 2), "float32"), y, groups, consumers=[sampler])
    probe.set_model(model)
    return probe.measure()


@case("probe-labels-out-of-range", ValueError,
      r"`y`.*label.*7.*(outside|range).*\[0, 3\).*(class|output)", needs=("keras",))
def _(tmp):
    _probe(np.array([0, 1, 2, 7, 0, 1, 2, 0]))


@case("probe-labels-too-short", ValueError, r"same length.*8.*7.*8", needs=("keras",))
def _(tmp):
    _probe(np.zeros(7, int))


@case("bias-monitor-lengths", ValueError, r"one entry per example.*y=9",
      needs=("keras",))
def _(tmp):
    ft.BiasMonitor(np.zeros((10, 2)), np.zeros(9), np.zeros(10, int))


@case("bias-monitor-kwargs-the-metric-does-not-take", TypeError,
      ("'accuracy'", "`average`", "remove"), needs=("keras",))
def _(tmp):
    ft.BiasMonitor(np.zeros((4, 2)), np.zeros(4), ["a", "a", "b", "b"], metric="accuracy",
                   metric_kwargs={"average": "macro"})


# --------------------------------------------------------------------------- running them


def verdict(c: Case, tmp: Path) -> tuple[str, str]:
    """(``clear`` | ``unclear`` | ``silent`` | ``crash``, what happened)."""
    try:
        c.call(tmp)
    except BaseException as exc:  # noqa: BLE001 - classifying is the point
        if isinstance(exc, pytest.skip.Exception):
            raise
        text = f"{type(exc).__name__}: {exc}"
        if c.raises is not None and isinstance(exc, c.raises):
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            patterns = (c.match,) if isinstance(c.match, str) else c.match
            ok = all(re.search(p, str(message), re.IGNORECASE | re.DOTALL) for p in patterns)
            return ("clear" if ok else "unclear"), text
        if isinstance(exc, (ValueError, TypeError, OSError, CLIError, ft.PluginError)):
            return "unclear", text
        return "crash", text
    return ("clear", "accepted, as it should be") if c.raises is None else (
        "silent", "no error")


def _param(c: Case) -> Any:
    marks = []
    if c.owner is not None:
        marks.append(pytest.mark.xfail(strict=False, reason=f"owned by branch {c.owner}"))
    return pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("c", [_param(c) for c in CASES])
def test_hostile_input(c: Case, tmp_path: Path) -> None:
    for module in c.needs:
        pytest.importorskip(module)
    result, text = verdict(c, tmp_path)
    assert result == "clear", f"{result}: {text}\n(wanted {c.raises} matching {c.match!r})"


def test_the_suite_is_large_and_every_id_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)


if __name__ == "__main__":  # the verdict table, with the count per verdict
    import tempfile
    from collections import Counter

    counts: Counter[str] = Counter()
    for c in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                result, text = verdict(c, Path(tmp))
            except pytest.skip.Exception as exc:
                result, text = "skipped", str(exc)
        counts[result] += 1
        print(f"{result:8} {c.id:40} {text[:300]!r}".replace("\\n", " "))
    print(dict(counts), f"total {sum(counts.values())}", file=sys.stderr)
