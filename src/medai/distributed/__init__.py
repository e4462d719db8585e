"""Scale-out adapters: Ray Data batch scoring, Ray Train training, resumable partitioned output.

Nothing here imports Ray at module import time; the functions that need it import it lazily and
say to install the ``distributed`` extra when it is missing. The live path's scale-out (patient
partitioned streaming) lives in :mod:`medai.service.partitioning`.
"""
