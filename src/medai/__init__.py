"""medai: an open-source clinical AI platform.

Importing ``medai`` is cheap: applications and optional heavy dependencies are
imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
