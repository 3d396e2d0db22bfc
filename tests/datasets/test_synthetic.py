from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from fairtrain.datasets import ETHNICITIES, load_images, load_vggface2, synthetic

pytest.importorskip("PIL")


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_vggface2_loads_with_chosen_shares_and_is_deterministic(tmp_path):
    out = synthetic.write_vggface2(tmp_path / "a", n_identities=50, images_per_identity=2)
    assert set(out) == {"root", "ethnicity_csv", "identity_meta"}
    ds = load_vggface2(out["root"], out["ethnicity_csv"], identity_meta=out["identity_meta"])
    assert len(ds) == 100 and ds.rejected == ()
    # 50 * (.06, .08, .80, .06) = 3, 4, 40, 3 identities
    assert ds.groups("ethnicity").counts.tolist() == [6, 8, 80, 6]
    assert set(ds.columns["gender"]) <= {"male", "female"}
    x = load_images(ds.paths[:3])
    assert x.shape == (3, 32, 32, 3) and x.min() >= 0 and x.max() <= 1
    again = synthetic.write_vggface2(tmp_path / "b", n_identities=50, images_per_identity=2)
    assert _digest(Path(out["root"]).parent) == _digest(Path(again["root"]).parent)
    other = synthetic.write_vggface2(tmp_path / "c", n_identities=50, images_per_identity=2,
                                     seed=1)
    assert _digest(Path(out["root"]).parent) != _digest(Path(other["root"]).parent)


def test_vggface2_custom_shares_keep_every_group(tmp_path):
    out = synthetic.write_vggface2(tmp_path, n_identities=10, images_per_identity=1,
                                   shares=(0.01, 0.01, 0.97, 0.01), size=16)
    ds = load_vggface2(out["root"], out["ethnicity_csv"])
    assert ds.groups("ethnicity").counts.tolist() == [1, 1, 7, 1]
    assert load_images(ds.paths[:1], size=(16, 16)).shape == (1, 16, 16, 3)


def test_rewrite_same_arguments_is_a_no_op_and_foreign_folders_are_refused(tmp_path):
    out = synthetic.write_vggface2(tmp_path / "d", n_identities=4, images_per_identity=1)
    before = _digest(tmp_path / "d")
    assert synthetic.write_vggface2(tmp_path / "d", n_identities=4, images_per_identity=1) == out
    assert _digest(tmp_path / "d") == before
    with pytest.raises(FileExistsError, match="never overwrites"):
        synthetic.write_vggface2(tmp_path / "d", n_identities=5, images_per_identity=1)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError):
        synthetic.write_vggface2(tmp_path / "mine")
    assert (tmp_path / "mine" / "keep.txt").read_text() == "user data"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"shares": (0.5, 0.5)}, "4 non-negative"),
    ({"shares": (0.5, 0.5, 0.5, -0.5)}, "non-negative"),
    ({"n_identities": 0}, "`n_identities` must be an int >= 1; got n_identities=0"),
    ({"size": 4}, "`size` must be an int >= 8; got size=4 .* pixels"),
])
def test_vggface2_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic.write_vggface2(tmp_path, **kwargs)


@pytest.mark.parametrize("flag", ["False", 0, None])
def test_utkface_malformed_flag_must_be_a_bool(tmp_path, flag):
    # "False" is truthy: the malformed names were written all the same
    with pytest.raises(TypeError, match="`malformed` must be True or False"):
        synthetic.write_utkface(tmp_path / "u", n=5, malformed=flag)
    assert not (tmp_path / "u").exists()


def test_minority_patterns_are_fainter_and_closer():
    styles = synthetic.ETHNICITY_STYLES
    major = ETHNICITIES.index("Latin/Caucasian")
    assert all(styles[major].amplitude > s.amplitude for i, s in enumerate(styles) if i != major)
    minorities = [s for i, s in enumerate(styles) if i != major]
    for style in minorities:  # each minority's stripes are nearer another minority's
        nearest = min(abs(style.angle - other.angle) for other in minorities if other != style)
        assert nearest < abs(style.angle - styles[major].angle)


def test_render_is_deterministic_and_shows_the_grating():
    a = synthetic.render([synthetic.ETHNICITY_STYLES[2]], np.random.default_rng(0))
    b = synthetic.render([synthetic.ETHNICITY_STYLES[2]], np.random.default_rng(0))
    assert a.dtype == np.uint8 and a.shape == (32, 32, 3) and np.array_equal(a, b)


def test_too_few_identities_for_every_group_is_an_error(tmp_path):
    # 3 identities cannot give each of 4 groups one: the writer used to drop a group
    with pytest.raises(ValueError, match=r"with a positive share \(4\); got n_identities=3"):
        synthetic.write_vggface2(tmp_path / "v", n_identities=3, images_per_identity=1)
    with pytest.raises(ValueError, match=r"with a positive share \(5\); got n=4"):
        synthetic.write_utkface(tmp_path / "u", n=4)
    assert not (tmp_path / "v").exists() and not (tmp_path / "u").exists()
    out = synthetic.write_vggface2(tmp_path / "w", n_identities=4, images_per_identity=1)
    ds = load_vggface2(out["root"], out["ethnicity_csv"])
    assert ds.groups("ethnicity").counts.tolist() == [1, 1, 1, 1]
