"""Example fairtrain plugins: one object for every registry kind.

Nothing here is imported by fairtrain until a user asks for it by name, e.g.
``fairtrain.registry.get("metrics", "median_absolute_error")``.
"""

__version__ = "0.1.0"
