"""Loss weights over groups: static schemes and group DRO.

- Static schemes (:mod:`fairtrain.weighting.schemes`): :func:`group_weights`,
  :func:`sample_weights` and :func:`class_weight` over any :class:`~fairtrain.Groups`,
  intersectional too, with the built-in schemes :func:`balanced`
  (``N / (k · n_g)``), :func:`inverse`, :func:`sqrt_inverse`, :func:`effective_number`
  and :func:`reweighing`; third-party schemes are registered under the plugin kind
  ``weights``.
- :class:`GroupDRO` (:mod:`fairtrain.weighting.dro`): weights that move toward the groups
  with the highest loss during training, fed by
  :class:`~fairtrain.callbacks.GroupLossProbe`.

Imports NumPy only.
"""

from __future__ import annotations

from fairtrain.weighting.dro import GroupDRO
from fairtrain.weighting.schemes import (
    balanced,
    class_weight,
    effective_number,
    group_weights,
    inverse,
    reweighing,
    sample_weights,
    sqrt_inverse,
)

__all__ = [
    "GroupDRO",
    "balanced",
    "class_weight",
    "effective_number",
    "group_weights",
    "inverse",
    "reweighing",
    "sample_weights",
    "sqrt_inverse",
]
