"""Worker process: ``python -m services.evaluation.worker``."""
from shared.service import run_worker

from services.evaluation.service import SPEC


def main() -> None:
    run_worker(SPEC)


if __name__ == "__main__":
    main()
