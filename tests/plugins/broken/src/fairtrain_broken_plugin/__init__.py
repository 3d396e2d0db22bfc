"""A plugin whose import fails, as a real one with a missing dependency would."""

import fairtrain_dependency_that_does_not_exist  # noqa: F401


def broken_metric(y_true, y_pred):
    """Never reached."""
    return 0.0
