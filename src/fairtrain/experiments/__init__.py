"""The application layer: ``fairtrain demo`` and the example scripts.

Built on the public library only (nothing in :mod:`fairtrain` imports this package):
output folders that record what they hold (:class:`OutputDir`), sampled and staged
training runs, summaries in Markdown and HTML, the small models of the examples
(:mod:`fairtrain.experiments.models`) and the demo (:mod:`fairtrain.experiments.demo`).
Heavy dependencies (Keras, TensorFlow, matplotlib) are imported inside the functions
that need them. Its errors speak the library's terms; the command line
(:mod:`fairtrain.cli`) translates them into its flags.
"""

from __future__ import annotations

from fairtrain.experiments.arguments import (
    add_example_arguments,
    check_installed,
    example_settings,
    positive_int,
    resolve_example_arguments,
)
from fairtrain.experiments.output import MANIFEST, OutputDir, OutputError, to_jsonable
from fairtrain.experiments.summaries import (
    classification_summary,
    clustered_wilson_interval,
    html_report,
    markdown_table,
    wilson_interval,
)
from fairtrain.experiments.training import (
    fit_sampled,
    fit_staged_sampled,
    history_to_dict,
    lowest_val_loss_epoch,
    predict,
)

__all__ = [
    "MANIFEST",
    "OutputDir",
    "OutputError",
    "add_example_arguments",
    "check_installed",
    "classification_summary",
    "clustered_wilson_interval",
    "example_settings",
    "fit_sampled",
    "fit_staged_sampled",
    "history_to_dict",
    "html_report",
    "lowest_val_loss_epoch",
    "markdown_table",
    "positive_int",
    "predict",
    "resolve_example_arguments",
    "to_jsonable",
    "wilson_interval",
]
