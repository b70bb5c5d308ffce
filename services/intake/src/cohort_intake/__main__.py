"""Entry point: `python -m cohort_intake` serves; `python -m cohort_intake migrate` only migrates."""

import asyncio
import sys

from cohort_intake.bootstrap import main
from cohort_intake.config import IntakeSettings
from cohort_runtime.service import migrate_only


def run() -> None:
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate_only(IntakeSettings()))  # type: ignore[call-arg]
    else:
        asyncio.run(main())


if __name__ == "__main__":
    run()
