"""Entry point: `python -m cohort_payout`."""

import asyncio

from cohort_payout.bootstrap import main


def run() -> None:
    asyncio.run(main())


if __name__ == "__main__":
    run()
