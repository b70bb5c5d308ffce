"""Entry point: `python -m cohort_qa` serves; `python -m cohort_qa migrate` only migrates."""

import asyncio
import sys

from cohort_qa.bootstrap import main
from cohort_qa.config import QASettings
from cohort_runtime.service import migrate_only


def run() -> None:
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate_only(QASettings()))  # type: ignore[call-arg]
    else:
        asyncio.run(main())


if __name__ == "__main__":
    run()
