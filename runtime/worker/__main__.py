"""``python -m cog.runtime.worker``: one worker process (cog.runtime.worker._process)."""

from cog.runtime.worker._process import main

main()
