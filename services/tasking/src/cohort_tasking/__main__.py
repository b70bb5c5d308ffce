"""Entry point: `python -m cohort_tasking` serves; `python -m cohort_tasking migrate` only migrates."""

import asyncio
import sys

from cohort_runtime.service import migrate_only
from cohort_tasking.bootstrap import main
from cohort_tasking.config import TaskingSettings


def run() -> None:
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate_only(TaskingSettings()))  # type: ignore[call-arg]
    else:
        asyncio.run(main())


if __name__ == "__main__":
    run()
