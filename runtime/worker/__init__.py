"""The worker side of the pipe: the process that imports the model and runs it.

``python -m cog.runtime.worker`` (``__main__.py``) is what the supervisor starts
(``cog.runtime._spawn``), fresh, never forked from the server. Everything in this package
runs in that process, on the model's ``sys.path``: it imports only the SDK, the standard
library and the two modules both sides share (``cog.runtime._messages``, what the pipe
carries, and ``cog.runtime._pipe``, how). The supervisor's side of each worker is
``cog.runtime._worker_proxy``.

- ``_process``: the process's life: import the model, ``setup()``, then the control loop
- ``_runners``: each job, sync models on the main thread, async ones on asyncio
- ``_capture``: stdout/stderr captured at the descriptor level as logs
- ``_encode``: outputs as JSON-ready values, files marked for the supervisor
- ``_weights``: the weights ``setup()`` asks for
- ``_concurrency``: the model's ``@concurrent(max=N)``
"""
