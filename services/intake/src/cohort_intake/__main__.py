"""Entry point: `python -m cohort_intake`."""

import asyncio

from cohort_intake.bootstrap import main


def run() -> None:
    asyncio.run(main())


if __name__ == "__main__":
    run()
