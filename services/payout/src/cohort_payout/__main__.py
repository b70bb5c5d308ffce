"""Entry point: `python -m cohort_payout` serves; `python -m cohort_payout migrate` only migrates."""

import asyncio
import sys

from cohort_payout.bootstrap import main
from cohort_payout.config import PayoutSettings
from cohort_runtime.service import migrate_only


def run() -> None:
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate_only(PayoutSettings()))  # type: ignore[call-arg]
    else:
        asyncio.run(main())


if __name__ == "__main__":
    run()
