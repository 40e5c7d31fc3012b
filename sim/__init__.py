"""drypowder: the AI-capex liquidity cycle as an agent-based model.

``sim.DryPowderModel`` is the model; the building blocks live in submodules (``sim.liquidity``,
``sim.engine``, ``sim.cascade``, ``sim.contagion``, ...). The model is imported lazily so that the
command line can validate input before paying for Mesa's import.
"""

__all__ = ["DryPowderModel", "load_config"]


def __getattr__(name: str):
    if name == "DryPowderModel":
        from sim.model import DryPowderModel
        return DryPowderModel
    if name == "load_config":
        from sim.config import load_config
        return load_config
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
