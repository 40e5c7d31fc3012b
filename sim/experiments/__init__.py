"""Experiments at scale: ``drypowder mc | sweep | sensitivity`` (docs/experiments.md).

A layered package: each module imports only the ones above it in this list, never one below, and
nothing here imports :mod:`sim.cli`.

* :mod:`~sim.experiments.errors`: :class:`SpecError`, a bad spec or option (exit status 2).
* :mod:`~sim.experiments.options`: the command-line options of the three commands.
* :mod:`~sim.experiments.workers`: worker processes: thread limits, early start, parent watch.
* :mod:`~sim.experiments.seeds`: seeds spawned with ``numpy.random.SeedSequence``.
* :mod:`~sim.experiments.tasks`: one task, one simulation, one result row.
* :mod:`~sim.experiments.specs`: the sweep and sensitivity spec models and their designs.
* :mod:`~sim.experiments.prepare`: a spec read, checked against its base config, and sized.
* :mod:`~sim.experiments.store`: the run folder on disk: part files, lock, manifest, tables.
* :mod:`~sim.experiments.executors`: in-process, process pool or Dask; rows as runs finish.
* :mod:`~sim.experiments.stats`: Wilson intervals, quantiles, tails, convergence, indices.
* :mod:`~sim.experiments.plots`: figures (matplotlib).
* :mod:`~sim.experiments.campaign`: the loop that runs tasks into the store, and its interruptions.
* :mod:`~sim.experiments.finalize`: tables, reports and figures of a finished campaign.
* :mod:`~sim.experiments.commands`: ``cmd_mc``, ``cmd_sweep``, ``cmd_sensitivity``.

This file imports nothing, so that the command line can load :mod:`options` and
:mod:`workers` without the model, numpy or pandas.
"""
