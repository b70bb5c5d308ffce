"""Entry point: `python -m cohort_qa`."""

import asyncio

from cohort_qa.bootstrap import main


def run() -> None:
    asyncio.run(main())


if __name__ == "__main__":
    run()
