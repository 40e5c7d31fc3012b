"""The live view: ``drypowder viz [CONFIG]`` serves a page, built on Mesa's ``SolaraViz``, that runs
the model in the browser: the network of claims, the pool, yields, spreads and prices, cascades
replayed round by round, agents inspected, a second run compared, the view saved as a run folder.

Layers, each importing only those above it:

* :mod:`sim.viz.params`: the parameters a user sets and their checks against the config schema;
* :mod:`sim.viz.headroom`: every agent's distance to the limit that forces it to sell;
* :mod:`sim.viz.live_model`: :class:`~sim.viz.live_model.LiveModel`, the model plus its history;
* :mod:`sim.viz.network_view`, :mod:`sim.viz.charts`, :mod:`sim.viz.agent_view`,
  :mod:`sim.viz.export`: what the panels show, as plain data (tested without a browser);
* :mod:`sim.viz.state`, :mod:`sim.viz.panels`, :mod:`sim.viz.page`: the Solara page;
* :mod:`sim.viz.app`: the module the server runs; :mod:`sim.viz.server`: ``drypowder viz``.

This package's own import is light (the command line imports :mod:`sim.viz.server` from it);
the browser stack is imported by :mod:`sim.viz.page` and :mod:`sim.viz.app`.
"""
