"""Background work of the server: the scan queue and its workers, re-assessment, catalog crawls.

Every job goes through :class:`~containerguard.jobs.dispatch.Dispatcher`; the in-process
implementation (:mod:`.inprocess`) is the default, and a distributed queue can replace it.
"""
