"""fairtrain's benchmark suite: ``python -m benchmarks --suite NAME|all [--quick|--tiny]``.

Suites: ``samplers`` (tf.data pipelines), ``metrics`` (bias_report vs fairlearn, Groups vs
pandas), ``scaling`` (planning time and memory in N and the number of groups),
``training`` (``model.fit`` throughput on real Keras applications, any backend),
``streaming`` (a bias report over N examples streamed through ``evaluate`` against
``model.predict`` + ``bias_report`` or fairlearn, time and peak memory). Every
speed is a ratio to a baseline measured in the same run, methods interleaved, median and
min-max over repetitions. See ``benchmarks/README.md`` for how to read the tables.
"""

SUITES = ("samplers", "metrics", "scaling", "training", "streaming")
