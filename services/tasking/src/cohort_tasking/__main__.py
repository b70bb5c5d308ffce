"""Entry point: `python -m cohort_tasking`."""

import asyncio

from cohort_tasking.bootstrap import main


def run() -> None:
    asyncio.run(main())


if __name__ == "__main__":
    run()
