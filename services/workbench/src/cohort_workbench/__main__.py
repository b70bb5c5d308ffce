"""Entry point: `python -m cohort_workbench` serves; `python -m cohort_workbench migrate` only migrates."""

import asyncio
import sys

from cohort_runtime.service import migrate_only
from cohort_workbench.bootstrap import main
from cohort_workbench.config import WorkbenchSettings


def run() -> None:
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate_only(WorkbenchSettings()))  # type: ignore[call-arg]
    else:
        asyncio.run(main())


if __name__ == "__main__":
    run()
