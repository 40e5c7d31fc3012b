"""The cascade engine: the one set of primitives every cascade in drypowder runs.

The model's weekly cascade (:mod:`sim.cascade`), the INET fire-sale peer (:mod:`sim.validation.firesale`
via :class:`sim.contagion.DeleveragingCascade`) and the INET system-wide peer are all assembled from
these building blocks (README.md in this folder maps them to the equations):

* :mod:`~sim.engine.market` -- clearing with price impact (:func:`clear`);
* :mod:`~sim.engine.orders` -- one round's orders (:class:`OrderSheet`) and sale splitting;
* :mod:`~sim.engine.loop` -- settlement of sales (:func:`settle_sales`), the round loop
  (:class:`CascadeLoop`) and its records (:class:`RoundRecord`);
* :mod:`~sim.engine.claims` -- defaults along claims (Eisenberg-Noe :func:`clearing_vector`).
"""

from sim.engine.claims import clearing_losses, clearing_vector
from sim.engine.loop import CascadeLoop, Market, RoundRecord, Rules, settle_sales
from sim.engine.market import IMPACT_LAWS, MIN_PRICE_RATIO, Clearing, ExecutionPrice, ImpactLaw, clear, impact_factor
from sim.engine.orders import MATERIAL_BN, OrderSheet, OutsideFlows, pecking_order_sale, pro_rata_sale

__all__ = [
    "CascadeLoop", "Clearing", "ExecutionPrice", "IMPACT_LAWS", "ImpactLaw", "MATERIAL_BN", "MIN_PRICE_RATIO", "Market",
    "OrderSheet", "OutsideFlows", "RoundRecord", "Rules", "clear", "clearing_losses", "clearing_vector",
    "impact_factor", "pecking_order_sale", "pro_rata_sale", "settle_sales",
]
